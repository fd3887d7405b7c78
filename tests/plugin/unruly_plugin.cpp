// A badly behaved out-of-tree detector, built like any plugin (SDK headers
// only), for the tests of how the host copes: it can be slow (a sleep per
// picture, or one long stall), throw an int or a std::exception, or crash,
// from any of the calls the host makes. Otherwise it reports "dark" pictures
// (mean luma below 40), so that its own events can be checked too.
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <thread>

#include <opencv2/core.hpp>

#include "avmon/plugin.hpp"

namespace {

class Unruly final : public avmon::Detector {
 public:
  explicit Unruly(const avmon::Options& o)
      : delay_ms_(o.get_double("delay_ms")), stall_ms_(o.get_double("stall_ms")),
        stall_at_(o.get_int("stall_at_picture")), fault_(o.get_string("fault")), fault_in_(o.get_string("fault_in")),
        fault_from_(o.get_int("fault_from_picture")) {}

  void configure(const avmon::StreamInfo&) override { maybe_fail("configure"); }

  void on_video(const avmon::VideoFrame& f, avmon::ObservationSink& out) override {
    ++pictures_;
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay_ms_));
    if (stall_ms_ > 0 && pictures_ == stall_at_)
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(stall_ms_));
    maybe_fail("video");
    double mean = cv::mean(f.luma())[0];
    avmon::Observation o;
    o.type = "dark";
    o.media_time_s = f.media_time_s();
    o.active = mean < 40;
    o.score = mean;
    o.details = {{"mean_luma", mean}};
    out.observe(std::move(o));
  }

  void finish(double, avmon::ObservationSink&) override { maybe_fail("finish"); }

  nlohmann::json summary() const override {
    maybe_fail("summary");
    return {{"unruly", {{"pictures", pictures_}}}};
  }

  nlohmann::json levels() const override {
    maybe_fail("levels");
    return {{"pictures", pictures_}};
  }

 private:
  void maybe_fail(const char* where) const {
    if (fault_ == "none" || fault_in_ != where || pictures_ < fault_from_) return;
    if (fault_ == "throw_int") throw 42;
    if (fault_ == "throw_std") throw std::runtime_error(std::string("unruly fails in ") + where);
    if (fault_ == "segv") std::raise(SIGSEGV);
  }

  double delay_ms_, stall_ms_;
  std::int64_t stall_at_;
  std::string fault_, fault_in_;
  std::int64_t fault_from_;
  std::int64_t pictures_ = 0;
};

void fill(std::vector<avmon::DetectorInfo>& out) {
  avmon::DetectorInfo d;
  d.name = "unruly";
  d.summary = "dark pictures, slowly or failing on request (test plugin)";
  d.media = avmon::kVideo;
  d.types = {"dark"};
  d.options = {
      {"delay_ms", avmon::OptionType::Double, 0.0, 0.0, 600000.0, "ms", "sleep this long per picture", {}},
      {"stall_ms", avmon::OptionType::Double, 0.0, 0.0, 600000.0, "ms", "sleep this long once, at stall_at_picture", {}},
      {"stall_at_picture", avmon::OptionType::Int, std::int64_t{1}, 1.0, 1e9, "", "1-based picture of the stall", {}},
      {"fault", avmon::OptionType::String, std::string("none"), {}, {}, "", "what goes wrong",
       {"none", "throw_int", "throw_std", "segv"}},
      {"fault_in", avmon::OptionType::String, std::string("video"), {}, {}, "", "in which call",
       {"configure", "video", "finish", "summary", "levels"}},
      {"fault_from_picture", avmon::OptionType::Int, std::int64_t{0}, 0.0, 1e9, "",
       "calls work normally until this many pictures were seen", {}},
  };
  d.min_duration_s = 0.5;
  d.hold_off_s = 0.5;
  d.severity = "minor";
  d.create = [](const avmon::Options& o) { return std::make_unique<Unruly>(o); };
  out.push_back(std::move(d));
}

}  // namespace

AVMON_PLUGIN("avmon-unruly", "1.0", fill)
