// Wall-clock timestamps in the wire format: UTC, ISO-8601, microseconds, 'Z' suffix
// (e.g. "2024-01-17T02:34:38.543030Z"). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace clock_utc {

// Microseconds since the Unix epoch, now.
int64_t now_us();

// Formats microseconds since the epoch; always 27 characters.
std::string format_us(int64_t epoch_us);

inline std::string now_iso() { return format_us(now_us()); }

}  // namespace clock_utc
