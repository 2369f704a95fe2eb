// Turns the wire format of the payments face's requests into payments values: the JSON body of
// POST /payments and the bounds of GET /payments-summary. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace http {

struct PaymentRequest {
  std::string correlation_id;
  int64_t amount_cents = 0;
};

// {"correlationId": "<UUID>", "amount": <number>}: a UUID string (payments::valid_correlation_id)
// and a positive JSON number with at most two decimals and no exponent, read from its text, never
// through a float (payments::parse_amount_cents). Extra fields are ignored. nullopt for anything
// else (the caller answers 422).
std::optional<PaymentRequest> parse_payment_body(std::string_view body);

// An inclusive range of requestedAt, in milliseconds since the epoch.
struct SummaryRange {
  int64_t from_ms = 0;
  int64_t to_ms = std::numeric_limits<int64_t>::max();
};

// The `from` and `to` query parameters as ISO-8601 UTC times (clock.h). A missing one
// (nullopt) leaves that end open; nullopt when either is present but unparsable (the caller
// answers 400).
std::optional<SummaryRange> parse_summary_range(std::optional<std::string_view> from,
                                                std::optional<std::string_view> to);

}  // namespace http
