// Test-pattern detector: colour bars (SMPTE, EBU, HD/ARIB and their 75%/100%
// variants) replacing programme. Bars are vertical bands of uniform,
// saturated colour in a fixed order (white, yellow, cyan, green, magenta,
// red, blue), so their luma falls bar by bar from left to right. A cheap luma
// check (column constancy, a staircase of flat bands) runs on every picture;
// only a picture that passes it has its colours checked.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "video_common/regions.hpp"

namespace avmon::video {

struct TestPatternParams {
  double column_tolerance = 6;    // 8-bit levels a bar column may vary over its height
  double min_constant_columns = 0.8;  // share of columns that must be constant
  int min_bars = 6;               // bars found in the canonical order
  double min_saturation = 40;     // 8-bit: max-min of a colour bar's RGB
  std::vector<Region> exclude_regions;  // areas not read (a clock or an ident over the bars)
};

struct BarsVerdict {
  bool bars = false;
  double constant_columns = 0;  // share of columns constant over the band
  int staircase = 0;            // flat bands in falling luma order
  int colour_bars = 0;          // of those, bars with the expected colour
  std::string colours;          // classes left to right, e.g. "WYCGMRB"
};

class BarsAnalyser {
 public:
  explicit BarsAnalyser(TestPatternParams p) : p_(std::move(p)), mask_(p_.exclude_regions) {}
  // `bgr` is requested only when the luma check passes (it costs a conversion).
  template <class BgrFn>
  BarsVerdict analyse(const cv::Mat& luma, BgrFn&& bgr) {
    BarsVerdict v = analyse_luma(luma);
    if (v.staircase >= p_.min_bars) analyse_colour(bgr(), luma.size(), v);
    return v;
  }

 private:
  struct Segment {
    int x0, x1;       // columns [x0, x1)
    double luma;
  };
  BarsVerdict analyse_luma(const cv::Mat& luma);
  // `luma_size`: the picture analyse_luma() read (rows and columns map onto
  // bgr's by proportion: luma may be every other row of the analysis size).
  void analyse_colour(const cv::Mat& bgr, cv::Size luma_size, BarsVerdict& v);

  TestPatternParams p_;
  RegionMask mask_;
  std::vector<int> rows_;             // sampled rows of the band
  std::vector<float> profile_;        // band mean per column
  std::vector<unsigned char> steps_;  // column is on a bar edge
  std::vector<Segment> segments_, run_, cur_;
};

class TestPatternDetector final : public Detector {
 public:
  explicit TestPatternDetector(const Options& o);
  void on_video(const VideoFrame& frame, ObservationSink& out) override;

 private:
  BarsAnalyser analyser_;
};

}  // namespace avmon::video
