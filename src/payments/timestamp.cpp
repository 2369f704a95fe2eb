#include "payments/timestamp.h"

#include <chrono>
#include <cstdio>

#include "check.h"

namespace payments {
namespace {

constexpr size_t formatted_chars = 24;
constexpr int fraction_digits_max = 9;

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

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_ms(int64_t epoch_ms) {
  CREBITO_ASSERT(epoch_ms >= 0);
  const time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  const int millis = static_cast<int>(epoch_ms % 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const int n =
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                    utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  CREBITO_ASSERT(n == static_cast<int>(formatted_chars));
  return std::string(text, formatted_chars);
}

std::optional<int64_t> parse_timestamp_ms(std::string_view text, Bound bound) {
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
  int64_t result = seconds * 1000 + millis;
  // [12.3456, ...] starts after 12.345: the first whole millisecond inside is 12.346.
  if (finer_than_ms && bound == Bound::from) ++result;
  return result;
}

}  // namespace payments
