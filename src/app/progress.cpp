#include "app/progress.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include "util/numbers.hpp"

namespace avmon {

namespace {

// Wraps one of the logger's sinks so that each message is written with the
// status line cleared, and the line redrawn after it.
class AroundSink final : public spdlog::sinks::sink {
 public:
  AroundSink(std::shared_ptr<spdlog::sinks::sink> inner, TerminalLine& line) : inner_(std::move(inner)), line_(line) {
    set_level(inner_->level());
  }
  void log(const spdlog::details::log_msg& msg) override {
    line_.around([&] {
      inner_->log(msg);
      inner_->flush();
    });
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  TerminalLine& line_;
};

using Sinks = std::vector<spdlog::sink_ptr>;

}  // namespace

std::string progress_clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  auto cs = static_cast<long long>(std::llround(seconds * 100));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%02lld", cs / 360000, cs / 6000 % 60, cs / 100 % 60, cs % 100);
  return buf;
}

std::string progress_line(const ProgressSample& s, double duration_s, double speed) {
  std::string line = "time=" + progress_clock(s.media_time_s);
  if (duration_s > 0) {
    line += " / " + progress_clock(duration_s);
    double pct = std::clamp(100.0 * s.media_time_s / duration_s, 0.0, 100.0);
    line += "  " + human_number(std::floor(pct), 0) + "%";
  }
  line += "  speed=" + (speed >= 0 ? human_number(speed, speed < 10 ? 2 : 1) + "x" : std::string("N/A"));
  line += "  defects=" + std::to_string(s.defects);
  if (s.active_defects > 0) line += " (" + std::to_string(s.active_defects) + " active)";
  return line;
}

std::string progress_block(const ProgressSample& s, double duration_s, double speed, bool end) {
  char ms[48];
  double t = std::max(0.0, s.media_time_s);
  auto total_ms = static_cast<long long>(std::llround(t * 1000));
  std::snprintf(ms, sizeof ms, "%02lld:%02lld:%02lld.%03lld", total_ms / 3600000, total_ms / 60000 % 60,
                total_ms / 1000 % 60, total_ms % 1000);
  std::string b;
  b += "media_time_s=" + human_number(t) + "\n";
  b += "media_time=" + std::string(ms) + "\n";
  b += "duration_s=" + (duration_s > 0 ? human_number(duration_s) : std::string("N/A")) + "\n";
  b += "video_frames=" + std::to_string(s.video_frames) + "\n";
  b += "audio_blocks=" + std::to_string(s.audio_blocks) + "\n";
  b += "defects=" + std::to_string(s.defects) + "\n";
  b += "active_defects=" + std::to_string(s.active_defects) + "\n";
  b += "speed=" + (speed >= 0 ? human_number(speed, 3) + "x" : std::string("N/A")) + "\n";
  b += end ? "progress=end\n" : "progress=continue\n";
  return b;
}

// ---- TerminalLine

TerminalLine::TerminalLine(std::FILE* out) : out_(out) {
  auto logger = spdlog::default_logger();
  auto saved = std::make_shared<Sinks>(logger->sinks());
  for (auto& sink : logger->sinks()) sink = std::make_shared<AroundSink>(sink, *this);
  saved_sinks_ = saved;
}

TerminalLine::~TerminalLine() {
  finish();
  spdlog::default_logger()->sinks() = *std::static_pointer_cast<Sinks>(saved_sinks_);
}

void TerminalLine::erase_locked() {
  if (line_.empty()) return;
  std::fprintf(out_, "\r%*s\r", static_cast<int>(line_.size()), "");
}

void TerminalLine::draw(const std::string& line) {
  std::lock_guard lk(mu_);
  if (finished_) return;
  // Overwrite in place; pad over what a longer previous line left.
  std::string text = "\r" + line;
  if (line.size() < line_.size()) text += std::string(line_.size() - line.size(), ' ') + "\r" + line;
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
  line_ = line;
}

void TerminalLine::finish() {
  std::lock_guard lk(mu_);
  if (finished_) return;
  finished_ = true;
  if (!line_.empty()) std::fputc('\n', out_);
  std::fflush(out_);
  line_.clear();
}

void TerminalLine::around(const std::function<void()>& fn) {
  std::lock_guard lk(mu_);
  erase_locked();
  std::fflush(out_);
  fn();
  if (!line_.empty()) std::fputs(line_.c_str(), out_);
  std::fflush(out_);
}

// ---- ProgressReporter

ProgressReporter::ProgressReporter(Options opts, std::function<ProgressSample()> probe)
    : opts_(opts), probe_(std::move(probe)), start_(std::chrono::steady_clock::now()) {
  if (opts_.terminal || opts_.machine) thread_ = std::thread([this] { loop(); });
}

ProgressReporter::~ProgressReporter() { finish(); }

void ProgressReporter::loop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    if (cv_.wait_for(lk, std::chrono::duration<double>(opts_.period_s), [this] { return stop_; })) break;
    lk.unlock();
    report(false);
    lk.lock();
  }
}

void ProgressReporter::report(bool end) {
  ProgressSample s = probe_();
  double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // Speed over the whole run, as ffmpeg shows it; not before a tenth of a second has passed.
  double speed = elapsed_s >= 0.1 ? s.media_time_s / elapsed_s : -1;
  if (opts_.terminal) opts_.terminal->draw(progress_line(s, opts_.duration_s, speed));
  if (opts_.machine && !machine_failed_) {
    std::string b = progress_block(s, opts_.duration_s, speed, end);
    if (std::fwrite(b.data(), 1, b.size(), opts_.machine) != b.size() || std::fflush(opts_.machine) != 0) {
      machine_failed_ = true;
      spdlog::error("cannot write progress: {}", std::strerror(errno));
    }
  }
}

void ProgressReporter::finish() {
  {
    std::lock_guard lk(mu_);
    if (finished_) return;
    finished_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (opts_.terminal || opts_.machine) report(true);
  if (opts_.terminal) opts_.terminal->finish();
}

}  // namespace avmon
