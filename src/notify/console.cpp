#include <cmath>

#include "notify/notifier.hpp"
#include "util/numbers.hpp"
#include "util/text.hpp"

namespace avmon {

namespace {

std::string clock_text(double s) {
  char buf[32];
  int m = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof buf, "%02d:%05.2f", m, s - m * 60);
  return buf;
}

class Console final : public Notifier {
 public:
  Console(std::FILE* out, bool colour) : out_(out), colour_(colour) {}
  std::string name() const override { return "console"; }
  void deliver(const nlohmann::json& e) override {
    std::string kind = e.value("kind", "");
    double t = e.value("media_time", 0.0);
    const char* red = colour_ ? "\033[1;31m" : "";
    const char* green = colour_ ? "\033[1;32m" : "";
    const char* dim = colour_ ? "\033[2m" : "";
    const char* reset = colour_ ? "\033[0m" : "";
    // Names come from detectors, plugins included: printed as valid UTF-8.
    std::string what = valid_utf8(e.value("type", ""));
    if (e.contains("channel")) what += " (channel " + to_json_text(e["channel"]) + ")";
    if (kind == "defect.start") {
      std::fprintf(out_, "%s  %sSTART%s %-16s severity %s, detector %s\n", clock_text(t).c_str(), red, reset,
                   what.c_str(), valid_utf8(e.value("severity", "")).c_str(), valid_utf8(e.value("detector", "")).c_str());
    } else if (kind == "defect.end") {
      double d = e.contains("details") ? e["details"].value("duration_s", 0.0) : 0.0;
      std::fprintf(out_, "%s  %sEND%s   %-16s after %s s\n", clock_text(t).c_str(), green, reset, what.c_str(),
                   human_number(d, 2).c_str());
    } else if (kind == "stream.summary") {
      std::fprintf(out_, "%s  %ssummary: %s%s\n", clock_text(t).c_str(), dim,
                   e.contains("defects") ? to_json_text(e["defects"]).c_str() : "{}", reset);
    } else {
      std::fprintf(out_, "%s  %s%s%s\n", clock_text(t).c_str(), dim, valid_utf8(kind).c_str(), reset);
    }
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  bool colour_;
};

}  // namespace

std::unique_ptr<Notifier> make_console_notifier(std::FILE* out, bool colour) {
  return std::make_unique<Console>(out, colour);
}

}  // namespace avmon
