#include "reports/options.hpp"

#include <string>

#include "config/config.hpp"

namespace avmon::reports {

const std::vector<OptionSpec>& options() {
  static const std::vector<OptionSpec> specs = {
      {"enabled", OptionType::Bool, false, {}, {}, "",
       "measure the loudness of each programme segment (a report.loudness line per segment) and keep the "
       "availability tables; served on /api/v1/reports/ with the HTTP server",
       {}},
      {"segment_s", OptionType::Double, 3600.0, 1.0, 86400.0, "s",
       "length of a loudness segment: files from media time 0, live inputs aligned to the UTC clock (3600: on "
       "the hour); a multiple of 0.1 s",
       {}},
      {"preset", OptionType::String, std::string(), {}, {}, "",
       "segments are judged against: ebu_r128 (-23 LUFS +-1 LU, -1 dBTP), atsc_a85 (-24 LKFS +-2 LU, -2 dBTP); "
       "empty: the loudness detector's preset (custom: its target_lufs, +-1 LU, -1 dBTP)",
       {"", "ebu_r128", "atsc_a85"}},
      {"segment_on", OptionType::StringList, std::vector<std::string>{"interval"}, {}, {}, "",
       "where segments end: interval (every segment_s), scte35 (at the splice points of the service's SCTE-35 "
       "cues: an out starts a break segment, an in a programme segment; MPEG-TS with scte35.enabled); empty: "
       "only at the end",
       {"interval", "scte35"}},
      {"dialnorm_tolerance_db", OptionType::Double, 2.0, 0.0, 31.0, "dB",
       "AC-3 / E-AC-3 audio: a segment whose integrated loudness is further than this from the dialnorm its "
       "frames declare fails",
       {}},
      {"dir", OptionType::String, std::string(), {}, {}, "",
       "directory the report files are written to as segments complete: loudness.csv, availability.csv, "
       "report.json, report.html (replaced whole each time); empty: none",
       {}},
  };
  return specs;
}

namespace {
// Starts at the defaults: a monitor built without load_config() (tests) has reports off.
Options& mutable_settings() {
  static Options s = [] {
    Options o;
    for (const auto& spec : options()) o.set(spec.name, spec.default_value);
    return o;
  }();
  return s;
}
}  // namespace

const Options& settings() { return mutable_settings(); }
void set_setting(const std::string& key, OptionValue value) { mutable_settings().set(key, std::move(value)); }

LoudnessPreset report_preset(const Config& cfg) {
  std::string name = settings().get_string("preset");
  double target_lufs = -23.0;
  if (name.empty()) {
    name = "ebu_r128";
    if (const DetectorConfig* d = cfg.detector("loudness")) {
      name = d->options.get_string("preset");
      target_lufs = d->options.get_double("target_lufs");
    }
  }
  return loudness_preset(name, target_lufs);
}

}  // namespace avmon::reports
