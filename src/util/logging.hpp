#pragma once

#include <string>

namespace avmon {

// Logs go to stderr, as text or as one JSON object per line (escaped), so a
// log shipper can parse them. Throws std::invalid_argument on a bad level.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace avmon
