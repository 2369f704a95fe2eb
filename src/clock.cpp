#include "clock.h"

#include <cassert>
#include <cstdio>
#include <ctime>

namespace clock_utc {

int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

std::string format_us(int64_t epoch_us) {
  assert(epoch_us >= 0);
  const time_t seconds = static_cast<time_t>(epoch_us / 1'000'000);
  const long micros = static_cast<long>(epoch_us % 1'000'000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const int n =
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900,
                    utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros);
  assert(n == 27);
  return std::string(text, static_cast<size_t>(n));
}

}  // namespace clock_utc
