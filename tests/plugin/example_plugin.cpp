// An out-of-tree detector as a plugin author writes one: only the SDK
// headers, one entry point. It reports "overexposed" when most of the picture
// is near peak white, which the host knows nothing about.
#include <opencv2/core.hpp>

#include "avmon/plugin.hpp"

namespace {

class Overexposed final : public avmon::Detector {
 public:
  explicit Overexposed(const avmon::Options& o) : threshold_(o.get_double("white_fraction")) {}
  void on_video(const avmon::VideoFrame& f, avmon::ObservationSink& out) override {
    const cv::Mat& y = f.luma();
    double bright = cv::countNonZero(y > 230) / static_cast<double>(y.total());
    avmon::Observation o;
    o.type = "overexposed";
    o.media_time_s = f.media_time_s();
    o.active = bright >= threshold_;
    o.score = bright;
    o.details = {{"white_fraction", bright}};
    out.observe(std::move(o));
  }

 private:
  double threshold_;
};

void fill(std::vector<avmon::DetectorInfo>& out) {
  avmon::DetectorInfo d;
  d.name = "overexposed";
  d.summary = "most of the picture at peak white (example plugin)";
  d.media = avmon::kVideo;
  d.types = {"overexposed"};
  d.options = {{"white_fraction", avmon::OptionType::Double, 0.9, 0.0, 1.0, "fraction",
                "share of the picture above luma 230", {}}};
  d.min_duration_s = 0.2;
  d.hold_off_s = 0.0;
  d.severity = "warning";
  d.create = [](const avmon::Options& o) { return std::make_unique<Overexposed>(o); };
  out.push_back(std::move(d));
}

}  // namespace

AVMON_PLUGIN("avmon-example", "1.0", fill)
