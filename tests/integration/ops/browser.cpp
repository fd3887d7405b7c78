#include "integration/ops/browser.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace avmon::test {

namespace {

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

Browser::Browser(const std::string& chromium, const std::filesystem::path& dir, int width, int height)
    : width_(width), height_(height) {
  int to[2], from[2];
  if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::filesystem::create_directories(dir);
  const std::string log = (dir / "chromium.log").string();
  // The flags this machine's closed network needs, as in the other Chromium tests.
  std::vector<std::string> argv = {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                   "--no-first-run", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                                   "--hide-scrollbars", "--remote-debugging-pipe",
                                   "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                                   "--user-data-dir=" + (dir / "profile").string(), "about:blank"};
  // Everything the child needs is made before fork(): it only makes system calls.
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);  // its helpers (renderer, zygote) share the group: killed together
    // Out of the way of 3 and 4 first, then onto them (dup2 clears close-on-exec).
    int in = fcntl(to[0], F_DUPFD, 10), out = fcntl(from[1], F_DUPFD, 10);
    if (in < 0 || out < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0) _exit(127);
    int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (logfd >= 0) {
      dup2(logfd, 1);
      dup2(logfd, 2);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  setpgid(pid_, pid_);
  close(to[0]);
  close(from[1]);
  to_browser_ = to[1];
  from_browser_ = from[0];
}

Browser::~Browser() {
  if (pid_ > 0) {
    try {
      call("Browser.close", nlohmann::json::object(), true, 5);
    } catch (const std::exception&) {
    }
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
      gone = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(-pid_, SIGKILL);  // what is left of its process group
    if (!gone) waitpid(pid_, &status, 0);
  }
  if (to_browser_ >= 0) close(to_browser_);
  if (from_browser_ >= 0) close(from_browser_);
}

nlohmann::json Browser::read_message(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    auto nul = pending_.find('\0');
    if (nul != std::string::npos) {
      std::string text = pending_.substr(0, nul);
      pending_.erase(0, nul + 1);
      return nlohmann::json::parse(text);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("chromium: no answer in time");
    pollfd p{from_browser_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = read(from_browser_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("chromium closed its end of the pipe (see chromium.log)");
    pending_.append(buf, static_cast<size_t>(n));
  }
}

nlohmann::json Browser::call(const std::string& method, const nlohmann::json& params, bool browser_level,
                             double timeout_s) {
  const int id = next_id_++;
  nlohmann::json msg = {{"id", id}, {"method", method}, {"params", params}};
  if (!browser_level && !session_.empty()) msg["sessionId"] = session_;
  std::string text = msg.dump();
  text.push_back('\0');
  for (size_t done = 0; done < text.size();) {
    ssize_t n = write(to_browser_, text.data() + done, text.size() - done);
    if (n <= 0) throw std::runtime_error("chromium: cannot write to its pipe");
    done += static_cast<size_t>(n);
  }
  for (;;) {
    nlohmann::json answer = read_message(timeout_s);
    if (answer.value("id", -1) != id) continue;  // events and other answers
    if (answer.contains("error")) throw std::runtime_error(method + ": " + answer["error"].dump());
    return answer.value("result", nlohmann::json::object());
  }
}

void Browser::open(const std::string& url) {
  std::string target = call("Target.createTarget", {{"url", "about:blank"}}, true)["targetId"];
  session_ = call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}}, true)["sessionId"];
  call("Emulation.setDeviceMetricsOverride",
       {{"width", width_}, {"height", height_}, {"deviceScaleFactor", 1}, {"mobile", false}});
  call("Page.enable");
  call("Page.navigate", {{"url", url}});
  if (!wait_for("document.readyState === 'complete'", 30)) throw std::runtime_error("page did not load: " + url);
}

nlohmann::json Browser::eval(const std::string& expression) {
  auto r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (r.contains("exceptionDetails")) throw std::runtime_error("page threw: " + r["exceptionDetails"].dump());
  return r["result"].value("value", nlohmann::json());
}

bool Browser::wait_for(const std::string& expression, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  do {
    nlohmann::json v = eval("Boolean(" + expression + ")");
    if (v.is_boolean() && v.get<bool>()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

void Browser::type(const std::string& text) { call("Input.insertText", {{"text", text}}); }

void Browser::screenshot(const std::filesystem::path& path) {
  // The whole page, however long it is.
  const auto size = call("Page.getLayoutMetrics")["cssContentSize"];
  const nlohmann::json clip = {{"x", 0}, {"y", 0}, {"width", size.value("width", 1.0 * width_)},
                               {"height", size.value("height", 1.0 * height_)}, {"scale", 1}};
  auto r = call("Page.captureScreenshot", {{"format", "png"}, {"captureBeyondViewport", true}, {"clip", clip}});
  std::ofstream out(path, std::ios::binary);
  const std::string png = base64_decode(r.value("data", ""));
  out.write(png.data(), static_cast<std::streamsize>(png.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace avmon::test
