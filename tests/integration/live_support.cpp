#include "integration/live_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/run.hpp"

namespace avmon::test {

namespace fs = std::filesystem;

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Child::Child(const std::vector<std::string>& argv, const fs::path& log_path) : log_(log_path) {
  pid_ = fork();
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

Child::~Child() {
  if (running()) {
    kill(pid_, SIGCONT);
    kill(pid_, SIGKILL);
    wait(5);
  }
}

void Child::signal(int sig) {
  if (status_ < 0) kill(pid_, sig);
}

bool Child::running() {
  if (status_ >= 0 || pid_ <= 0) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int Child::wait(double timeout_s) {
  auto until = SteadyClock::now() + std::chrono::duration<double>(timeout_s);
  while (running()) {
    if (SteadyClock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::string Child::log() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> ffmpeg_sender(const fs::path& clip, const std::string& url, const std::string& format,
                                       bool loop, const std::vector<std::string>& extra_out) {
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re"};
  if (loop) argv.insert(argv.end(), {"-stream_loop", "-1"});
  argv.insert(argv.end(), {"-i", clip.string(), "-c", "copy"});
  argv.insert(argv.end(), extra_out.begin(), extra_out.end());
  argv.insert(argv.end(), {"-f", format, url});
  return argv;
}

namespace {

// Clips are cached across test processes (ctest runs each test alone):
// made under a temporary name and renamed, so a reader never sees half a file.
fs::path cached_clip(const std::string& name, const std::vector<std::string>& args) {
  fs::path dir = fs::temp_directory_path() / "avmon-live-clips";
  fs::create_directories(dir);
  fs::path path = dir / name;
  if (fs::exists(path)) return path;
  fs::path tmp = dir / (name + "." + std::to_string(getpid()) + ".tmp.ts");
  std::vector<std::string> a = args;
  a.push_back(tmp.string());
  ffmpeg(a);
  fs::rename(tmp, path);
  return path;
}

std::vector<std::string> clip_args(const std::string& size, int rate, int seconds) {
  std::string d = std::to_string(seconds);
  return {"-f", "lavfi", "-i", "testsrc2=s=" + size + ":r=25:d=" + d, "-f", "lavfi", "-i",
          "anoisesrc=color=pink:amplitude=0.25:sample_rate=" + std::to_string(rate) + ":seed=7:d=" + d,
          "-af", "aformat=channel_layouts=stereo", "-c:v", "libx264", "-preset", "veryfast", "-g", "25",
          "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", "mpegts"};
}

}  // namespace

const fs::path& live_clip() {
  static const fs::path p = cached_clip("clip-320x240-48k-v1.ts", clip_args("320x240", 48000, 10));
  return p;
}

const fs::path& live_clip_hd() {
  static const fs::path p = cached_clip("clip-640x360-44k-v1.ts", clip_args("640x360", 44100, 10));
  return p;
}

const fs::path& live_defect_clip() {
  static const fs::path p = cached_clip(
      "defects-320x240-v1.ts",
      {"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=14", "-f", "lavfi", "-i",
       "anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=7:d=14", "-filter_complex",
       "[0:v]drawbox=enable='between(t,2,3.999)':color=black:t=fill,split[a][b];"
       "[a][b]freezeframes=first=125:last=212:replace=125[v];"
       "[1:a]volume=enable='between(t,10,12.499)':volume=0,aformat=channel_layouts=stereo[s]",
       "-map", "[v]", "-map", "[s]", "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p",
       "-c:a", "aac", "-b:a", "128k", "-f", "mpegts"});
  return p;
}

void EventWatch::poll() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;
  auto now = SteadyClock::now();
  for (size_t nl; (nl = partial_.find('\n')) != std::string::npos;) {
    std::string line = partial_.substr(0, nl);
    partial_.erase(0, nl + 1);
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
    if (!j.is_object()) continue;
    events_.push_back(std::move(j));
    seen_.push_back(now);
  }
}

int EventWatch::wait_for(const std::function<bool(const nlohmann::json&)>& match, double timeout_s) {
  auto until = SteadyClock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    poll();
    for (size_t i = 0; i < events_.size(); ++i)
      if (match(events_[i])) return static_cast<int>(i);
    if (SteadyClock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int EventWatch::wait_nth(const std::string& kind, const std::string& type, size_t nth, double timeout_s) {
  auto until = SteadyClock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    poll();
    size_t seen = 0;
    for (size_t i = 0; i < events_.size(); ++i) {
      const auto& e = events_[i];
      if (e.value("kind", "") != kind || (!type.empty() && e.value("type", "") != type)) continue;
      if (seen++ == nth) return static_cast<int>(i);
    }
    if (SteadyClock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

fs::path write_config(const fs::path& dir, const std::string& yaml) {
  fs::path p = dir / "avmon.yaml";
  std::ofstream(p) << yaml;
  return p;
}

std::vector<std::string> avmon_run(const std::string& url, const fs::path& events, const fs::path& config) {
  return {avmon_binary(), "run", "--input", url, "--events", events.string(), "--config", config.string()};
}

}  // namespace avmon::test
