#include "config/alarms_yaml.hpp"

#include <algorithm>
#include <cctype>

#include "alarms/schedule.hpp"
#include "config/config.hpp"
#include "config/yaml_input.hpp"

namespace avmon {

namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& key, const std::string& why) {
  throw ConfigError(yaml_position(file, n.Mark()) + ": " + key + ": " + why);
}

bool plain_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::string scalar(const YAML::Node& n, const std::string& file, const std::string& key) {
  if (!n.IsScalar()) fail(file, n, key, "expected a string");
  return n.Scalar();
}

double number(const YAML::Node& n, const std::string& file, const std::string& key, double min, double max) {
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(file, n, key, "expected a number, got '" + n.Scalar() + "'");
  }
  if (!(v >= min && v <= max)) fail(file, n, key, "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

std::vector<std::string> type_list(const YAML::Node& n, const std::string& file, const std::string& key) {
  std::vector<std::string> out;
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) fail(file, n, key, "expected a list of defect types ([]: every type)");
  for (const auto& e : n) {
    std::string t = scalar(e, file, key);
    if (!plain_name(t)) fail(file, e, key, "'" + t + "' is not a defect type name");
    out.push_back(t);
  }
  return out;
}

void check_keys(const YAML::Node& n, const std::string& file, const std::string& key,
                const std::vector<std::string>& known) {
  if (!n.IsMap()) fail(file, n, key, "expected a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
      fail(file, kv.first, key + "." + k, "unknown key (known: " + list + ")");
    }
  }
}

const std::vector<std::string> kSeverities = {"critical", "major", "minor", "warning", "info"};
const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

void read_types(AlarmsConfig& cfg, const YAML::Node& node, const std::string& file) {
  if (node.IsNull()) return;
  if (!node.IsMap()) fail(file, node, "alarms.types", "expected a mapping of defect types to settings");
  for (const auto& kv : node) {
    const std::string type = kv.first.as<std::string>(), key = "alarms.types." + type;
    if (!plain_name(type)) fail(file, kv.first, key, "not a defect type name");
    check_keys(kv.second, file, key, {"severity", "min_duration_s", "hold_off_s", "latch"});
    AlarmTypePolicy p;
    if (auto s = kv.second["severity"]) {
      std::string v = scalar(s, file, key + ".severity");
      if (std::find(kSeverities.begin(), kSeverities.end(), v) == kSeverities.end())
        fail(file, s, key + ".severity", "'" + v + "' is not one of: critical, major, minor, warning, info");
      p.severity = v;
    }
    if (auto v = kv.second["min_duration_s"]) p.min_duration_s = number(v, file, key + ".min_duration_s", 0, 86400);
    if (auto v = kv.second["hold_off_s"]) p.hold_off_s = number(v, file, key + ".hold_off_s", 0, 86400);
    if (auto v = kv.second["latch"]) {
      try {
        p.latch = v.as<bool>();
      } catch (const YAML::Exception&) {
        fail(file, v, key + ".latch", "expected true or false");
      }
    }
    cfg.types[type] = p;
  }
}

void read_masks(AlarmsConfig& cfg, const YAML::Node& node, const std::string& file) {
  if (node.IsNull()) return;
  if (!node.IsMap()) fail(file, node, "alarms.masks", "expected a mapping of mask names to {types, until}");
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "alarms.masks." + name;
    if (!plain_name(name)) fail(file, kv.first, key, "a mask name is 1 to 64 letters, digits, '.', '_' or '-'");
    AlarmMask m;
    m.name = name;
    if (!kv.second.IsNull()) {
      check_keys(kv.second, file, key, {"types", "until"});
      m.types = type_list(kv.second["types"], file, key + ".types");
      if (auto u = kv.second["until"]; u && !u.IsNull()) {
        auto ms = parse_rfc3339_ms(scalar(u, file, key + ".until"));
        if (!ms) fail(file, u, key + ".until", "not an RFC 3339 time (e.g. 2026-12-02T06:00:00Z)");
        m.until_ms = *ms;
      }
    }
    cfg.masks.push_back(m);
  }
}

void read_schedules(AlarmsConfig& cfg, const YAML::Node& node, const std::string& file) {
  if (node.IsNull()) return;
  if (!node.IsMap()) fail(file, node, "alarms.schedules", "expected a mapping of schedule names to windows");
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "alarms.schedules." + name;
    if (!plain_name(name)) fail(file, kv.first, key, "a schedule name is 1 to 64 letters, digits, '.', '_' or '-'");
    check_keys(kv.second, file, key, {"types", "mode", "days", "from", "to", "time_zone"});
    AlarmSchedule s;
    s.name = name;
    s.types = type_list(kv.second["types"], file, key + ".types");
    if (auto m = kv.second["mode"]) {
      s.mode = scalar(m, file, key + ".mode");
      if (s.mode != "mask" && s.mode != "invert") fail(file, m, key + ".mode", "'" + s.mode + "' is not one of: mask, invert");
    }
    if (auto d = kv.second["days"]; d && !d.IsNull()) {
      if (!d.IsSequence()) fail(file, d, key + ".days", "expected a list of days (mon, tue, ... sun)");
      for (const auto& e : d) {
        std::string day = scalar(e, file, key + ".days");
        std::transform(day.begin(), day.end(), day.begin(), [](unsigned char c) { return std::tolower(c); });
        auto it = std::find(kDays.begin(), kDays.end(), day.substr(0, 3));
        if (day.size() < 3 || it == kDays.end()) fail(file, e, key + ".days", "'" + e.Scalar() + "' is not a day (mon .. sun)");
        s.days.push_back(static_cast<int>(it - kDays.begin()));
      }
    }
    for (const char* which : {"from", "to"}) {
      auto v = kv.second[which];
      if (!v) fail(file, kv.second, key, std::string("'") + which + "' (HH:MM) is required");
      auto minutes = parse_time_of_day(scalar(v, file, key + "." + which));
      if (!minutes) fail(file, v, key + "." + which, "expected HH:MM (00:00 .. 24:00)");
      (std::string(which) == "from" ? s.from_min : s.to_min) = *minutes;
    }
    if (s.from_min == s.to_min) fail(file, kv.second, key, "'from' and 'to' are the same time: an empty window");
    if (auto z = kv.second["time_zone"]) {
      s.time_zone = scalar(z, file, key + ".time_zone");
      if (!zone_offset_s(s.time_zone, 0))
        fail(file, z, key + ".time_zone", "unknown time zone '" + s.time_zone + "' (an IANA name such as Europe/London, or UTC)");
    }
    cfg.schedules.push_back(s);
  }
}

}  // namespace

bool is_alarm_structure(const std::string& key) { return key == "types" || key == "masks" || key == "schedules"; }

void read_alarm_structure(AlarmsConfig& cfg, const std::string& key, const YAML::Node& node, const std::string& file) {
  if (key == "types") read_types(cfg, node, file);
  else if (key == "masks") read_masks(cfg, node, file);
  else read_schedules(cfg, node, file);
}

const char* alarm_structure_example() {
  return "  # per defect type, over its detector's options: severity (critical, major, minor, warning, info),\n"
         "  # min_duration_s, hold_off_s [s], latch (true: stays listed until acknowledged), e.g.\n"
         "  #   black: {severity: critical, hold_off_s: 5, latch: true}\n"
         "  types: {}\n"
         "  # masks set here (more through PUT /api/v1/masks/NAME): alarms of their types (every type when\n"
         "  # empty) are recorded, marked masked: true, and not paged; until: RFC 3339 or null, e.g.\n"
         "  #   maintenance: {types: [black, silence], until: \"2026-12-24T06:00:00Z\"}\n"
         "  masks: {}\n"
         "  # weekly windows (wall clock, in time_zone) in which types are masked (mode: mask) or outside of\n"
         "  # which they are masked (mode: invert); to before from crosses midnight, e.g.\n"
         "  #   overnight_black: {types: [black], days: [mon, tue, wed, thu, fri], from: \"23:00\", to: \"06:00\",\n"
         "  #                     time_zone: Europe/London}\n"
         "  schedules: {}\n";
}

}  // namespace avmon
