#include "support/events.hpp"

namespace avmon::test {

std::vector<nlohmann::json> Lines::of(const std::string& kind) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : all)
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

std::vector<std::string> Lines::kinds(const std::string& type) const {
  std::vector<std::string> k;
  for (const auto& l : all)
    if (l.value("type", "") == type) k.push_back(l["kind"].get<std::string>() + "@" + l["media_time"].dump());
  return k;
}

Observation obs(const std::string& type, double t, bool active, int channel) {
  Observation o;
  o.type = type;
  o.media_time_s = t;
  o.active = active;
  o.channel = channel;
  return o;
}

void feed(EventEngine& e, const std::string& det, double from, double to, double until) {
  for (int i = 0; i < static_cast<int>(until * 25); ++i) {
    double t = i / 25.0;
    e.observe(det, obs(det, t, t >= from && t < to));
    e.advance(t);
  }
}

}  // namespace avmon::test
