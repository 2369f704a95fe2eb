// requestedAt on the wire: UTC, ISO-8601, millisecond precision, 'Z' suffix
// ("2025-07-15T12:34:56.789Z"), held as milliseconds since the Unix epoch. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payments {

// Milliseconds since the epoch, now (wall clock).
int64_t now_ms();

// Always 24 characters. REQUIRES: epoch_ms >= 0.
std::string format_ms(int64_t epoch_ms);

// Which end of an inclusive range a bound closes. A bound finer than a millisecond is rounded
// inward, so the millisecond range holds exactly the instants the text range holds.
enum class Bound { from, to };

// "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" to milliseconds since the epoch; nullopt for anything else
// (including dates before 1970 and out-of-range fields). The caller answers 400.
std::optional<int64_t> parse_timestamp_ms(std::string_view text, Bound bound);

}  // namespace payments
