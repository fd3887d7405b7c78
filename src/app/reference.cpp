#include "app/reference.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "config/config.hpp"

namespace avmon {

namespace {

// A table cell: '|' and line breaks would end it.
std::string cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string env_name(const std::string& path) {
  std::string e = "AVMON_";
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '.') e += "__";
    else e += static_cast<char>(std::toupper(static_cast<unsigned char>(path[i])));
  }
  return e;
}

std::string values(const OptionSpec& o) {
  std::string v;
  if (o.min || o.max)
    v = (o.min ? format_option_value(*o.min) : "-inf") + " .. " + (o.max ? format_option_value(*o.max) : "inf");
  for (size_t i = 0; i < o.choices.size(); ++i)
    v += (i ? ", " : "") + (o.choices[i].empty() ? std::string("`\"\"`") : "`" + o.choices[i] + "`");
  return v;
}

void table(std::ostringstream& md, const std::string& prefix, const std::vector<OptionSpec>& options) {
  md << "| key | environment | type | default | range / values | unit | meaning |\n"
     << "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& o : options) {
    std::string path = prefix + "." + o.name;
    md << "| `" << path << "` | `" << env_name(path) << "` | " << option_type_name(o.type) << " | `"
       << cell(format_option_value(o.default_value)) << "` | " << cell(values(o)) << " | " << cell(o.unit) << " | "
       << cell(o.help) << " |\n";
  }
}

}  // namespace

std::string configuration_reference(const DetectorRegistry& registry) {
  std::ostringstream md;
  for (const auto& s : core_sections()) {
    md << "\n### `" << s.name << "`: " << cell(s.help) << "\n\n";
    table(md, s.name, s.options);
    if (s.name == "input")
      md << "| `input.options` | (none) | map | `{}` | | | libavformat and protocol options passed as they are, "
            "e.g. `rtsp_transport: tcp`, `timeout: \"5000000\"` |\n";
  }
  md << "\n### `plugins`: detector plugins\n\n"
     << "A list of shared objects to load before the configuration is validated (docs/plugins.md); a relative path "
        "is taken from the configuration file's folder. Not settable from the environment.\n";
  md << "\n### `detectors`: one section per detector\n\n"
     << "Every detector has `enabled`, `min_duration_s`, `hold_off_s` and `severity` (the event engine's options, "
        "with the detector's own defaults) and its own options. Plugins add sections of their own "
        "(`avmon detectors --config FILE` lists them).\n";
  for (const auto& d : registry.all()) {
    md << "\n#### `detectors." << d.name << "`: " << cell(d.summary) << "\n\n";
    md << "Reports ";
    for (size_t i = 0; i < d.types.size(); ++i) md << (i ? ", " : "") << "`" << d.types[i] << "`";
    if (!d.suppresses.empty()) {
      md << "; suppresses ";
      for (size_t i = 0; i < d.suppresses.size(); ++i) md << (i ? ", " : "") << "`" << d.suppresses[i] << "`";
    }
    md << ".\n\n";
    table(md, "detectors." + d.name, d.options);
  }
  return md.str();
}

}  // namespace avmon
