// Text that leaves the process is valid UTF-8 whatever bytes came in: names
// and paths from the outside are made valid once, where they enter
// (valid_utf8), and every JSON document is written with to_json_text, which
// replaces what is not UTF-8 instead of throwing.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace avmon {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD (one per maximal
// invalid subpart, as Unicode recommends); valid input comes back unchanged.
std::string valid_utf8(std::string_view s);

// The JSON text of `j` (compact, or indented by `indent` spaces); strings
// that are not UTF-8 get U+FFFD where nlohmann::json::dump would throw.
std::string to_json_text(const nlohmann::json& j, int indent = -1);

}  // namespace avmon
