// Numbers with units as users write them: sizes ("256MiB", "1GB", "4096")
// and durations ("30s", "5m", "1h", "250ms", "90").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pcapml {

// Parses a byte size. A bare number is bytes; suffixes k/K/KB (1000),
// KiB (1024), likewise M, G, T. Returns false and fills *err on bad input.
bool ParseBytes(std::string_view text, uint64_t* bytes, std::string* err);

// Parses a duration into nanoseconds. A bare number is seconds (may have a
// fraction); suffixes ns, us, ms, s, m/min, h, d.
bool ParseDuration(std::string_view text, int64_t* ns, std::string* err);

// "1.5 GiB", "512 B": for human-facing output only.
std::string FormatBytes(uint64_t bytes);

// Nanoseconds since the epoch as "1700000000.123456789" (tshark's
// frame.time_epoch form), exact, no floating point.
std::string FormatEpochNs(int64_t ns);

// Nanoseconds since the epoch as "2023-11-14T22:13:20.123456789Z".
std::string FormatUtcNs(int64_t ns);

// Parses an epoch time bound: an integer covers its whole second (the last
// nanosecond of it when `upper`), a fraction is exact to the nanosecond.
bool ParseEpochBound(std::string_view text, bool upper, int64_t* ns);

}  // namespace pcapml
