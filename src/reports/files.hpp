// Report files are replaced whole: written beside their final name and
// renamed over it, so a reader never sees half a table and a failed write
// leaves the previous version. Every step is checked.
#pragma once

#include <string>

namespace avmon::reports {

// Writes `content` to `path`; returns what went wrong ("cannot write
// PATH: why"), empty on success.
std::string write_file(const std::string& path, const std::string& content);

}  // namespace avmon::reports
