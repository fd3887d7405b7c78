// How far `avmon run` has got, for people and for programs.
//
// For people (stderr is a terminal, no --quiet): one line on stderr,
// redrawn in place twice a second, as ffmpeg prints its statistics:
//   time=00:00:12.32 / 00:01:00.00  20%  speed=8.1x  defects=2 (1 active)
// Log messages clear the line, print, and the line is redrawn under them.
// At the end the last line stays, followed by a newline.
//
// For programs (--progress FILE|-): a block of key=value lines every half
// second, ending with progress=continue, and a last block with progress=end
// (as `ffmpeg -progress` writes them):
//   media_time_s=12.32  media_time=00:00:12.320  duration_s=60  speed=8.12x
//   video_frames=308  audio_blocks=577  defects=2  active_defects=1
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace avmon {

struct ProgressSample {
  double media_time_s = 0;          // analysed so far (the event engine's clock)
  std::uint64_t video_frames = 0;   // decoded so far
  std::uint64_t audio_blocks = 0;
  std::uint64_t defects = 0;        // defects started so far
  std::uint64_t active_defects = 0; // open now
};

// "HH:MM:SS.cc" (centiseconds), as ffmpeg's time=.
std::string progress_clock(double seconds);
// The terminal line for a sample; `duration_s` <= 0: unknown (live input);
// `speed` < 0: not known yet.
std::string progress_line(const ProgressSample& s, double duration_s, double speed);
// One machine-readable block, ending with "progress=continue\n" or "progress=end\n".
std::string progress_block(const ProgressSample& s, double duration_s, double speed, bool end);

// One status line at the bottom of a terminal. While it exists, log
// messages (spdlog's default logger) clear it, print, and redraw it below
// them. Create it before any other thread logs (it rewires the logger's
// sinks) and destroy it after they stopped.
class TerminalLine {
 public:
  explicit TerminalLine(std::FILE* out);
  ~TerminalLine();
  TerminalLine(const TerminalLine&) = delete;
  TerminalLine& operator=(const TerminalLine&) = delete;

  void draw(const std::string& line);
  // Leaves the last line in place and moves below it; later draws are ignored.
  void finish();
  // Runs `fn` (which writes to the same terminal) with the line cleared.
  void around(const std::function<void()>& fn);

 private:
  void erase_locked();
  std::FILE* out_;
  std::mutex mu_;
  std::string line_;
  bool finished_ = false;
  std::shared_ptr<void> saved_sinks_;
};

class ProgressReporter {
 public:
  struct Options {
    TerminalLine* terminal = nullptr;  // draw the line there, or not at all
    std::FILE* machine = nullptr;    // --progress output (not owned), or null
    double duration_s = 0;           // of the input; <= 0: unknown
    double period_s = 0.5;
  };
  // `probe` is called from the reporter's thread; it must be thread-safe.
  ProgressReporter(Options opts, std::function<ProgressSample()> probe);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Writes the final line / block (progress=end) and stops the thread.
  void finish();

 private:
  void loop();
  void report(bool end);

  Options opts_;
  std::function<ProgressSample()> probe_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;  // stop_
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  bool machine_failed_ = false;  // reporter thread, then finish()
  std::thread thread_;
};

}  // namespace avmon
