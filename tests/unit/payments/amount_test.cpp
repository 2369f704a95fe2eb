// Amounts on the wire (src/payments/amount.h): read from the JSON number's text into exact integer
// cents, never through a float, and written back with exactly two decimals.
#include "payments/amount.h"

#include <catch2/catch.hpp>

#include "crebito_limits.h"

TEST_CASE("amounts become exact integer cents", "[unit][payments][amount]") {
  CHECK(payments::parse_amount_cents("20.05") == 2005);
  CHECK(payments::parse_amount_cents("19.9") == 1990);
  CHECK(payments::parse_amount_cents("0.01") == 1);
  CHECK(payments::parse_amount_cents("7") == 700);
  CHECK(payments::parse_amount_cents("90071992547409.91") == limits::payment_cents_max);
}

TEST_CASE("amounts outside the rules are refused", "[unit][payments][amount]") {
  for (const char* text : {"", "0", "0.00", "-1", "+1", "1.234", "1.", ".5", "1e2", "1E2", "abc",
                           "1.5x", "90071992547409.92", "99999999999999999999"}) {
    INFO(text);
    CHECK_FALSE(payments::parse_amount_cents(text));
  }
}

TEST_CASE("cents are written with exactly two decimals", "[unit][payments][amount]") {
  CHECK(payments::format_amount_cents(2005) == "20.05");
  CHECK(payments::format_amount_cents(7) == "0.07");
  CHECK(payments::format_amount_cents(1990) == "19.90");
  CHECK(payments::format_amount_cents(0) == "0.00");
  CHECK(payments::format_amount_cents(limits::payment_cents_max) == "90071992547409.91");
  for (const int64_t cents : {int64_t{1}, int64_t{10}, int64_t{99}, int64_t{100}, int64_t{12345}}) {
    INFO(cents);
    CHECK(payments::parse_amount_cents(payments::format_amount_cents(cents)) == cents);
  }
}
