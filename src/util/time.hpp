#pragma once

#include <chrono>
#include <cmath>
#include <string>

namespace avmon {

// RFC 3339 UTC with milliseconds, e.g. 2026-11-26T09:45:00.123Z.
std::string rfc3339_utc(std::chrono::system_clock::time_point t);
inline std::string rfc3339_now() { return rfc3339_utc(std::chrono::system_clock::now()); }

// Media times in event lines: milliseconds are enough and keep lines stable.
inline double round_ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

}  // namespace avmon
