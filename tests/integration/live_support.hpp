// Support for the live-input tests: background processes (avmon, ffmpeg
// senders, small python servers) that a test starts, stalls, stops and
// signals, and an event file watched while avmon is still writing it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace avmon::test {

using SteadyClock = std::chrono::steady_clock;

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b);

// A child process with stdout/stderr going to files in `dir`.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& log_path);
  ~Child();  // kills it if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits up to timeout_s for it to exit; its exit status (128+N when killed
  // by signal N), or -1 on timeout.
  int wait(double timeout_s);
  bool running();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_;
};

// `ffmpeg -re` sending `clip` (copied, looped) as MPEG-TS or another format to `url`.
std::vector<std::string> ffmpeg_sender(const std::filesystem::path& clip, const std::string& url,
                                       const std::string& format = "mpegts", bool loop = true,
                                       const std::vector<std::string>& extra_out = {});

// A 10 s 320x240 25 fps H.264 (1 s GOP) + AAC stereo MPEG-TS clip with a
// moving picture and pink noise: no defect of any kind. Made once and shared
// by the tests of every process (cached under the temp directory).
const std::filesystem::path& live_clip();
// The same at 640x360, 44.1 kHz: for a format change.
const std::filesystem::path& live_clip_hd();
// A 14 s 320x240 25 fps MPEG-TS clip with known defects: black 2-4 s,
// frozen 5-8.5 s, silent 10-12.5 s (cached like live_clip()).
const std::filesystem::path& live_defect_clip();

// Watches an event file that avmon is writing; only complete lines count.
class EventWatch {
 public:
  explicit EventWatch(std::filesystem::path path) : path_(std::move(path)) {}
  // Reads what was appended; each new event is stamped with the time it was seen.
  void poll();
  // Polls every 20 ms until an event matches (returns its index) or timeout.
  int wait_for(const std::function<bool(const nlohmann::json&)>& match, double timeout_s);
  // Waits for the nth (0-based) event of `kind` (and `type`, if given); its index or -1.
  int wait_nth(const std::string& kind, const std::string& type, size_t nth, double timeout_s);
  const std::vector<nlohmann::json>& events() const { return events_; }
  SteadyClock::time_point seen_at(size_t i) const { return seen_[i]; }

 private:
  std::filesystem::path path_;
  std::size_t offset_ = 0;
  std::string partial_;
  std::vector<nlohmann::json> events_;
  std::vector<SteadyClock::time_point> seen_;
};

// Writes a configuration file for a live test.
std::filesystem::path write_config(const std::filesystem::path& dir, const std::string& yaml);

// avmon run on `url` with `config`, events to `events`, logs to dir/avmon.log.
std::vector<std::string> avmon_run(const std::string& url, const std::filesystem::path& events,
                                   const std::filesystem::path& config);

}  // namespace avmon::test
