// Configuration: one YAML file (optional) plus AVMON_* environment overrides,
// validated against option tables declared as data: the core's own sections
// below and every detector's DetectorInfo::options. An unknown key, a wrong
// type or an out-of-range value is a ConfigError naming the key and
// FILE:LINE:COL (exit status 2).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "avmon/options.hpp"
#include "pipeline/engine.hpp"
#include "pipeline/registry.hpp"

namespace avmon {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct InputConfig {
  std::string url;
  bool realtime = false;              // pace a file at its native rate
  double open_timeout_s = 10;
  double read_timeout_s = 10;
  std::map<std::string, std::string> av_options;  // passed to libavformat as-is
};

struct PipelineConfig {
  int threads = 0;                    // detector worker threads; 0 = one per core
  int queue_frames = 16;              // in-flight frames per detector
};

struct DetectorConfig {
  const DetectorInfo* info = nullptr;
  Options options;                    // every declared option, validated
  bool enabled = true;
  DefectPolicy policy;
};

struct Config {
  std::string source = "(defaults)";  // the file it came from
  std::string stream_name;            // empty: derived from the input
  InputConfig input;
  PipelineConfig pipeline;
  std::string events_path;            // empty: none unless --events
  std::string log_level = "info";
  std::string log_format = "text";
  std::vector<std::string> plugins;
  std::vector<DetectorConfig> detectors;  // one per registered detector, by name

  const DetectorConfig* detector(const std::string& name) const;
};

// Option tables of the core's own sections, for validation and for
// `avmon detectors` / the generated default.yaml.
struct SectionSpec {
  std::string name;
  std::string help;
  std::vector<OptionSpec> options;
};
const std::vector<SectionSpec>& core_sections();

// Reads `path` (empty: defaults only), loads the plugins it names into
// `registry`, and applies AVMON_<SECTION>__<KEY>[__<KEY>] variables from
// `environ_vars` ("NAME=value" strings; nullptr-terminated like environ).
Config load_config(const std::string& path, DetectorRegistry& registry, char** environ_vars);

// A documented YAML file with every option at its default.
std::string default_config_yaml(const DetectorRegistry& registry);

// Help for `avmon detectors`.
std::string describe_detectors(const DetectorRegistry& registry);

std::string format_option_value(const OptionValue& v);

}  // namespace avmon
