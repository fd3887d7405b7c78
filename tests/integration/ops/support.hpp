// Helpers for the operations tests: background processes (services and
// avmon itself), free loopback ports, tiny HTTP GETs, waiting for conditions.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace avmon::test {

// A loopback TCP port that was free a moment ago.
int free_port();

// Full path of an installed program, or "" (searched in PATH and /usr/sbin).
std::string find_program(const std::string& name);

// A process in the background; stdout and stderr go to files in `dir`.
// Killed (SIGKILL) and reaped when destroyed.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::filesystem::path& dir, const std::string& tag,
          std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  void signal(int sig);
  // Waits for exit; returns the exit status (128+N when killed by N), or -1 on timeout.
  int wait(double timeout_s);
  bool running();
  std::string out() const;
  std::string err() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path out_, err_;
};

struct HttpResult {
  int status = 0;  // 0: no connection
  std::string body;
  double elapsed_s = 0;
};
HttpResult http_get(int port, const std::string& path, double timeout_s = 5);
HttpResult http_post_json(int port, const std::string& path, const std::string& body, double timeout_s = 5);
// Any method, with a JSON body (may be empty) and extra header lines ("Name: value\r\n").
HttpResult http_call(int port, const std::string& method, const std::string& path, const std::string& body,
                     const std::string& headers = "", double timeout_s = 5);

// Polls `pred` every poll_s until it is true or timeout_s passed.
bool wait_until(const std::function<bool()>& pred, double timeout_s, double poll_s = 0.2);

// Waits until something accepts connections on the loopback port.
bool wait_for_port(int port, double timeout_s);

std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path);
std::string read_file(const std::filesystem::path& path);

// The test webhook receiver (tests/integration/ops/receiver.py).
std::vector<std::string> receiver_argv(int port, const std::filesystem::path& log, const std::string& secret = "",
                                       const std::string& script = "", int default_status = 200);

// A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback
// port that forwards its notifications (firing and resolved) to the test
// receiver, so a test sees what an on-call person would get.
struct AlertmanagerServer {
  int port = free_port();
  int hook_port = free_port();
  std::unique_ptr<Process> am, hook;
  std::filesystem::path hook_log;

  bool start(const std::string& binary, const std::filesystem::path& dir);
  // Alerts Alertmanager holds now (firing ones; resolved ones leave the list).
  nlohmann::json alerts();
  // Notifications Alertmanager sent, as (status, labels) pairs.
  std::vector<std::pair<std::string, nlohmann::json>> notifications();
  bool notified(const std::string& status, const std::string& stream, const std::string& type);
};

// A clip with a moving test picture and stereo tone + noise; `filter` is
// appended to the video chain (e.g. a black box), `afilter` to the audio one.
std::filesystem::path make_clip(const std::filesystem::path& dir, const std::string& name, double duration_s,
                                const std::string& vfilter = "", const std::string& afilter = "");

// Prints a loud skip reason when a required program is missing.
#define AVMON_REQUIRE_PROGRAM(var, name)                                                              \
  std::string var = ::avmon::test::find_program(name);                                                \
  if (var.empty()) GTEST_SKIP() << "\n\n*** SKIPPED: '" << name << "' is not installed (scripts/setup " \
                                   "installs it) ***\n\n"

}  // namespace avmon::test
