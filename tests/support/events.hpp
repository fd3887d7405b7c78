// Event lines for unit tests of the event engine and of what sits behind it
// (the alarm layer, its API): a sink that keeps every line, observations
// made by hand, and one detector's condition fed to the engine at 25 fps.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/engine.hpp"

namespace avmon::test {

// Keeps every line emitted, in order.
struct Lines : EventSink {
  std::vector<nlohmann::json> all;
  void emit(const nlohmann::json& e) override { all.push_back(e); }
  // The lines of one kind ("defect.start").
  std::vector<nlohmann::json> of(const std::string& kind) const;
  // The lines about one defect type as kind@media_time ("defect.start@1.0").
  std::vector<std::string> kinds(const std::string& type) const;
};

// What a detector reports of `type` at media time `t` (channel -1: not per
// channel).
Observation obs(const std::string& type, double t, bool active, int channel = -1);

// Feeds detector `det` its own type as active over [from, to) and inactive
// elsewhere in [0, until), at 25 fps, advancing the engine after each.
void feed(EventEngine& e, const std::string& det, double from, double to, double until);

}  // namespace avmon::test
