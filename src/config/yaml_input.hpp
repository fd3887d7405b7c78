// The configuration file before its keys mean anything: its bytes, read so
// that whatever the path names the read ends (a directory, a device or a
// pipe that nobody writes are errors, not a hang), and its YAML tree,
// checked for what the loader cannot take (a key that is a list or a
// mapping, a key given twice, more entries than any real configuration
// has). Each problem is a ConfigError with FILE:LINE:COL.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

namespace avmon {

// A pipe (`-c <(envsubst < tpl.yaml)`) that delivers nothing for this long
// is abandoned.
inline constexpr double kConfigPipeWaitS = 5;
// Larger than any configuration avmon could mean (every option of every
// detector is a few kB).
inline constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;
// libavformat and its protocols have a few hundred options in all.
inline constexpr std::size_t kMaxInputOptions = 1000;

// FILE:LINE:COL of a mark (FILE alone when the mark is unknown).
std::string yaml_position(const std::string& file, const YAML::Mark& mark);

// The bytes of `path`: a regular file, or a pipe within kConfigPipeWaitS.
std::string read_config_text(const std::string& path);

// Parses `text` (YAML syntax errors name the position) and checks the tree.
YAML::Node parse_config_yaml(const std::string& text, const std::string& path);

}  // namespace avmon
