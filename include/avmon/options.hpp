// Detector options declared as data: one table gives the defaults, the
// validation of the YAML (types, ranges, unknown keys) and the help that
// `avmon detectors` prints. Header-only so that plugins need no host symbols.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace avmon {

// A rectangle in fractions of the picture (0..1), e.g. where a logo sits.
struct Region {
  double x = 0, y = 0, w = 0, h = 0;
  bool operator==(const Region&) const = default;
};

// StringList: a YAML list of strings (a single string is a list of one);
// with choices, every element must be one of them.
enum class OptionType { Bool, Int, Double, String, Regions, StringList };

using OptionValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<Region>, std::vector<std::string>>;

struct OptionSpec {
  std::string name;                  // YAML key, snake_case with a unit suffix
  OptionType type = OptionType::Double;
  OptionValue default_value;
  std::optional<double> min;         // inclusive, numeric types only
  std::optional<double> max;
  std::string unit;                  // "s", "dB", "LUFS", "fraction", ...
  std::string help;
  std::vector<std::string> choices;  // String, StringList options: allowed values (empty: any)
};

inline const char* option_type_name(OptionType t) {
  switch (t) {
    case OptionType::Bool: return "bool";
    case OptionType::Int: return "int";
    case OptionType::Double: return "number";
    case OptionType::String: return "string";
    case OptionType::Regions: return "regions";
    case OptionType::StringList: return "list of strings";
  }
  return "?";
}

// Validated option values for one detector instance. Every declared option has
// a value (the default when the configuration does not set it).
class Options {
 public:
  Options() = default;
  explicit Options(std::map<std::string, OptionValue> values) : values_(std::move(values)) {}

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, OptionValue v) { values_[name] = std::move(v); }

  bool get_bool(const std::string& name) const { return std::get<bool>(at(name)); }
  std::int64_t get_int(const std::string& name) const { return std::get<std::int64_t>(at(name)); }
  double get_double(const std::string& name) const {
    const auto& v = at(name);
    if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return std::get<double>(v);
  }
  const std::string& get_string(const std::string& name) const { return std::get<std::string>(at(name)); }
  const std::vector<Region>& get_regions(const std::string& name) const {
    return std::get<std::vector<Region>>(at(name));
  }
  const std::vector<std::string>& get_strings(const std::string& name) const {
    return std::get<std::vector<std::string>>(at(name));
  }
  const std::map<std::string, OptionValue>& values() const { return values_; }

 private:
  const OptionValue& at(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::out_of_range("avmon: option not declared: " + name);
    return it->second;
  }
  std::map<std::string, OptionValue> values_;
};

// Defaults of a table, for tests and for detectors built outside a config.
inline Options default_options(const std::vector<OptionSpec>& specs) {
  Options o;
  for (const auto& s : specs) o.set(s.name, s.default_value);
  return o;
}

}  // namespace avmon
