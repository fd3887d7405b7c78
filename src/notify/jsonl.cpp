#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "notify/notifier.hpp"
#include "util/lost_output.hpp"

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

// Each line is one write(2) on a descriptor of our own (no stdio buffer
// that could keep failed bytes and retry them later), so that a line is
// either written or counted as lost, and a failure is seen at once.
class JsonLines final : public Notifier {
 public:
  explicit JsonLines(const std::string& path) : path_(path) {
    if (path == "-") {
      fd_ = STDOUT_FILENO;
    } else {
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd_ < 0) throw std::runtime_error("cannot write events to " + path + ": " + std::strerror(errno));
    }
  }
  ~JsonLines() override { close(); }
  std::string name() const override { return "jsonl:" + path_; }
  void deliver(const nlohmann::json& event) override {
    if (fd_ < 0) return;
    std::string line = event_line(event);
    line += '\n';
    // stdout is shared with stdio users (the console, --print-expect):
    // whatever they buffered goes first.
    if (fd_ == STDOUT_FILENO) std::fflush(stdout);
    if (int err = write_all(line); err != 0)
      LostOutput::global().write_failed("events", "cannot write events to " + path_ + ": " + std::strerror(err), 1);
  }
  void reopen() override {
    if (fd_ < 0 || fd_ == STDOUT_FILENO) return;
    // Appended: with logrotate's copytruncate the file is still in place.
    const int fresh = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fresh < 0) {
      spdlog::error("cannot re-open the events file {}: {}; writing on to the old one", path_, std::strerror(errno));
      return;
    }
    if (::close(fd_) != 0)
      LostOutput::global().write_failed("events", "closing " + path_ + ": " + std::strerror(errno), 0);
    fd_ = fresh;
  }
  void close() override {
    if (fd_ < 0) return;
    if (fd_ != STDOUT_FILENO && ::close(fd_) != 0)
      LostOutput::global().write_failed("events", "closing " + path_ + ": " + std::strerror(errno), 0);
    fd_ = -1;
  }

 private:
  // 0, or the errno of the failure.
  int write_all(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n < 0 ? errno : EIO;
      done += static_cast<std::size_t>(n);
    }
    return 0;
  }

  std::string path_;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<Notifier> make_jsonl_notifier(const std::string& path) { return std::make_unique<JsonLines>(path); }

}  // namespace avmon
