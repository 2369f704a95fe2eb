#include "payments/amount.h"

#include "check.h"
#include "crebito_limits.h"

namespace payments {
namespace {

// More whole digits than the largest amount has: refused before the sum could overflow.
constexpr size_t whole_digits_max = 16;
constexpr size_t fraction_digits_max = 2;

}  // namespace

std::optional<int64_t> parse_amount_cents(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > whole_digits_max) return std::nullopt;
  if (dot != std::string_view::npos &&
      (fraction.empty() || fraction.size() > fraction_digits_max)) {
    return std::nullopt;
  }
  int64_t cents = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    cents = cents * 10 + (c - '0');
  }
  for (size_t i = 0; i < fraction_digits_max; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    cents = cents * 10 + (c - '0');
  }
  if (cents < limits::payment_cents_min || cents > limits::payment_cents_max) return std::nullopt;
  return cents;
}

std::string format_amount_cents(int64_t cents) {
  CREBITO_ASSERT(cents >= 0);
  const int64_t fraction = cents % 100;
  return std::to_string(cents / 100) + (fraction < 10 ? ".0" : ".") + std::to_string(fraction);
}

}  // namespace payments
