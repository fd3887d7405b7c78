// Black picture detector: the picture is at black level everywhere except, at
// most, a small area (a station logo or caption left on black). A dark scene is
// not black: its dark areas differ from each other (illumination, shapes), a
// black picture's do not.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"
#include "video_common/regions.hpp"

namespace avmon::video {

struct BlackParams {
  double luma_threshold = 10;        // 8-bit levels above black level a block mean may reach
  double uniformity_tolerance = 2;   // 8-bit levels a black block may differ from the picture's black
  double noise_threshold = 4;        // max std deviation (8-bit levels) inside a black block
  double max_content_fraction = 0.1; // fraction of the picture allowed to be something else (logo)
  std::vector<Region> exclude_regions;
};

// Per-picture analysis, separate from the detector so tests can drive it.
struct BlackVerdict {
  bool black = false;
  double black_fraction = 0;   // fraction of analysed blocks that are black
  double level = 0;            // the picture's black reference (8-bit, as coded)
  double mean = 0;             // mean luma of analysed blocks
};

class BlackAnalyser {
 public:
  explicit BlackAnalyser(BlackParams p) : p_(std::move(p)), mask_(p_.exclude_regions) {}
  // `luma`: 8-bit analysis-size luma as coded; `black_level`: 16 for limited
  // range, 0 for full range.
  BlackVerdict analyse(const cv::Mat& luma, int black_level);

 private:
  void layout(int cols, int rows);

  BlackParams p_;
  RegionMask mask_;
  int cols_ = 0, rows_ = 0, bw_ = 0, bh_ = 0;
  std::vector<std::uint16_t> block_sum_;  // per block, reused: sum of its 32 pixels
};

class BlackDetector final : public Detector {
 public:
  explicit BlackDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;

 private:
  BlackAnalyser analyser_;
};

DetectorInfo describe_black();

}  // namespace avmon::video
