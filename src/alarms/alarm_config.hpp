// What the `alarms:` section of the configuration says (docs/configuration.md,
// Alarms). Plain data: the config loader fills it, AlarmBook reads it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace avmon {

// A mask: alarms of its types (all when empty) are recorded but not paged.
struct AlarmMask {
  std::string name;
  std::vector<std::string> types;       // empty: every type
  std::optional<std::int64_t> until_ms;  // Unix milliseconds; none: until removed
  std::string origin = "config";         // config or api
  std::string by;                        // api: who set it
};

// A weekly window in which a type is masked (or, inverted, only alarmed
// inside it): days and a time of day range in a time zone.
struct AlarmSchedule {
  std::string name;
  std::vector<std::string> types;   // empty: every type
  std::string mode = "mask";        // mask: no paging inside; invert: no paging outside
  std::vector<int> days;            // 0 = Monday .. 6 = Sunday; empty: every day
  int from_min = 0, to_min = 0;     // minutes after local midnight; to < from crosses midnight
  std::string time_zone = "UTC";    // IANA name (from the system's zoneinfo) or UTC
};

// Per defect type: overrides of the reporting detector's policy.
struct AlarmTypePolicy {
  std::optional<std::string> severity;
  std::optional<double> min_duration_s, hold_off_s;
  std::optional<bool> latch;
};

struct AlarmsConfig {
  double startup_grace_s = 2;         // live inputs: no content defect in this much media time after each (re)open
  double file_startup_grace_s = 0;    // files: the same from the first timestamp
  int flap_count = 5;                 // more raises than this of one type within flap_window_s: flapping
  double flap_window_s = 600;         // media time
  double flap_settle_s = 300;         // a flapping alarm clears after this long without a raise (media time)
  int keep_cleared = 100;             // cleared alarms still listed by the API
  double restart_grace_s = 60;        // an alarm open at a stop waits this long (wall clock) for the next instance
  std::string state_file;             // empty: <notifiers.spool_dir>.alarms-<stream>.json (beside the spool), or none
  std::vector<std::string> latch;     // types that latch ("*": every type)
  std::map<std::string, AlarmTypePolicy> types;
  std::vector<AlarmMask> masks;
  std::vector<AlarmSchedule> schedules;
};

}  // namespace avmon
