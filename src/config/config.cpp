// Reading a configuration: the YAML file and the AVMON_* environment, each
// key checked against its option table and stored in a Config. The tables
// themselves, and the texts written from them, are in sections.cpp.
#include "config/config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/alarms_yaml.hpp"
#include "config/yaml_input.hpp"
#include "util/text.hpp"

#include "ancillary/expect.hpp"
#include "ancillary/ts_watch_options.hpp"
#include "reports/options.hpp"
#include "evidence/options.hpp"
#include "util/numbers.hpp"

namespace avmon {

namespace {

std::string where(const std::string& file, const YAML::Mark& m) { return yaml_position(file, m); }

[[noreturn]] void fail(const std::string& place, const std::string& key, const std::string& msg) {
  throw ConfigError(place + ": " + key + ": " + msg);
}

double number(const YAML::Node& n, const std::string& place, const std::string& key) {
  try {
    return n.as<double>();
  } catch (const YAML::Exception&) {
    fail(place, key, "expected a number, got '" + n.Scalar() + "'");
  }
}

void check_range(const OptionSpec& spec, double v, const std::string& place, const std::string& key) {
  if (!std::isfinite(v)) fail(place, key, "not a finite number");
  std::ostringstream range;
  range << "[" << (spec.min ? human_number(*spec.min) : "-inf") << ", "
        << (spec.max ? human_number(*spec.max) : "inf") << "]";
  if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
    fail(place, key, "value " + human_number(v, 6) + " out of range " + range.str() +
                         (spec.unit.empty() ? "" : " " + spec.unit));
  }
}

Region region(const YAML::Node& n, const std::string& place, const std::string& key) {
  Region r;
  if (n.IsSequence() && n.size() == 4) {
    r = {number(n[0], place, key), number(n[1], place, key), number(n[2], place, key), number(n[3], place, key)};
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      auto k = kv.first.as<std::string>();
      double v = number(kv.second, place, key);
      if (k == "x") r.x = v;
      else if (k == "y") r.y = v;
      else if (k == "w") r.w = v;
      else if (k == "h") r.h = v;
      else fail(place, key, "unknown region field '" + k + "' (known: x, y, w, h)");
    }
  } else {
    fail(place, key, "a region is [x, y, w, h] or {x, y, w, h}, in fractions of the picture");
  }
  // NaN passes every comparison below.
  if (!std::isfinite(r.x) || !std::isfinite(r.y) || !std::isfinite(r.w) || !std::isfinite(r.h))
    fail(place, key, "a region's fractions must be finite numbers");
  if (r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.x + r.w > 1.0 + 1e-9 || r.y + r.h > 1.0 + 1e-9)
    fail(place, key, "region must lie inside the picture (fractions 0..1, positive size)");
  return r;
}

// Converts and validates one value against its declaration.
OptionValue parse_value(const OptionSpec& spec, const YAML::Node& n, const std::string& place,
                        const std::string& key) {
  switch (spec.type) {
    case OptionType::Bool:
      try {
        return n.as<bool>();
      } catch (const YAML::Exception&) {
        fail(place, key, "expected true or false, got '" + n.Scalar() + "'");
      }
    case OptionType::Int: {
      double v = number(n, place, key);
      if (v != std::floor(v)) fail(place, key, "expected an integer, got '" + n.Scalar() + "'");
      check_range(spec, v, place, key);
      return static_cast<std::int64_t>(v);
    }
    case OptionType::Double: {
      double v = number(n, place, key);
      check_range(spec, v, place, key);
      return v;
    }
    case OptionType::String: {
      if (!n.IsScalar()) fail(place, key, "expected a string");
      std::string s = n.Scalar();
      if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end())
        fail(place, key, "'" + s + "' is not one of: " + known_list(spec.choices));
      return s;
    }
    case OptionType::StringList: {
      std::vector<std::string> out;
      if (n.IsNull()) return out;
      if (n.IsScalar()) {
        out.push_back(n.Scalar());
      } else if (n.IsSequence()) {
        for (const auto& e : n) {
          if (!e.IsScalar()) fail(place, key + "[" + std::to_string(out.size()) + "]", "expected a string");
          out.push_back(e.Scalar());
        }
      } else {
        fail(place, key, "expected a list of strings");
      }
      for (const auto& e : out)
        if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), e) == spec.choices.end())
          fail(place, key, "'" + e + "' is not one of: " + known_list(spec.choices));
      return out;
    }
    case OptionType::Regions: {
      std::vector<Region> out;
      if (n.IsNull()) return out;
      if (!n.IsSequence()) fail(place, key, "expected a list of regions [x, y, w, h]");
      // `place` is the key's position: a region is named by its index.
      for (const auto& r : n) out.push_back(region(r, place, key + "[" + std::to_string(out.size()) + "]"));
      return out;
    }
  }
  fail(place, key, "unsupported option type");
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const auto& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> names_of(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> n;
  for (const auto& s : specs) n.push_back(s.name);
  return n;
}

struct Builder {
  Config& c;
  DetectorRegistry& registry;
  std::map<std::string, Options> detector_options;  // by name

  void set_core(const std::string& section, const std::string& key, const OptionValue& v) {
    auto str = [&] { return std::get<std::string>(v); };
    auto dbl = [&] { return std::holds_alternative<double>(v) ? std::get<double>(v)
                                                              : static_cast<double>(std::get<std::int64_t>(v)); };
    // Names that travel in every event, label and topic are made valid
    // UTF-8 here, where they enter, and nowhere else.
    if (section == "stream" && key == "name") c.stream_name = valid_utf8(str());
    else if (section == "expect") c.expect.set(key, v);
    else if (section == "scte35") c.scte35.set(key, v);
    else if (section == "subtitles") c.subtitles.set(key, v);
    else if (section == "reports") reports::set_setting(key, v);
    else if (section == "evidence") c.evidence.set(key, v);
    else if (section == "input" && key == "url") c.input.url = str();
    else if (section == "input" && key == "realtime") c.input.realtime = std::get<bool>(v);
    else if (section == "input" && key == "open_timeout_s") c.input.open_timeout_s = dbl();
    else if (section == "input" && key == "read_timeout_s") c.input.read_timeout_s = dbl();
    else if (section == "input" && key == "signal_loss_timeout_s") c.input.signal_loss_timeout_s = dbl();
    else if (section == "input" && key == "reconnect") c.input.reconnect = str();
    else if (section == "input" && key == "reconnect_max_attempts") c.input.reconnect_max_attempts = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "input" && key == "reconnect_initial_delay_s") c.input.reconnect_initial_delay_s = dbl();
    else if (section == "input" && key == "reconnect_max_delay_s") c.input.reconnect_max_delay_s = dbl();
    else if (section == "input" && key == "program") c.input.program = str();
    else if (section == "input" && key == "scte35_pid") c.input.scte35_pid = static_cast<int>(std::get<std::int64_t>(v));
    else if (section.rfind("transport", 0) == 0) set_transport_option(c.input.transport, section, key, v);
    else if (section == "pipeline" && key == "threads") c.pipeline.threads = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "pipeline" && key == "queue_frames") c.pipeline.queue_frames = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "pipeline" && key == "detector_max_failures") c.pipeline.detector_max_failures = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "pipeline" && key == "lag_warn_s") c.pipeline.lag_warn_s = dbl();
    else if (section == "pipeline" && key == "max_lag_s") c.pipeline.max_lag_s = dbl();
    else if (section == "pipeline" && key == "drain_timeout_s") c.pipeline.drain_timeout_s = dbl();
    else if (section == "decode" && key == "mode") c.input.decode.mode = parse_decode_mode(str());
    else if (section == "decode" && key == "quiet_s") c.input.decode.quiet_s = dbl();
    else if (section == "decode" && key == "black_luma") c.input.decode.black_luma = dbl();
    else if (section == "decode" && key == "silence_dbfs") c.input.decode.silence_dbfs = dbl();
    else if (section == "decode" && key == "max_held_packets") c.input.decode.max_held_packets = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "events" && key == "path") c.events_path = str();
    else if (section == "log" && key == "level") c.log_level = str();
    else if (section == "log" && key == "format") c.log_format = str();
    else if (section == "http" && key == "listen") c.http.listen = str();
    else if (section == "http" && key == "public_url") c.http.public_url = str();
    else if (section == "http" && key == "api_token") c.http.api_token = str();
    else if (section == "http" && key == "api_read_token") c.http.api_read_token = std::get<bool>(v);
    else if (section == "alarms" && key == "startup_grace_s") c.alarms.startup_grace_s = dbl();
    else if (section == "alarms" && key == "file_startup_grace_s") c.alarms.file_startup_grace_s = dbl();
    else if (section == "alarms" && key == "flap_count") c.alarms.flap_count = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "alarms" && key == "flap_window_s") c.alarms.flap_window_s = dbl();
    else if (section == "alarms" && key == "flap_settle_s") c.alarms.flap_settle_s = dbl();
    else if (section == "alarms" && key == "keep_cleared") c.alarms.keep_cleared = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "alarms" && key == "restart_grace_s") c.alarms.restart_grace_s = dbl();
    else if (section == "alarms" && key == "state_file") c.alarms.state_file = str();
    else if (section == "alarms" && key == "latch") c.alarms.latch = std::get<std::vector<std::string>>(v);
    else if (section == "notifiers" && key == "queue_size") c.notifiers.queue_size = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "notifiers" && key == "initial_backoff_s") c.notifiers.initial_backoff_s = dbl();
    else if (section == "notifiers" && key == "max_backoff_s") c.notifiers.max_backoff_s = dbl();
    else if (section == "notifiers" && key == "drain_timeout_s") c.notifiers.drain_timeout_s = dbl();
    else if (section == "notifiers" && key == "spool_dir") c.notifiers.spool_dir = str();
    else if (section == "notifiers" && key == "ca_file") c.notifiers.ca_file = str();
    else if (section == "notifiers.webhook" && key == "url") c.notifiers.webhook.url = str();
    else if (section == "notifiers.webhook" && key == "secret") c.notifiers.webhook.secret = str();
    else if (section == "notifiers.webhook" && key == "timeout_s") c.notifiers.webhook.timeout_s = dbl();
    else if (section == "notifiers.webhook" && key == "paging") c.notifiers.webhook.paging = std::get<bool>(v);
    else if (section == "notifiers.alertmanager" && key == "url") c.notifiers.alertmanager.url = str();
    else if (section == "notifiers.alertmanager" && key == "resend_interval_s") c.notifiers.alertmanager.resend_interval_s = dbl();
    else if (section == "notifiers.alertmanager" && key == "timeout_s") c.notifiers.alertmanager.timeout_s = dbl();
    else if (section == "notifiers.mqtt" && key == "host") c.notifiers.mqtt.host = str();
    else if (section == "notifiers.mqtt" && key == "port") c.notifiers.mqtt.port = static_cast<int>(std::get<std::int64_t>(v));
    else if (section == "notifiers.mqtt" && key == "topic_prefix") c.notifiers.mqtt.topic_prefix = valid_utf8(str());
    else if (section == "notifiers.mqtt" && key == "client_id") c.notifiers.mqtt.client_id = valid_utf8(str());
    else if (section == "notifiers.mqtt" && key == "username") c.notifiers.mqtt.username = str();
    else if (section == "notifiers.mqtt" && key == "password") c.notifiers.mqtt.password = str();
    else if (section == "notifiers.mqtt" && key == "keepalive_s") c.notifiers.mqtt.keepalive_s = static_cast<int>(std::get<std::int64_t>(v));
  }

  // One key of one section, from the file or the environment.
  void apply(std::vector<std::string> path, const YAML::Node& value, const std::string& place) {
    // A nested core section ("notifiers.webhook") is one section name.
    if (path.size() >= 3 && is_core_section(path[0] + "." + path[1])) {
      path[0] += "." + path[1];
      path.erase(path.begin() + 1);
    }
    std::string dotted;
    for (const auto& p : path)
      if (!p.empty()) dotted += (dotted.empty() ? "" : ".") + p;
    const std::string& section = path[0];
    if (section == "detectors") {
      if (path.size() < 2) fail(place, dotted, "expected detectors.<name>.<option>");
      const DetectorInfo* info = registry.find(path[1]);
      if (!info) {
        std::vector<std::string> known;
        for (const auto& d : registry.all()) known.push_back(d.name);
        fail(place, dotted, "unknown detector '" + path[1] + "' (known: " + known_list(known) + ")");
      }
      if (path.size() != 3) fail(place, dotted, "expected detectors." + path[1] + ".<option>");
      const OptionSpec* spec = find_spec(info->options, path[2]);
      if (!spec)
        fail(place, dotted, "unknown option of detector '" + path[1] + "' (known: " + known_list(names_of(info->options)) + ")");
      detector_options[info->name].set(spec->name, parse_value(*spec, value, place, dotted));
      return;
    }
    if (section == "input" && path.size() >= 2 && path[1] == "options") {
      if (path.size() != 3 || !value.IsScalar())
        fail(place, dotted, "input.options is a map of libavformat option names to values");
      c.input.av_options[path[2]] = value.Scalar();
      return;
    }
    for (const auto& s : core_sections()) {
      if (s.name != section) continue;
      if (path.size() != 2) fail(place, dotted, "expected " + section + ".<option>");
      const OptionSpec* spec = find_spec(s.options, path[1]);
      if (!spec) {
        auto known = names_of(s.options);
        if (section == "input") known.push_back("options");
        if (section == "alarms") known.insert(known.end(), {"types", "masks", "schedules"});
        for (const auto& sub : core_sections())
          if (sub.name.rfind(section + ".", 0) == 0) known.push_back(sub.name.substr(section.size() + 1));
        fail(place, dotted, "unknown option (known: " + known_list(known) + ")");
      }
      OptionValue v = parse_value(*spec, value, place, dotted);
      if (section == "subtitles" && spec->name == "pids")
        if (auto err = ancillary::pid_list_error(std::get<std::vector<std::string>>(v))) fail(place, dotted, *err);
      set_core(section, spec->name, std::move(v));
      return;
    }
    std::vector<std::string> known = {"detectors", "plugins"};
    for (const auto& s : core_sections()) known.push_back(s.name);
    fail(place, dotted, "unknown section (known: " + known_list(known) + ")");
  }

  static bool is_core_section(const std::string& name) {
    for (const auto& s : core_sections())
      if (s.name == name) return true;
    return false;
  }

  static void expect_map(const YAML::Node& n, const std::string& file, const std::string& key) {
    if (!n.IsNull() && !n.IsMap()) fail(where(file, n.Mark()), key, "expected a mapping of keys to values");
  }

  // Applies every leaf of the file; errors point at the key's line and column.
  void walk(const YAML::Node& root, const std::string& file) {
    for (const auto& top : root) {
      const std::string section = top.first.as<std::string>();
      if (section == "plugins") continue;  // loaded before everything else
      bool known = section == "detectors";
      for (const auto& s : core_sections()) known = known || s.name == section;
      if (!known) apply({section, ""}, top.second, where(file, top.first.Mark()));  // reports it
      expect_map(top.second, file, section);
      for (const auto& kv : top.second) {
        const std::string key = kv.first.as<std::string>();
        const std::string place = where(file, kv.first.Mark());
        if (section == "detectors") {
          if (!registry.find(key)) apply({section, key, ""}, kv.second, place);  // reports the unknown name
          expect_map(kv.second, file, section + "." + key);
          for (const auto& opt : kv.second)
            apply({section, key, opt.first.as<std::string>()}, opt.second, where(file, opt.first.Mark()));
        } else if (section == "alarms" && is_alarm_structure(key)) {
          read_alarm_structure(c.alarms, key, kv.second, file);
        } else if (section == "input" && key == "options") {
          expect_map(kv.second, file, "input.options");
          for (const auto& opt : kv.second)
            apply({section, key, opt.first.as<std::string>()}, opt.second, where(file, opt.first.Mark()));
        } else if (is_core_section(section + "." + key)) {
          expect_map(kv.second, file, section + "." + key);
          for (const auto& opt : kv.second)
            apply({section, key, opt.first.as<std::string>()}, opt.second, where(file, opt.first.Mark()));
        } else {
          apply({section, key}, kv.second, place);
        }
      }
    }
  }
};

}  // namespace

const DetectorConfig* Config::detector(const std::string& name) const {
  for (const auto& d : detectors)
    if (d.info->name == name) return &d;
  return nullptr;
}

Config load_config(const std::string& path, DetectorRegistry& registry, char** environ_vars) {
  Config c;
  YAML::Node root;
  if (!path.empty()) {
    c.source = path;
    root = parse_config_yaml(read_config_text(path), path);
    if (!root.IsNull() && !root.IsMap()) throw ConfigError(where(path, root.Mark()) + ": expected a mapping at the top");
  }

  // Environment overrides: AVMON_SECTION__KEY[__KEY] = YAML scalar.
  struct Override {
    std::vector<std::string> path;
    std::string value, name;
  };
  std::vector<Override> overrides;
  for (char** e = environ_vars; e && *e; ++e) {
    std::string kv = *e;
    if (kv.rfind("AVMON_", 0) != 0) continue;
    auto eq = kv.find('=');
    std::string name = kv.substr(0, eq), rest = name.substr(6);
    if (rest.find("__") == std::string::npos) continue;  // not a config override (e.g. AVMON_KEEP_TEST_FILES)
    Override o{{}, eq == std::string::npos ? "" : kv.substr(eq + 1), name};
    for (size_t start = 0;;) {
      size_t sep = rest.find("__", start);
      std::string part = rest.substr(start, sep == std::string::npos ? std::string::npos : sep - start);
      std::transform(part.begin(), part.end(), part.begin(), [](unsigned char ch) { return std::tolower(ch); });
      o.path.push_back(part);
      if (sep == std::string::npos) break;
      start = sep + 2;
    }
    overrides.push_back(std::move(o));
  }
  std::sort(overrides.begin(), overrides.end(), [](const Override& a, const Override& b) { return a.name < b.name; });

  // Plugins first: their detectors' options are validated like the others.
  if (root["plugins"]) {
    const YAML::Node& pl = root["plugins"];
    if (!pl.IsSequence()) throw ConfigError(where(path, pl.Mark()) + ": plugins: expected a list of shared-object paths");
    for (const auto& p : pl) {
      if (!p.IsScalar()) throw ConfigError(where(path, p.Mark()) + ": plugins: expected a shared-object path");
      // A relative path names a file beside the configuration, wherever
      // avmon was started from (a service's working directory is not the
      // configuration's folder).
      std::filesystem::path plugin = p.as<std::string>();
      if (plugin.is_relative()) plugin = (std::filesystem::path(path).parent_path() / plugin).lexically_normal();
      try {
        registry.load_plugin(plugin.string());
      } catch (const RegistryError& e) {
        throw ConfigError(where(path, p.Mark()) + ": plugins: " + e.what());
      }
      c.plugins.push_back(plugin.string());
    }
  }

  Builder b{c, registry, {}};
  for (const auto& d : registry.all()) b.detector_options[d.name] = default_options(d.options);
  for (const auto& s : core_sections())
    for (const auto& o : s.options) b.set_core(s.name, o.name, o.default_value);

  try {
    if (root.IsMap()) b.walk(root, path);
  } catch (const YAML::Exception& e) {
    // The tree was checked (parse_config_yaml); whatever yaml-cpp still
    // refuses is the file's fault, and has a position.
    throw ConfigError(where(path, e.mark) + ": " + e.msg);
  }
  for (const auto& o : overrides) {
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception&) {
      value = YAML::Node(o.value);
    }
    if (value.IsNull()) value = YAML::Node(std::string());
    try {
      b.apply(o.path, value, "environment " + o.name);
    } catch (const YAML::Exception& e) {
      throw ConfigError("environment " + o.name + ": " + e.msg);
    }
  }

  if (const auto ev = evidence::Settings::from(c.evidence); ev.enabled() && ev.pre_s >= ev.buffer_s)
    throw ConfigError("evidence.pre_s (" + human_number(ev.pre_s) + " s) must be less than evidence.buffer_s (" +
                      human_number(ev.buffer_s) + " s): the buffer could never hold the pre-roll");
  for (const auto& d : registry.all()) {
    DetectorConfig dc;
    dc.info = &d;
    dc.options = b.detector_options[d.name];
    // The expect: section is the format detector's reference.
    if (d.name == expect::kDetector)
      for (const auto& [key, value] : c.expect.values()) dc.options.set(key, value);
    dc.enabled = dc.options.get_bool("enabled");
    dc.policy.min_duration_s = dc.options.get_double("min_duration_s");
    dc.policy.hold_off_s = dc.options.get_double("hold_off_s");
    dc.policy.severity = dc.options.get_string("severity");
    c.detectors.push_back(std::move(dc));
  }
  return c;
}

}  // namespace avmon
