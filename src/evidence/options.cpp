#include "evidence/options.hpp"

#include <algorithm>

namespace avmon::evidence {

const std::vector<OptionSpec>& options() {
  static const std::vector<OptionSpec> specs = {
      {"dir", OptionType::String, std::string(), {}, {}, "",
       "directory for evidence clips and their thumbnails (created if missing); empty: no clips", {}},
      {"buffer_s", OptionType::Double, 30.0, 1.0, 3600.0, "s",
       "compressed input kept in memory (packets, no re-encoding); must exceed pre_s plus the longest "
       "min_duration_s of the detectors, or the pre-roll is cut short", {}},
      {"max_buffer_bytes", OptionType::Int, std::int64_t{128} << 20, 1048576.0, 68719476736.0, "bytes",
       "upper bound of that buffer whatever its length in seconds (the oldest pictures go first)", {}},
      {"pre_s", OptionType::Double, 10.0, 0.0, 3600.0, "s",
       "a clip starts this long before the alarm's onset (at the random-access point at or before it)", {}},
      {"post_s", OptionType::Double, 10.0, 0.0, 3600.0, "s", "a clip ends this long after the alarm's onset", {}},
      {"max_clips", OptionType::Int, std::int64_t{100}, 1.0, 1e9, "",
       "clips kept in dir; beyond it the oldest clip and its thumbnails are deleted", {}},
      {"max_bytes", OptionType::Int, std::int64_t{2} << 30, 1048576.0, 1e12, "bytes",
       "bytes of clips and thumbnails kept in dir; beyond it the oldest are deleted", {}},
      {"types", OptionType::StringList, std::vector<std::string>{}, {}, {}, "",
       "defect types that get a clip (e.g. [black, freeze, signal_loss]); empty: every type", {}},
  };
  return specs;
}

Settings Settings::from(const Options& o) {
  Settings s;
  s.dir = o.get_string("dir");
  s.buffer_s = o.get_double("buffer_s");
  s.max_buffer_bytes = o.get_int("max_buffer_bytes");
  s.pre_s = o.get_double("pre_s");
  s.post_s = o.get_double("post_s");
  s.max_clips = o.get_int("max_clips");
  s.max_bytes = o.get_int("max_bytes");
  s.types = o.get_strings("types");
  return s;
}

bool Settings::wants(const std::string& type) const {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

}  // namespace avmon::evidence
