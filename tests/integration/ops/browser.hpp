// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: requests on its fd 3, answers on fd 4, each a
// JSON object ended by a NUL byte), so a test can click, type and read the
// page as an operator would, with no WebDriver and no extra port.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace avmon::test {

class Browser {
 public:
  // Starts `chromium` with a fresh profile in `dir` and a viewport of
  // width x height CSS pixels. Throws std::runtime_error when it cannot.
  Browser(const std::string& chromium, const std::filesystem::path& dir, int width = 1280, int height = 900);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Opens `url` in a new tab and waits for its load event.
  void open(const std::string& url);
  // The value of a JavaScript expression in the page (promises awaited);
  // throws with the exception's text when it threw.
  nlohmann::json eval(const std::string& expression);
  // Evaluates `expression` every 100 ms until it is true; false after timeout_s.
  bool wait_for(const std::string& expression, double timeout_s);
  // Types text into the focused element, as keystrokes would.
  void type(const std::string& text);
  // A PNG of the whole page (at least the viewport), written to `path`.
  void screenshot(const std::filesystem::path& path);
  // A DevTools command; in the tab's session unless `browser_level`.
  nlohmann::json call(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                      bool browser_level = false, double timeout_s = 30);

 private:
  nlohmann::json read_message(double timeout_s);

  pid_t pid_ = -1;
  int to_browser_ = -1, from_browser_ = -1;
  std::string pending_;  // bytes read past the last whole message
  int next_id_ = 1;
  std::string session_;
  int width_, height_;
};

}  // namespace avmon::test
