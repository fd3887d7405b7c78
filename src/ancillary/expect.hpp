// The stream's declared format: the `expect:` section of the configuration
// (what the operator says the stream must be) and its comparison with what
// was found. Every key is optional; a key left at its "unset" default is not
// checked. Found values are JSON (numbers, strings, a list of languages) as
// the format detector measures them and stream.summary reports them, so an
// operator can write the section from a first run (expect_yaml()).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "avmon/options.hpp"

namespace avmon::expect {

// The detector that checks the section (the configuration hands it the
// section's values as options).
inline constexpr const char* kDetector = "format";
inline constexpr const char* kDefectType = "format_mismatch";

// Keys of the section, in the order they are reported.
const std::vector<OptionSpec>& options();

// Whether `v` is the unset default of its key (nothing to check).
bool is_unset(const OptionSpec& spec, const OptionValue& v);

// Compares one key: nullopt when `found` meets `expected`, otherwise the
// found value as reported ("none" when the stream has no such property).
// `found` null means unknown or absent.
std::optional<std::string> mismatch(const std::string& key, const OptionValue& expected, const nlohmann::json& found);

// The expected value as text, for event details.
std::string to_text(const OptionValue& v);
// A found value as text ("none" for null).
std::string found_text(const nlohmann::json& found);

// An `expect:` YAML section from found values (keys with no value left out).
std::string expect_yaml(const nlohmann::json& found);

// Nearest common display aspect ratio ("16:9") within 1 %, else "w:h" reduced.
std::string aspect_ratio_name(long num, long den);

}  // namespace avmon::expect
