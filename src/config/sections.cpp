// The core's option tables (what each section of the configuration may
// hold) and the texts written from them and from the detectors' tables: the
// generated default.yaml and the help of `avmon detectors`. Reading a
// configuration against these tables is config.cpp's job.
#include "config/config.hpp"

#include <cmath>
#include <sstream>

#include "ancillary/expect.hpp"
#include "ancillary/ts_watch_options.hpp"
#include "config/alarms_yaml.hpp"
#include "evidence/options.hpp"
#include "reports/options.hpp"
#include "util/numbers.hpp"

namespace avmon {

namespace {

const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

std::string spec_comment(const OptionSpec& o) {
  std::ostringstream s;
  s << o.help;
  if (!o.unit.empty()) s << " [" << o.unit << "]";
  if (o.min || o.max)
    s << " (range " << (o.min ? format_option_value(*o.min) : "-inf") << " .. "
      << (o.max ? format_option_value(*o.max) : "inf") << ")";
  if (!o.choices.empty()) s << " (one of: " << known_list(o.choices) << ")";
  return s.str();
}

}  // namespace

std::string known_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

const std::vector<SectionSpec>& core_sections() {
  static const std::vector<SectionSpec> sections = {
      {"stream", "the monitored stream",
       {{"name", OptionType::String, std::string(), {}, {}, "",
         "stream name carried by every event (default: derived from the input URL)", {}}}},
      {"expect",
       "the format the stream must have (any key may be left out); a difference is a format_mismatch defect "
       "(detector 'format'). `avmon run --print-expect` prints this section as found",
       expect::options()},
      {"input", "where media comes from",
       {{"url", OptionType::String, std::string(), {}, {}, "", "input URL or file (or --input)", {}},
        {"realtime", OptionType::Bool, false, {}, {}, "", "pace a file at its native rate (or --realtime)", {}},
        {"open_timeout_s", OptionType::Double, 10.0, 0.1, 3600.0, "s", "give up opening the input after this long", {}},
        {"read_timeout_s", OptionType::Double, 10.0, 0.1, 3600.0, "s",
         "a blocking read of a live input is abandoned after this long (and a live input that decodes "
         "nothing for this long is reopened)", {}},
        {"signal_loss_timeout_s", OptionType::Double, 2.0, 0.1, 3600.0, "s",
         "live input: raise signal_loss after this long without decoded media (wall clock)", {}},
        {"reconnect", OptionType::String, std::string("auto"), {}, {}, "",
         "auto: a live input is reopened whenever it fails, a file never; never: the first failure ends the run "
         "(exit status 3 if nothing was decoded)", {"auto", "never"}},
        {"reconnect_max_attempts", OptionType::Int, std::int64_t{0}, 0.0, 1e9, "",
         "consecutive failed reconnect attempts before giving up (0: retry forever)", {}},
        {"reconnect_initial_delay_s", OptionType::Double, 0.5, 0.0, 3600.0, "s",
         "delay before the first reconnect attempt; doubled after each failure, with jitter", {}},
        {"reconnect_max_delay_s", OptionType::Double, 10.0, 0.0, 3600.0, "s",
         "upper bound of the reconnect delay", {}},
        {"program", OptionType::String, std::string(), {}, {}, "",
         "MPEG-TS: the service to monitor, by program number or service name (or --program); empty: the first "
         "service with video", {}},
        {"scte35_pid", OptionType::Int, std::int64_t{0}, 0.0, 8190.0, "",
         "MPEG-TS: PID of the SCTE-35 cues when the PMT does not announce them, in decimal (e.g. 496 for 0x1F0); "
         "0: the PMT's (section scte35)", {}}}},
      {"transport", "MPEG-TS inputs: the packet-level analysis (ETSI TR 101 290, services, scrambling, PIDs)",
       transport_option_specs()},
      {"transport.indicators", "TR 101 290 indicators checked (false: neither counted nor reported)",
       transport_indicator_specs()},
      {"scte35", "MPEG-TS inputs: SCTE-35 cue monitoring (scte35.cue lines, scte35.* defects)",
       ancillary::scte35_options()},
      {"subtitles", "MPEG-TS inputs: DVB teletext and DVB subtitle PIDs of the selected service",
       ancillary::subtitles_options()},
      {"reports", "compliance and availability reports: loudness per programme segment, availability per hour and "
                  "day (docs/reports.md)",
       reports::options()},
      {"evidence",
       "clips of the compressed input around each alarm, with thumbnails at its raise and clear (docs/operations.md, "
       "Evidence)",
       evidence::options()},
      {"pipeline", "decode and dispatch",
       {{"threads", OptionType::Int, std::int64_t{0}, 0.0, 256.0, "", "detector worker threads (0: one per core)", {}},
        {"queue_frames", OptionType::Int, std::int64_t{16}, 1.0, 10000.0, "frames",
         "pictures (and 0.1 s batches of audio) in flight per detector; a file waits for a full queue, a live input drops and counts", {}},
        {"detector_max_failures", OptionType::Int, std::int64_t{10}, 1.0, 1e9, "calls",
         "a detector whose calls fail (throw) this many times in a row is disabled for the rest of the run "
         "(detector_failed)", {}},
        {"lag_warn_s", OptionType::Double, 2.0, 0.1, 3600.0, "s",
         "live input: a detector this far behind the input (media time) is reported (detector_lagging)", {}},
        {"max_lag_s", OptionType::Double, 10.0, 0.1, 3600.0, "s",
         "live input: a detector this far behind is isolated: its backlog is skipped and it gets no frames until "
         "it has caught up, while the others go on", {}},
        {"drain_timeout_s", OptionType::Double, 2.0, 0.0, 3600.0, "s",
         "live input: at the end (SIGTERM), wait at most this long for detectors still busy; one still busy then "
         "is abandoned and reported (stream.summary state: stuck)", {}}}},
      {"decode", "how much of the video is decoded (docs/configuration.md, decode modes)",
       {{"mode", OptionType::String, std::string("full"), {}, {}, "",
         "full: every picture; economy: no deblocking filter and reference pictures only (about 0.5x the CPU); "
         "adaptive: keyframes only while all is well, every picture from the keyframe before trouble until quiet_s "
         "without trouble. A mode that gives a video detector fewer pictures than it needs is reported (log, "
         "/status, stream.summary)",
         {"full", "economy", "adaptive"}},
        {"quiet_s", OptionType::Double, 10.0, 0.0, 86400.0, "s",
         "adaptive: media time without trouble after which decoding goes back to keyframes only (at the next "
         "keyframe)", {}},
        {"black_luma", OptionType::Double, 32.0, 0.0, 255.0, "levels",
         "adaptive: a keyframe whose mean luma (8-bit, as coded) is at or below this is trouble", {}},
        {"silence_dbfs", OptionType::Double, -60.0, -200.0, 0.0, "dBFS",
         "adaptive: audio in which every channel stays below this for half a second is trouble", {}},
        {"max_held_packets", OptionType::Int, std::int64_t{1500}, 16.0, 1e6, "packets",
         "adaptive: most compressed video packets kept (from the keyframe before last) to decode again on "
         "trouble; beyond it the oldest GOP is let go first", {}}}},
      {"events", "event lines",
       {{"path", OptionType::String, std::string(), {}, {}, "",
         "JSON-lines file for events, '-' for stdout (or --events)", {}}}},
      {"log", "logging on stderr",
       {{"level", OptionType::String, std::string("info"), {}, {}, "", "log level", kLogLevels},
        {"format", OptionType::String, std::string("text"), {}, {}, "", "text or json (one object per line)",
         {"text", "json"}}}},
      {"http", "HTTP server: /metrics, /healthz, /readyz, /status, / (status page), thumbnails",
       {{"listen", OptionType::String, std::string(), {}, {}, "",
         "ADDR:PORT to listen on, e.g. 127.0.0.1:8080 (or --http); no authentication: 0.0.0.0 opens it to every "
         "network the host is on; empty: no HTTP server", {}},
        {"public_url", OptionType::String, std::string(), {}, {}, "",
         "URL prefix under which this server is reached, for thumbnail links in events (empty: a path only)", {}},
        {"api_token", OptionType::String, std::string(), {}, {}, "",
         "bearer token for the alarm API's changes (ack, masks); empty: changes are refused (403); better from "
         "AVMON_HTTP__API_TOKEN", {}},
        {"api_read_token", OptionType::Bool, false, {}, {}, "",
         "the alarm API's reads (GET /api/v1/...) need the token too", {}}}},
      {"alarms", "alarm life cycle over the defects: grace, flood control, latching, masks, schedules "
       "(docs/operations.md, Alarms)",
       {{"startup_grace_s", OptionType::Double, 2.0, 0.0, 3600.0, "s",
         "live input: no content defect begins in this much media time after the input opens and after each "
         "signal_loss ends (a condition present then counts from the grace's end); signal_loss itself is exempt", {}},
        {"file_startup_grace_s", OptionType::Double, 0.0, 0.0, 3600.0, "s",
         "the same for a file, from its first timestamp (0: a file's first seconds are analysed like the rest)", {}},
        {"flap_count", OptionType::Int, std::int64_t{5}, 1.0, 1e6, "raises",
         "a defect (type, detector, channel) raised more than this many times within flap_window_s becomes one "
         "flapping alarm until it settles", {}},
        {"flap_window_s", OptionType::Double, 600.0, 1.0, 86400.0, "s", "media time in which raises are counted", {}},
        {"flap_settle_s", OptionType::Double, 300.0, 0.0, 86400.0, "s",
         "a flapping alarm clears once its defect has been gone this long since its last raise (media time)", {}},
        {"keep_cleared", OptionType::Int, std::int64_t{100}, 0.0, 100000.0, "alarms",
         "cleared alarms still listed by GET /api/v1/alarms (the oldest go first)", {}},
        {"restart_grace_s", OptionType::Double, 60.0, 0.0, 86400.0, "s",
         "an alarm open at a stop is not resolved: the next instance confirms it (the same defect within this long, "
         "wall clock) or clears it after this long", {}},
        {"state_file", OptionType::String, std::string(), {}, {}, "",
         "masks, acknowledgements, latched and open alarms across restarts (written atomically); empty: "
         "<notifiers.spool_dir>.alarms-<stream>.json beside the spool, or none without a spool", {}},
        {"latch", OptionType::StringList, std::vector<std::string>{}, {}, {}, "",
         "defect types whose alarms latch: listed until acknowledged even after they clear (\"*\": every type)", {}}}},
      {"notifiers", "delivery to remote receivers: each has its own bounded queue and retries",
       {{"queue_size", OptionType::Int, std::int64_t{1000}, 1.0, 1e6, "events",
         "events held in memory per notifier (the oldest is dropped beyond it, or it waits in the spool)", {}},
        {"initial_backoff_s", OptionType::Double, 0.5, 0.01, 3600.0, "s", "first retry delay (doubled per failure, with jitter)", {}},
        {"max_backoff_s", OptionType::Double, 30.0, 0.01, 3600.0, "s", "longest retry delay", {}},
        {"drain_timeout_s", OptionType::Double, 10.0, 0.0, 3600.0, "s",
         "at exit, keep delivering for at most this long", {}},
        {"spool_dir", OptionType::String, std::string(), {}, {}, "",
         "directory keeping undelivered events across outages and restarts (empty: memory only)", {}},
        {"ca_file", OptionType::String, std::string(), {}, {}, "",
         "PEM file of CAs trusted for https webhook and Alertmanager URLs (empty: the system's)", {}}}},
      {"notifiers.webhook", "Standard Webhooks POST of each event line",
       {{"url", OptionType::String, std::string(), {}, {}, "", "http:// or https:// receiver URL; empty: off", {}},
        {"secret", OptionType::String, std::string(), {}, {}, "",
         "signing secret, whsec_<base64> (empty: unsigned); better from AVMON_NOTIFIERS__WEBHOOK__SECRET", {}},
        {"timeout_s", OptionType::Double, 10.0, 0.1, 600.0, "s", "per attempt", {}},
        {"paging", OptionType::Bool, true, {}, {}, "",
         "the receiver pages people: masked alarms, the raises of a flapping one and ends at a stop are not sent "
         "(false: every line is)", {}}}},
      {"notifiers.alertmanager", "Prometheus Alertmanager (API v2)",
       {{"url", OptionType::String, std::string(), {}, {}, "", "base URL, e.g. http://alertmanager:9093; empty: off", {}},
        {"resend_interval_s", OptionType::Double, 60.0, 1.0, 3600.0, "s", "firing alerts are re-sent this often", {}},
        {"timeout_s", OptionType::Double, 10.0, 0.1, 600.0, "s", "per attempt", {}}}},
      {"notifiers.mqtt", "MQTT broker: QoS 1 events, retained status with last will",
       {{"host", OptionType::String, std::string(), {}, {}, "", "broker host; empty: off", {}},
        {"port", OptionType::Int, std::int64_t{1883}, 1.0, 65535.0, "", "broker port", {}},
        {"topic_prefix", OptionType::String, std::string("avmon"), {}, {}, "",
         "events on <prefix>/<stream>/events, status on <prefix>/<stream>/status", {}},
        {"client_id", OptionType::String, std::string(), {}, {}, "", "empty: avmon-<stream>-<pid>", {}},
        {"username", OptionType::String, std::string(), {}, {}, "", "broker user name (empty: anonymous)", {}},
        {"password", OptionType::String, std::string(), {}, {}, "", "better from AVMON_NOTIFIERS__MQTT__PASSWORD", {}},
        {"keepalive_s", OptionType::Int, std::int64_t{30}, 5.0, 3600.0, "s", "MQTT keep-alive", {}}}},
  };
  return sections;
}

std::string format_option_value(const OptionValue& v) {
  std::ostringstream s;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) s << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::string>) s << '"' << x << '"';
        else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          s << "[";
          for (size_t i = 0; i < x.size(); ++i) s << (i ? ", " : "") << '"' << x[i] << '"';
          s << "]";
        } else if constexpr (std::is_same_v<T, std::vector<Region>>) {
          s << "[";
          for (size_t i = 0; i < x.size(); ++i)
            s << (i ? ", " : "") << "[" << x[i].x << ", " << x[i].y << ", " << x[i].w << ", " << x[i].h << "]";
          s << "]";
        } else if constexpr (std::is_same_v<T, double>) {
          // People write a million as 1000000, not 1e+06; fractions keep
          // the six significant digits that read back as the default.
          if (x == std::floor(x) && std::fabs(x) < 1e15) s << human_number(x, 0);
          else s << x;
        } else s << x;
      },
      v);
  return s.str();
}

std::string default_config_yaml(const DetectorRegistry& registry) {
  std::ostringstream y;
  y << "# avmon configuration: every option with its default.\n"
       "# Generated by `avmon check-config --print-defaults`; tests keep this file in step.\n"
       "# Any value can be overridden from the environment: AVMON_<SECTION>__<KEY>,\n"
       "# e.g. AVMON_INPUT__URL=udp://239.1.1.1:5000 or AVMON_DETECTORS__BLACK__MIN_DURATION_S=2.\n";
  for (const auto& s : core_sections()) {
    // A nested section ("notifiers.webhook") follows its parent in the table.
    auto dot = s.name.find('.');
    std::string indent = dot == std::string::npos ? "" : "  ";
    if (dot == std::string::npos) y << "\n# " << s.help << "\n" << s.name << ":\n";
    else y << "  # " << s.help << "\n  " << s.name.substr(dot + 1) << ":\n";
    for (const auto& o : s.options)
      y << indent << "  # " << spec_comment(o) << "\n" << indent << "  " << o.name << ": " << format_option_value(o.default_value) << "\n";
    if (s.name == "alarms") y << alarm_structure_example();
    if (s.name == "input")
      y << "  # libavformat/protocol options passed as-is, e.g. rtsp_transport: tcp, timeout: \"5000000\"\n  options: {}\n";
  }
  y << "\n# shared objects with out-of-tree detectors (see docs/plugins.md)\nplugins: []\n";
  y << "\ndetectors:\n";
  for (const auto& d : registry.all()) {
    y << "  # " << d.summary << "\n  " << d.name << ":\n";
    for (const auto& o : d.options) y << "    # " << spec_comment(o) << "\n    " << o.name << ": " << format_option_value(o.default_value) << "\n";
  }
  return y.str();
}

std::string describe_detectors(const DetectorRegistry& registry) {
  std::ostringstream s;
  for (const auto& d : registry.all()) {
    s << d.name << " (" << registry.origin(d.name) << "): " << d.summary << "\n";
    s << "  media: " << ((d.media & kVideo) ? "video" : "") << ((d.media & kVideo) && (d.media & kAudio) ? "+" : "")
      << ((d.media & kAudio) ? "audio" : "") << "; reports: " << known_list(d.types);
    if (!d.suppresses.empty()) s << "; suppresses: " << known_list(d.suppresses);
    if (d.media & kVideo) s << "; pictures: " << picture_need_name(d.pictures);
    s << "\n";
    for (const auto& o : d.options)
      s << "  " << o.name << " (" << option_type_name(o.type) << ", default " << format_option_value(o.default_value)
        << "): " << spec_comment(o) << "\n";
    s << "\n";
  }
  return s.str();
}

}  // namespace avmon
