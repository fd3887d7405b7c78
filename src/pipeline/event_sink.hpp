// Where the event engine's lines go: the notifier hub in the application, a
// vector in tests.
#pragma once

#include <nlohmann/json.hpp>

namespace avmon {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called in event order from one thread at a time; must not block for long.
  virtual void emit(const nlohmann::json& event) = 0;
};

}  // namespace avmon
