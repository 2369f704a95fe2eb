// requestedAt and the summary bounds (src/payments/timestamp.h): the wire format, millisecond
// parsing with and without a fraction, and bounds that stay inclusive at millisecond precision.
#include "payments/timestamp.h"

#include <catch2/catch.hpp>

using payments::Bound;
using payments::parse_timestamp_ms;

TEST_CASE("format and parse agree to the millisecond", "[unit][payments][timestamp]") {
  CHECK(payments::format_ms(0) == "1970-01-01T00:00:00.000Z");
  const int64_t t = 1'752'582'896'789;  // 2025-07-15T12:34:56.789Z
  CHECK(payments::format_ms(t) == "2025-07-15T12:34:56.789Z");
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.789Z", Bound::from) == t);
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.789Z", Bound::to) == t);
  for (int64_t ms = t - 5; ms < t + 5; ++ms) {
    CHECK(parse_timestamp_ms(payments::format_ms(ms), Bound::to) == ms);
  }
}

TEST_CASE("a bound without fraction, or with fewer digits, is whole milliseconds",
          "[unit][payments][timestamp]") {
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56Z", Bound::from) == 1'752'582'896'000);
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.7Z", Bound::from) == 1'752'582'896'700);
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.78Z", Bound::to) == 1'752'582'896'780);
}

TEST_CASE("a bound finer than a millisecond rounds inward, keeping the range inclusive",
          "[unit][payments][timestamp]") {
  // [.7891, .7899] holds no whole millisecond: from rounds up to .790, to down to .789.
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.7891Z", Bound::from) == 1'752'582'896'790);
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.7899Z", Bound::to) == 1'752'582'896'789);
  CHECK(parse_timestamp_ms("2025-07-15T12:34:56.789000Z", Bound::from) == 1'752'582'896'789);
}

TEST_CASE("unparsable bounds are refused", "[unit][payments][timestamp]") {
  for (const char* text :
       {"", "yesterday", "2025-07-15", "2025-07-15T12:34:56", "2025-07-15T12:34:56.Z",
        "2025-07-15 12:34:56Z", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
        "2025-07-15T24:00:00Z", "2025-07-15T12:34:56.1234567890Z", "2025-07-15T12:34:56+00:00",
        "1969-12-31T23:59:59Z", "2025-07-15T12:34:56.789Zjunk"}) {
    INFO(text);
    CHECK_FALSE(parse_timestamp_ms(text, Bound::from));
  }
  CHECK(parse_timestamp_ms("2024-02-29T00:00:00Z", Bound::from));
}
