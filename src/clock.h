// The two clocks, and time on the wire. Thread-safe; no state.
//
// steady_*: the monotonic clock (CLOCK_MONOTONIC). For intervals, deadlines and back-offs inside
// one process; its zero is arbitrary, so its values never leave the process.
// wall_*: the wall clock (CLOCK_REALTIME), since the Unix epoch. For what is written down or sent:
// the ledger's created_at, the payments' requestedAt and acceptance times.
//
// On the wire a time is UTC ISO-8601 with a 'Z' suffix: the ledger's with microseconds
// ("2024-01-17T02:34:38.543030Z", 27 characters), the payments face's with milliseconds
// ("2025-07-15T12:34:56.789Z", 24 characters). One formatter writes both; the parser beside it
// reads a time to milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clocks {

int64_t steady_ms();
int64_t steady_us();
int64_t steady_ns();  // For latencies below a millisecond (the metrics' histograms).

int64_t wall_ms();
int64_t wall_us();

// The unit of a value since the epoch, and so the digits of its fraction on the wire.
enum class Precision {
  ms,  // 3 digits, 24 characters.
  us,  // 6 digits, 27 characters.
};

// `since_epoch` in `precision`'s unit as UTC ISO-8601. REQUIRES: since_epoch >= 0.
std::string format_iso(int64_t since_epoch, Precision precision);

// The wall clock now, as the ledger writes it (microseconds).
inline std::string wall_iso_us() { return format_iso(wall_us(), Precision::us); }

// Which end of an inclusive range a bound closes. A bound finer than a millisecond is rounded
// inward, so the millisecond range holds exactly the instants the text range holds.
enum class Bound { from, to };

// "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" to milliseconds since the epoch; nullopt for anything else
// (including dates before 1970 and out-of-range fields). The caller answers 400.
std::optional<int64_t> parse_iso_ms(std::string_view text, Bound bound);

}  // namespace clocks
