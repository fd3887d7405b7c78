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
#include "config/decode_mode.hpp"
#include "pipeline/engine.hpp"
#include "pipeline/registry.hpp"
#include "transport/options.hpp"

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
  // Live inputs (see docs/live-inputs.md).
  double signal_loss_timeout_s = 2;   // wall-clock time without decoded media
  std::string reconnect = "auto";     // auto: live inputs forever, files never; never
  int reconnect_max_attempts = 0;     // consecutive failed attempts before giving up; 0 = forever
  double reconnect_initial_delay_s = 0.5;
  double reconnect_max_delay_s = 10;
  // MPEG-TS: the service to monitor (program number or service name; empty:
  // the first with video) and the transport analysis (section `transport`).
  std::string program;
  TransportConfig transport;
  int scte35_pid = 0;                 // SCTE-35 PID when the PMT does not announce it; 0: from the PMT
  DecodeConfig decode;                // section `decode`: how much of the video is decoded
};

struct PipelineConfig {
  int threads = 0;                    // detector worker threads; 0 = one per core
  int queue_frames = 16;              // in-flight frames per detector
  int detector_max_failures = 10;     // failed calls in a row before a detector is disabled
  double lag_warn_s = 2;              // live: detector_lagging beyond this (media time)
  double max_lag_s = 10;              // live: a detector this far behind is isolated
  double drain_timeout_s = 2;         // live: at the end, wait this long for busy detectors
};

struct DetectorConfig {
  const DetectorInfo* info = nullptr;
  Options options;                    // every declared option, validated
  bool enabled = true;
  DefectPolicy policy;
};

// The operator's surface (docs/operations.md).
struct HttpConfig {
  std::string listen;                 // ADDR:PORT; empty: no HTTP server (or --http)
  std::string public_url;             // prefix of thumbnail URLs in events; empty: a path only
  std::string api_token;              // bearer token of the mutating alarm API; empty: changes refused
  bool api_read_token = false;        // the API's GETs need the token too
};

struct NotifiersConfig {
  int queue_size = 1000;              // events held in memory per notifier
  double initial_backoff_s = 0.5;
  double max_backoff_s = 30;
  double drain_timeout_s = 10;        // at exit
  std::string spool_dir;              // empty: no spool
  std::string ca_file;                // PEM CAs for https receivers; empty: the system's
  struct {
    std::string url, secret;
    double timeout_s = 10;
    bool paging = true;               // masked, flapping and handed-over lines are not sent
  } webhook;
  struct {
    std::string url;
    double resend_interval_s = 60;
    double timeout_s = 10;
  } alertmanager;
  struct {
    std::string host;                 // empty: no MQTT
    int port = 1883;
    std::string topic_prefix = "avmon", client_id, username, password;
    int keepalive_s = 30;
  } mqtt;
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
  Options expect;                     // the expect: section (every key; unset ones at their defaults)
  Options scte35;                     // the scte35: section (transport extension scte35)
  Options subtitles;                  // the subtitles: section (transport extension subtitles)
  Options evidence;                   // the evidence: section (src/evidence: clips around alarms)
  HttpConfig http;
  NotifiersConfig notifiers;
  AlarmsConfig alarms;                // section alarms (src/alarms)
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

// "a, b, c": the names an error message or a help text lists.
std::string known_list(const std::vector<std::string>& names);

}  // namespace avmon
