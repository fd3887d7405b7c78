// The structured keys of the `alarms:` section (types, masks, schedules):
// lists and mappings that the flat option tables cannot declare. Errors are
// ConfigErrors with FILE:LINE:COL like every other key's.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "alarms/alarm_config.hpp"

namespace avmon {

// True when `key` of section alarms is one of these.
bool is_alarm_structure(const std::string& key);
// Reads alarms.<key> (`node`) into `cfg`.
void read_alarm_structure(AlarmsConfig& cfg, const std::string& key, const YAML::Node& node, const std::string& file);

// The commented example written under `alarms:` in default.yaml.
const char* alarm_structure_example();

}  // namespace avmon
