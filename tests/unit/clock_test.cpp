// Time on the wire (src/clock.h): the ledger's microsecond and the payments face's millisecond
// format, millisecond parsing with and without a fraction, bounds that stay inclusive at
// millisecond precision, and the two clocks.
#include "clock.h"

#include <catch2/catch.hpp>

using clocks::Bound;
using clocks::format_iso;
using clocks::parse_iso_ms;
using clocks::Precision;

TEST_CASE("format and parse agree to the millisecond", "[unit][clock]") {
  CHECK(format_iso(0, Precision::ms) == "1970-01-01T00:00:00.000Z");
  const int64_t t = 1'752'582'896'789;  // 2025-07-15T12:34:56.789Z
  CHECK(format_iso(t, Precision::ms) == "2025-07-15T12:34:56.789Z");
  CHECK(parse_iso_ms("2025-07-15T12:34:56.789Z", Bound::from) == t);
  CHECK(parse_iso_ms("2025-07-15T12:34:56.789Z", Bound::to) == t);
  for (int64_t ms = t - 5; ms < t + 5; ++ms) {
    CHECK(parse_iso_ms(format_iso(ms, Precision::ms), Bound::to) == ms);
  }
}

TEST_CASE("a bound without fraction, or with fewer digits, is whole milliseconds",
          "[unit][clock]") {
  CHECK(parse_iso_ms("2025-07-15T12:34:56Z", Bound::from) == 1'752'582'896'000);
  CHECK(parse_iso_ms("2025-07-15T12:34:56.7Z", Bound::from) == 1'752'582'896'700);
  CHECK(parse_iso_ms("2025-07-15T12:34:56.78Z", Bound::to) == 1'752'582'896'780);
}

TEST_CASE("a bound finer than a millisecond rounds inward, keeping the range inclusive",
          "[unit][clock]") {
  // [.7891, .7899] holds no whole millisecond: from rounds up to .790, to down to .789.
  CHECK(parse_iso_ms("2025-07-15T12:34:56.7891Z", Bound::from) == 1'752'582'896'790);
  CHECK(parse_iso_ms("2025-07-15T12:34:56.7899Z", Bound::to) == 1'752'582'896'789);
  CHECK(parse_iso_ms("2025-07-15T12:34:56.789000Z", Bound::from) == 1'752'582'896'789);
}

TEST_CASE("unparsable bounds are refused", "[unit][clock]") {
  for (const char* text :
       {"", "yesterday", "2025-07-15", "2025-07-15T12:34:56", "2025-07-15T12:34:56.Z",
        "2025-07-15 12:34:56Z", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
        "2025-07-15T24:00:00Z", "2025-07-15T12:34:56.1234567890Z", "2025-07-15T12:34:56+00:00",
        "1969-12-31T23:59:59Z", "2025-07-15T12:34:56.789Zjunk"}) {
    INFO(text);
    CHECK_FALSE(parse_iso_ms(text, Bound::from));
  }
  CHECK(parse_iso_ms("2024-02-29T00:00:00Z", Bound::from));
}

TEST_CASE("the ledger's times carry microseconds and parse back to the millisecond",
          "[unit][clock]") {
  CHECK(format_iso(0, Precision::us) == "1970-01-01T00:00:00.000000Z");
  const int64_t t = 1'705'458'878'543'030;  // 2024-01-17T02:34:38.543030Z
  CHECK(format_iso(t, Precision::us) == "2024-01-17T02:34:38.543030Z");
  for (int64_t us = t - 1500; us < t + 1500; us += 7) {
    const std::string text = format_iso(us, Precision::us);
    CHECK(text.size() == 27);
    CHECK(text.substr(0, 23) == format_iso(us / 1000, Precision::ms).substr(0, 23));
    // to rounds down to the millisecond; from rounds up unless the time is a whole millisecond.
    CHECK(parse_iso_ms(text, Bound::to) == us / 1000);
    CHECK(parse_iso_ms(text, Bound::from) == (us + 999) / 1000);
  }
  CHECK(clocks::wall_iso_us().size() == 27);
}

TEST_CASE("the wall clock is the epoch's, the steady clock never goes back", "[unit][clock]") {
  const int64_t wall_us = clocks::wall_us();
  const int64_t wall_ms = clocks::wall_ms();
  CHECK(wall_ms >= wall_us / 1000);
  CHECK(wall_ms - wall_us / 1000 < 1000);
  CHECK(wall_ms > 1'700'000'000'000);  // After 2023-11-14.
  const int64_t steady_us = clocks::steady_us();
  const int64_t steady_ms = clocks::steady_ms();
  CHECK(steady_ms >= steady_us / 1000);
  CHECK(clocks::steady_ms() >= steady_ms);
}
