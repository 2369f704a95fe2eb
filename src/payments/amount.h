// Amounts on the wire of both sides of the payments face (our clients' bodies and answers, the
// processors' bodies): a JSON number with at most two decimals, such as 20.05. Inside, integer
// cents, never a float. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payments {

// The text of a JSON number to cents: digits, optionally '.' and one or two digits. nullopt for a
// sign, an exponent, more decimals, or a value outside limits::payment_cents_min..max.
std::optional<int64_t> parse_amount_cents(std::string_view text);

// Cents as a JSON number with exactly two decimals: 2005 -> "20.05", 7 -> "0.07", 0 -> "0.00".
// REQUIRES: cents >= 0.
std::string format_amount_cents(int64_t cents);

}  // namespace payments
