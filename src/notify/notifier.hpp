// Notifiers deliver event lines to the outside world. The hub is the event
// engine's sink; it hands each line to every notifier.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/event_sink.hpp"

namespace avmon {

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string name() const = 0;
  virtual void deliver(const nlohmann::json& event) = 0;
  // Flush and release; called once, after the last event.
  virtual void close() {}
};

class NotifierHub final : public EventSink {
 public:
  void add(std::unique_ptr<Notifier> n) { notifiers_.push_back(std::move(n)); }
  void emit(const nlohmann::json& event) override {
    std::lock_guard lk(mu_);
    for (auto& n : notifiers_) n->deliver(event);
  }
  void close() {
    std::lock_guard lk(mu_);
    for (auto& n : notifiers_) n->close();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Notifier>> notifiers_;
};

// One event as one line of JSON, contract fields first (kind, id, stream,
// type, detector, channel, media_time, wall_time, severity), then the rest.
std::string event_line(const nlohmann::json& event);

// JSON lines to a file (appended) or to stdout ("-"); each line is flushed so
// that `tail -f` and pipes see events as they happen. Throws on open failure.
std::unique_ptr<Notifier> make_jsonl_notifier(const std::string& path);

// One readable line per event for a person at a terminal.
std::unique_ptr<Notifier> make_console_notifier(std::FILE* out, bool colour);

}  // namespace avmon
