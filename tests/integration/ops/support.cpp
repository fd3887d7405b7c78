#include "integration/ops/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/run.hpp"

namespace avmon::test {

namespace fs = std::filesystem;

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string find_program(const std::string& name) {
  std::string path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
  path += ":/usr/sbin:/sbin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    fs::path p = fs::path(dir) / name;
    if (access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

Process::Process(std::vector<std::string> argv, const fs::path& dir, const std::string& tag,
                 std::map<std::string, std::string> env)
    : out_(dir / (tag + ".out")), err_(dir / (tag + ".err")) {
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    int o = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(10);
  }
}

void Process::signal(int sig) {
  if (pid_ > 0 && status_ < 0) ::kill(pid_, sig);
}

bool Process::running() {
  if (pid_ <= 0 || status_ >= 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int Process::wait(double timeout_s) {
  wait_until([&] { return !running(); }, timeout_s, 0.05);
  return status_;
}

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Process::out() const { return read_file(out_); }
std::string Process::err() const { return read_file(err_); }

namespace {

HttpResult http_request(int port, const std::string& request, double timeout_s) {
  HttpResult r;
  auto t0 = std::chrono::steady_clock::now();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{static_cast<time_t>(timeout_s), static_cast<suseconds_t>((timeout_s - static_cast<int>(timeout_s)) * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return r;
  }
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return r;
  }
  std::string resp;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  r.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (resp.rfind("HTTP/1.", 0) != 0) return r;
  r.status = std::atoi(resp.c_str() + 9);
  auto body = resp.find("\r\n\r\n");
  if (body != std::string::npos) r.body = resp.substr(body + 4);
  return r;
}

}  // namespace

HttpResult http_get(int port, const std::string& path, double timeout_s) {
  return http_request(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout_s);
}

HttpResult http_post_json(int port, const std::string& path, const std::string& body, double timeout_s) {
  return http_request(port,
                      "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
                      "application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                      timeout_s);
}

HttpResult http_call(int port, const std::string& method, const std::string& path, const std::string& body,
                     const std::string& headers, double timeout_s) {
  return http_request(port,
                      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers +
                          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body,
                      timeout_s);
}

bool wait_until(const std::function<bool()>& pred, double timeout_s, double poll_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
}

bool wait_for_port(int port, double timeout_s) {
  return wait_until(
      [&] {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(port));
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        close(fd);
        return ok;
      },
      timeout_s, 0.1);
}

std::vector<nlohmann::json> read_json_lines(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));  // a line being written is skipped
  }
  return out;
}

std::vector<std::string> receiver_argv(int port, const fs::path& log, const std::string& secret,
                                       const std::string& script, int default_status) {
  return {"python3", std::string(AVMON_SOURCE_DIR) + "/tests/integration/ops/receiver.py", "--port",
          std::to_string(port), "--log", log.string(), "--secret", secret, "--script", script, "--default",
          std::to_string(default_status), "--lifetime", "300"};
}

fs::path make_clip(const fs::path& dir, const std::string& name, double duration_s, const std::string& vfilter,
                   const std::string& afilter) {
  fs::path path = dir / name;
  std::string d = std::to_string(duration_s);
  std::string v = "[0:v]" + (vfilter.empty() ? std::string("null") : vfilter) + "[v]";
  std::string a = "[1:a]" + (afilter.empty() ? std::string("anull") : afilter) + ",aformat=channel_layouts=stereo[s]";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=" + d, "-f", "lavfi", "-i",
          "anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=7:d=" + d, "-filter_complex", v + ";" + a,
          "-map", "[v]", "-map", "[s]", "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-b:a", "128k", path.string()});
  return path;
}

bool AlertmanagerServer::start(const std::string& binary, const fs::path& dir) {
  hook_log = dir / "am-notifications.jsonl";
  hook = std::make_unique<Process>(receiver_argv(hook_port, hook_log), dir, "am-hook");
  std::ofstream(dir / "alertmanager.yml")
      << "route:\n  receiver: hook\n  group_by: [stream, type]\n  group_wait: 1s\n  group_interval: 1s\n"
         "  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n"
         "      - url: http://127.0.0.1:" << hook_port << "/am\n        send_resolved: true\n";
  fs::create_directories(dir / "am-data");
  am = std::make_unique<Process>(
      std::vector<std::string>{binary, "--config.file=" + (dir / "alertmanager.yml").string(),
                               "--storage.path=" + (dir / "am-data").string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address=",
                               "--log.level=warn"},
      dir, "alertmanager");
  return wait_for_port(port, 30) && wait_for_port(hook_port, 10);
}

nlohmann::json AlertmanagerServer::alerts() {
  auto r = http_get(port, "/api/v2/alerts");
  return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json::array();
}

std::vector<std::pair<std::string, nlohmann::json>> AlertmanagerServer::notifications() {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const auto& n : read_json_lines(hook_log))
    if (n["body"].is_object())
      for (const auto& a : n["body"]["alerts"]) out.emplace_back(a.value("status", ""), a["labels"]);
  return out;
}

bool AlertmanagerServer::notified(const std::string& status, const std::string& stream, const std::string& type) {
  for (const auto& [s, labels] : notifications())
    if (s == status && labels.value("stream", "") == stream && labels.value("type", "") == type) return true;
  return false;
}

}  // namespace avmon::test
