#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "notify/notifier.hpp"

namespace avmon {

std::string event_line(const nlohmann::json& event) {
  static const char* const kFirst[] = {"kind", "id", "stream", "type", "detector", "channel",
                                       "media_time", "wall_time", "severity"};
  auto dump = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  if (!event.is_object()) return dump(event);
  std::string line = "{";
  auto add = [&](const std::string& key, const nlohmann::json& value) {
    if (line.size() > 1) line += ',';
    line += dump(key);
    line += ':';
    line += dump(value);
  };
  for (const char* key : kFirst)
    if (auto it = event.find(key); it != event.end()) add(key, *it);
  for (auto it = event.begin(); it != event.end(); ++it)
    if (std::find_if(std::begin(kFirst), std::end(kFirst), [&](const char* k) { return it.key() == k; }) ==
        std::end(kFirst))
      add(it.key(), it.value());
  line += '}';
  return line;
}

std::string delivery_id(const nlohmann::json& event) {
  std::string kind = event.is_object() ? event.value("kind", "event") : "event";
  for (char& c : kind)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (event.is_object() && event.contains("id") && event["id"].is_string())
    return event["id"].get<std::string>() + "_" + kind;
  // No defect id (stream.summary, ...): the line itself, wall_time included,
  // is unique; hashed once at enqueue and kept with the delivery.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : event_line(event)) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf) + "_" + kind;
}

namespace {

class JsonLines final : public Notifier {
 public:
  explicit JsonLines(const std::string& path) : path_(path) {
    if (path == "-") {
      out_ = stdout;
    } else {
      out_ = std::fopen(path.c_str(), "w");
      if (!out_) throw std::runtime_error("cannot write events to " + path + ": " + std::strerror(errno));
    }
  }
  ~JsonLines() override { close(); }
  std::string name() const override { return "jsonl:" + path_; }
  void deliver(const nlohmann::json& event) override {
    if (!out_) return;
    std::string line = event_line(event);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
  }
  void close() override {
    if (out_ && out_ != stdout) std::fclose(out_);
    else if (out_) std::fflush(out_);
    out_ = nullptr;
  }

 private:
  std::string path_;
  std::FILE* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Notifier> make_jsonl_notifier(const std::string& path) { return std::make_unique<JsonLines>(path); }

}  // namespace avmon
