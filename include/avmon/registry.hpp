// Detector registration. In-tree detectors register at static initialisation
// with AVMON_REGISTER_DETECTOR; out-of-tree detectors are shared objects that
// export an entry point made by AVMON_PLUGIN (see plugin.hpp). Both hand the
// host the same DetectorInfo: a name, what the detector reports, its options
// as data and a factory.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"

namespace avmon {

enum Media : unsigned { kVideo = 1u, kAudio = 2u };

// Which pictures a video detector needs to do its job. The decode modes
// (decode.mode: full, economy, adaptive) skip pictures to save CPU; the host
// compares what a mode delivers with what each enabled detector declares and
// says so (log, /status, stream.summary) when a mode starves one.
enum class PictureNeed : unsigned {
  All = 0,        // every picture (frame-to-frame comparisons, per-picture side data, decoder errors)
  Reference = 1,  // reference pictures are enough (picture-state checks; the lower rate is fine)
  Keyframes = 2,  // keyframes are enough (what holds for a whole GOP)
};
inline const char* picture_need_name(PictureNeed need) {
  switch (need) {
    case PictureNeed::Reference: return "reference";
    case PictureNeed::Keyframes: return "keyframes";
    case PictureNeed::All: break;
  }
  return "all";
}

struct DetectorInfo {
  std::string name;                    // config key and `detector` field of events
  std::string summary;                 // one line for `avmon detectors`
  unsigned media = 0;                  // kVideo | kAudio: what it is fed
  std::vector<std::string> types;      // defect types it may report
  // Defect types it suppresses while one of its own is active (one incident,
  // one alarm): black suppresses freeze, for instance.
  std::vector<std::string> suppresses;
  std::vector<OptionSpec> options;     // detector-specific options
  // Video detectors: the fewest pictures it still works on. The default
  // claims every picture, so an undeclared detector is never starved silently.
  PictureNeed pictures = PictureNeed::All;
  // Defaults of the event-engine options every detector gets
  // (enabled, min_duration_s, hold_off_s, severity).
  bool enabled_by_default = true;
  double min_duration_s = 1.0;
  double hold_off_s = 1.0;
  std::string severity = "major";      // "critical", "major", "minor", "warning", "info"
  std::function<std::unique_ptr<Detector>(const Options&)> create;
};

// The options every detector has, with the detector's own defaults; the host
// appends them to `options` when the detector is registered.
inline std::vector<OptionSpec> common_options(const DetectorInfo& d) {
  return {
      {"enabled", OptionType::Bool, d.enabled_by_default, {}, {}, "", "run this detector", {}},
      {"min_duration_s", OptionType::Double, d.min_duration_s, 0.0, 3600.0, "s",
       "a condition must last this long before defect.start (reported at its true onset)", {}},
      {"hold_off_s", OptionType::Double, d.hold_off_s, 0.0, 3600.0, "s",
       "a condition must be gone this long before defect.end (no flapping)", {}},
      {"severity", OptionType::String, d.severity, {}, {}, "", "severity carried by the events",
       {"critical", "major", "minor", "warning", "info"}},
  };
}

namespace detail {
// In-tree registrations, collected before main(); the host's Registry reads them.
inline std::vector<DetectorInfo (*)()>& static_detectors() {
  static std::vector<DetectorInfo (*)()> list;
  return list;
}
struct StaticRegistrar {
  explicit StaticRegistrar(DetectorInfo (*describe)()) { static_detectors().push_back(describe); }
};
}  // namespace detail

}  // namespace avmon

// Register an in-tree detector: AVMON_REGISTER_DETECTOR(black, describe_black)
// where `describe_black` returns its DetectorInfo.
#define AVMON_REGISTER_DETECTOR(ident, describe_fn) \
  static const ::avmon::detail::StaticRegistrar avmon_registrar_##ident{&(describe_fn)}
