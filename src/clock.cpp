#include "clock.h"

#include <cstdio>
#include <ctime>

#include "check.h"

namespace clocks {
namespace {

constexpr int64_t us_per_ms = 1000;
constexpr int64_t ms_per_s = 1000;
constexpr int64_t us_per_s = 1'000'000;
constexpr int64_t ns_per_us = 1000;
constexpr int fraction_digits_max = 9;
constexpr int iso_ms_chars = 24;
constexpr int iso_us_chars = 27;

int64_t read_us(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * us_per_s + ts.tv_nsec / ns_per_us;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int64_t m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `count` digits at text[*at]; false if any is not a digit.
bool read_digits(std::string_view text, size_t* at, size_t count, int64_t* value) {
  if (*at + count > text.size()) return false;
  int64_t result = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[*at + i];
    if (c < '0' || c > '9') return false;
    result = result * 10 + (c - '0');
  }
  *at += count;
  *value = result;
  return true;
}

bool expect(std::string_view text, size_t* at, char c) {
  if (*at >= text.size() || text[*at] != c) return false;
  ++*at;
  return true;
}

}  // namespace

int64_t steady_ms() { return read_us(CLOCK_MONOTONIC) / us_per_ms; }
int64_t steady_us() { return read_us(CLOCK_MONOTONIC); }
int64_t steady_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * ns_per_us * us_per_s + ts.tv_nsec;
}
int64_t wall_ms() { return read_us(CLOCK_REALTIME) / us_per_ms; }
int64_t wall_us() { return read_us(CLOCK_REALTIME); }

std::string format_iso(int64_t since_epoch, Precision precision) {
  CREBITO_ASSERT(since_epoch >= 0);
  const bool in_us = precision == Precision::us;
  const int64_t per_second = in_us ? us_per_s : ms_per_s;
  const time_t seconds = static_cast<time_t>(since_epoch / per_second);
  const long fraction = static_cast<long>(since_epoch % per_second);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%0*ldZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, in_us ? 6 : 3, fraction);
  CREBITO_ASSERT(n == (in_us ? iso_us_chars : iso_ms_chars));
  return std::string(text, static_cast<size_t>(n));
}

std::optional<int64_t> parse_iso_ms(std::string_view text, Bound bound) {
  size_t at = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, &at, 4, &year) || !expect(text, &at, '-') ||
      !read_digits(text, &at, 2, &month) || !expect(text, &at, '-') ||
      !read_digits(text, &at, 2, &day) || !expect(text, &at, 'T') ||
      !read_digits(text, &at, 2, &hour) || !expect(text, &at, ':') ||
      !read_digits(text, &at, 2, &minute) || !expect(text, &at, ':') ||
      !read_digits(text, &at, 2, &second)) {
    return std::nullopt;
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  int64_t millis = 0;
  bool finer_than_ms = false;  // Non-zero digits past the third.
  if (at < text.size() && text[at] == '.') {
    ++at;
    int digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (++digits > fraction_digits_max) return std::nullopt;
      const int digit = text[at] - '0';
      if (digits <= 3) {
        millis = millis * 10 + digit;
      } else if (digit != 0) {
        finer_than_ms = true;
      }
      ++at;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  if (!expect(text, &at, 'Z') || at != text.size()) return std::nullopt;
  const int64_t seconds =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  int64_t result = seconds * ms_per_s + millis;
  // [12.3456, ...] starts after 12.345: the first whole millisecond inside is 12.346.
  if (finer_than_ms && bound == Bound::from) ++result;
  return result;
}

}  // namespace clocks
