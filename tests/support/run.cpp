#include "support/run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>

#include <gtest/gtest.h>

namespace avmon::test {

RunResult run_process(const std::vector<std::string>& argv, double timeout_s) {
  RunResult r;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return r;
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  bool killed = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (!killed) kill(pid, SIGKILL);
      killed = true;
      left = std::chrono::milliseconds(1000);
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0) break;
    for (auto& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(p.fd, buf, sizeof buf);
      if (got <= 0) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
      } else {
        (p.fd == out_pipe[0] ? r.out : r.err).append(buf, static_cast<size_t>(got));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

void ffmpeg(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run_process(argv, 600);
  ASSERT_EQ(r.exit_status, 0) << "ffmpeg failed: " << r.err;
}

std::filesystem::path scratch_dir(const std::string& name) {
  static const std::filesystem::path root = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "avmon-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    return std::filesystem::path(made ? made : "/tmp/avmon-test");
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      if (!getenv("AVMON_KEEP_TEST_FILES")) std::filesystem::remove_all(root, ec);
    }
  } cleanup;
  auto dir = root / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string avmon_binary() {
  // To run the tests against another build (e.g. the one before a fix).
  if (const char* other = std::getenv("AVMON_TEST_BINARY"); other && *other) return other;
#ifdef AVMON_BINARY
  return AVMON_BINARY;
#else
  return "avmon";
#endif
}

RunResult run_avmon(const std::string& input, const std::filesystem::path& events,
                    const std::vector<std::string>& extra, double timeout_s) {
  std::vector<std::string> argv = {avmon_binary(), "run", "--input", input, "--events", events.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_process(argv, timeout_s);
}

std::vector<nlohmann::json> read_events(const std::filesystem::path& path) {
  std::vector<nlohmann::json> events;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
    if (j.is_object()) events.push_back(std::move(j));
  }
  return events;
}

std::vector<Interval> defects(const std::vector<nlohmann::json>& events, const std::string& type) {
  std::vector<Interval> out;
  std::map<std::string, size_t> open;
  for (const auto& e : events) {
    std::string kind = e.value("kind", "");
    if (kind != "defect.start" && kind != "defect.end") continue;
    if (!type.empty() && e.value("type", "") != type) continue;
    std::string id = e.value("id", "");
    if (kind == "defect.start") {
      open[id] = out.size();
      out.push_back({e.value("type", ""), e.value("media_time", -1.0),
                     std::numeric_limits<double>::infinity(), e});
    } else if (auto it = open.find(id); it != open.end()) {
      out[it->second].end_s = e.value("media_time", -1.0);
      open.erase(it);
    }
  }
  return out;
}

std::string describe(const std::vector<Interval>& v) {
  std::string s;
  for (const auto& i : v) s += i.type + "[" + std::to_string(i.start_s) + ", " + std::to_string(i.end_s) + "] ";
  return s.empty() ? "none" : s;
}

}  // namespace avmon::test
