// Configuration of what the transport layer watches beside TR 101 290: the
// `scte35:` and `subtitles:` sections (declared here so that the
// configuration validates them like every other section; the transport
// extensions in detectors/scte35 and detectors/subtitles read them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "avmon/options.hpp"

namespace avmon::ancillary {

const std::vector<OptionSpec>& scte35_options();
const std::vector<OptionSpec>& subtitles_options();

// A PID written as operators write them: decimal ("1068") or hexadecimal
// ("0x42C"); nullopt unless it is one of 0..8190.
std::optional<std::uint16_t> parse_pid(const std::string& text);

// The message for a list of PIDs with one that is not a PID, or nullopt.
std::optional<std::string> pid_list_error(const std::vector<std::string>& pids);

}  // namespace avmon::ancillary
