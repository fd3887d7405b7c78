// The `reports:` configuration section (docs/reports.md).
#pragma once

#include <string>
#include <vector>

#include "avmon/options.hpp"
#include "reports/presets.hpp"

namespace avmon {
struct Config;
}

namespace avmon::reports {

const std::vector<OptionSpec>& options();
// The reports: section as load_config() last read it, defaults included
// (one configuration per process, like the monitor it configures).
const Options& settings();
void set_setting(const std::string& key, OptionValue value);
// The preset segments are judged against: reports.preset, else the loudness
// detector's (custom: its target_lufs).
LoudnessPreset report_preset(const Config& cfg);

}  // namespace avmon::reports
