#include "ancillary/expect.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <sstream>

namespace avmon::expect {

namespace {

// Names as libavutil gives them (av_color_*_name), so that a value found can
// be pasted into the section.
const std::vector<std::string> kPrimaries = {"",         "bt709",    "bt470m",   "bt470bg",  "smpte170m",
                                             "smpte240m", "film",     "bt2020",   "smpte428", "smpte431",
                                             "smpte432", "jedec-p22", "unknown"};
const std::vector<std::string> kTransfers = {"",          "bt709",        "gamma22",      "gamma28",
                                             "smpte170m", "smpte240m",    "linear",       "log100",
                                             "log316",    "iec61966-2-4", "bt1361e",      "iec61966-2-1",
                                             "bt2020-10", "bt2020-12",    "smpte2084",    "smpte428",
                                             "arib-std-b67", "unknown"};
const std::vector<std::string> kSpaces = {"",         "gbr",      "bt709",    "fcc",      "bt470bg",
                                          "smpte170m", "smpte240m", "ycgco",   "bt2020nc", "bt2020c",
                                          "smpte2085", "chroma-derived-nc", "chroma-derived-c", "ictcp", "unknown"};
const std::vector<std::string> kRanges = {"", "tv", "pc", "unknown"};
const std::vector<std::string> kScans = {"", "progressive", "interlaced", "tff", "bff"};
const std::vector<std::string> kHdr = {"", "none", "mastering_display", "content_light_level",
                                       "mastering_display+content_light_level"};
const std::vector<std::string> kAspects = {"", "4:3", "16:9", "14:9", "21:9", "1:1", "3:2", "5:4", "64:27",
                                           "256:135", "1.85:1", "2.39:1"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "16:9" or "1.85:1" or "1.778" -> ratio; NaN when not a ratio.
double ratio_of(const std::string& s) {
  auto colon = s.find(':');
  char* end = nullptr;
  if (colon == std::string::npos) {
    double v = std::strtod(s.c_str(), &end);
    return end && *end == 0 && v > 0 ? v : NAN;
  }
  double a = std::strtod(s.substr(0, colon).c_str(), &end);
  double b = std::strtod(s.substr(colon + 1).c_str(), &end);
  return a > 0 && b > 0 ? a / b : NAN;
}

}  // namespace

const std::vector<OptionSpec>& options() {
  static const std::vector<OptionSpec> specs = {
      {"width", OptionType::Int, std::int64_t{0}, 0.0, 16384.0, "px", "coded picture width (0: not checked)", {}},
      {"height", OptionType::Int, std::int64_t{0}, 0.0, 16384.0, "px", "coded picture height (0: not checked)", {}},
      {"frame_rate", OptionType::Double, 0.0, 0.0, 1000.0, "fps",
       "frames per second, within 0.01 (e.g. 25, 29.97, 59.94; 0: not checked)", {}},
      {"scan", OptionType::String, std::string(), {}, {}, "",
       "progressive, interlaced (either field order), tff or bff (top/bottom field first); empty: not checked", kScans},
      {"video_codec", OptionType::String, std::string(), {}, {}, "",
       "FFmpeg codec name, e.g. h264, hevc, mpeg2video (empty: not checked)", {}},
      {"profile", OptionType::String, std::string(), {}, {}, "",
       "video profile as FFmpeg names it, e.g. High, Main 10 (empty: not checked)", {}},
      {"level", OptionType::String, std::string(), {}, {}, "",
       "video level, e.g. 4.0 (H.264), 4.1 (HEVC), Main or High (MPEG-2) (empty: not checked)", {}},
      {"color_primaries", OptionType::String, std::string(), {}, {}, "",
       "colour primaries as FFmpeg names them (empty: not checked)", kPrimaries},
      {"color_transfer", OptionType::String, std::string(), {}, {}, "",
       "transfer characteristic: bt709 for SDR, smpte2084 for PQ, arib-std-b67 for HLG (empty: not checked)",
       kTransfers},
      {"color_space", OptionType::String, std::string(), {}, {}, "", "matrix coefficients (empty: not checked)", kSpaces},
      {"color_range", OptionType::String, std::string(), {}, {}, "", "tv (limited) or pc (full) (empty: not checked)",
       kRanges},
      {"hdr", OptionType::String, std::string(), {}, {}, "",
       "HDR metadata carried with the pictures: none, mastering_display, content_light_level or both "
       "(empty: not checked)",
       kHdr},
      {"display_aspect_ratio", OptionType::String, std::string(), {}, {}, "",
       "picture aspect ratio on the display, from size and sample aspect ratio, within 1 % (empty: not checked)",
       kAspects},
      {"afd", OptionType::Int, std::int64_t{-1}, -1.0, 15.0, "",
       "active format description code carried with the pictures (-1: not checked)", {}},
      {"audio_codec", OptionType::String, std::string(), {}, {}, "",
       "FFmpeg codec name, e.g. aac, ac3, mp2 (empty: not checked)", {}},
      {"channel_layout", OptionType::String, std::string(), {}, {}, "",
       "audio channel layout as FFmpeg names it, e.g. mono, stereo, 5.1, 5.1(side) (empty: not checked)", {}},
      {"sample_rate", OptionType::Int, std::int64_t{0}, 0.0, 768000.0, "Hz", "audio sample rate (0: not checked)", {}},
      {"audio_languages", OptionType::StringList, std::vector<std::string>{}, {}, {}, "",
       "ISO 639-2 codes that must each be the language of one of the input's audio streams (empty: not checked)", {}},
  };
  return specs;
}

bool is_unset(const OptionSpec& spec, const OptionValue& v) { return v == spec.default_value; }

std::string to_text(const OptionValue& v) {
  std::ostringstream s;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          for (size_t i = 0; i < x.size(); ++i) s << (i ? "," : "") << x[i];
        } else if constexpr (std::is_same_v<T, std::vector<Region>>) {
          s << "regions";
        } else if constexpr (std::is_same_v<T, bool>) {
          s << (x ? "true" : "false");
        } else {
          s << x;
        }
      },
      v);
  return s.str();
}

std::string found_text(const nlohmann::json& f) {
  if (f.is_null()) return "none";
  if (f.is_string()) return f.get<std::string>();
  if (f.is_array()) {
    std::string s;
    for (const auto& e : f) s += (s.empty() ? "" : ",") + found_text(e);
    return s.empty() ? "none" : s;
  }
  if (f.is_number_float()) {
    std::ostringstream s;
    s << std::round(f.get<double>() * 1000) / 1000;
    return s.str();
  }
  return f.dump();
}

std::optional<std::string> mismatch(const std::string& key, const OptionValue& expected, const nlohmann::json& found) {
  const OptionSpec* spec = nullptr;
  for (const auto& s : options())
    if (s.name == key) spec = &s;
  if (!spec || is_unset(*spec, expected)) return std::nullopt;
  const std::string text = found_text(found);
  if (found.is_null()) return text;
  switch (spec->type) {
    case OptionType::Int: {
      if (!found.is_number()) return text;
      return found.get<double>() == static_cast<double>(std::get<std::int64_t>(expected)) ? std::nullopt
                                                                                          : std::optional(text);
    }
    case OptionType::Double: {
      if (!found.is_number()) return text;
      return std::abs(found.get<double>() - std::get<double>(expected)) <= 0.01 ? std::nullopt : std::optional(text);
    }
    case OptionType::StringList: {
      if (!found.is_array()) return text;
      for (const auto& want : std::get<std::vector<std::string>>(expected)) {
        bool present = false;
        for (const auto& f : found) present = present || (f.is_string() && lower(f.get<std::string>()) == lower(want));
        if (!present) return text;
      }
      return std::nullopt;
    }
    case OptionType::String: {
      const std::string want = lower(std::get<std::string>(expected));
      const std::string got = lower(text);
      if (key == "scan" && want == "interlaced") return got == "tff" || got == "bff" ? std::nullopt : std::optional(text);
      if (key == "display_aspect_ratio") {
        double a = ratio_of(want), b = ratio_of(got);
        return std::isfinite(a) && std::isfinite(b) && std::abs(a - b) <= 0.01 * a ? std::nullopt : std::optional(text);
      }
      if (key == "level") {
        double a = ratio_of(want), b = ratio_of(got);  // "4" and "4.0" are the same level
        if (std::isfinite(a) && std::isfinite(b)) return a == b ? std::nullopt : std::optional(text);
      }
      return want == got ? std::nullopt : std::optional(text);
    }
    default: return std::nullopt;
  }
}

std::string aspect_ratio_name(long num, long den) {
  if (num <= 0 || den <= 0) return "";
  const double r = static_cast<double>(num) / static_cast<double>(den);
  for (const auto& name : kAspects) {
    if (name.empty()) continue;
    if (std::abs(ratio_of(name) - r) <= 0.01 * r) return name;
  }
  long g = std::gcd(num, den);
  return std::to_string(num / g) + ":" + std::to_string(den / g);
}

std::string expect_yaml(const nlohmann::json& found) {
  std::ostringstream y;
  y << "expect:\n";
  for (const auto& spec : options()) {
    if (!found.is_object() || !found.contains(spec.name)) continue;
    const auto& f = found[spec.name];
    if (f.is_null()) continue;
    if (spec.type == OptionType::StringList) {
      if (!f.is_array() || f.empty()) continue;
      y << "  " << spec.name << ": [";
      for (size_t i = 0; i < f.size(); ++i) y << (i ? ", " : "") << found_text(f[i]);
      y << "]\n";
    } else if (spec.type == OptionType::String) {
      y << "  " << spec.name << ": \"" << found_text(f) << "\"\n";
    } else {
      y << "  " << spec.name << ": " << found_text(f) << "\n";
    }
  }
  return y.str();
}

}  // namespace avmon::expect
