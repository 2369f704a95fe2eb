// The rules a credit or debit request must satisfy before it reaches the database
// (docs/API.md, "POST /clientes/{id}/transacoes"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ledger {

enum class Kind : char { credit = 'c', debit = 'd' };

struct TransactionRequest {
  int64_t amount_cents = 0;
  Kind kind = Kind::credit;
  std::string description;
};

// 1 <= amount <= limits::amount_cents_max.
bool amount_valid(int64_t amount_cents);

// Exactly "c" or "d".
std::optional<Kind> parse_kind(std::string_view text);

// The number of code points in text, or nullopt if text is not valid UTF-8 (overlong forms,
// surrogates and values above U+10FFFF are invalid).
std::optional<size_t> utf8_code_points(std::string_view text);

// Valid UTF-8 of 1 to 10 code points.
bool description_valid(std::string_view text);

// All of the above.
bool request_valid(const TransactionRequest& request);

}  // namespace ledger
