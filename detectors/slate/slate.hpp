// Slate detector: a still graphic card ("we'll be right back", a
// programme-information or fault card) on air instead of programme. A slate
// is a picture that stands still, except perhaps a small region (a clock, a
// spinning logo), and that is a graphic rather than a frozen camera picture:
// most of it is flat (a plain or gradient background) with sharp text or
// shapes on it. Black is the black detector's, bars the test_pattern's.
#pragma once

#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"
#include "video_common/regions.hpp"

namespace avmon::video {

struct SlateParams {
  double block_threshold = 4;        // 8-bit: mean |difference| of a changed 8x8 analysis block
  double max_moving_fraction = 0.1;  // share of blocks that may change (clock, small animation)
  double flat_detail = 1.5;          // 8-bit: mean |gradient| of a flat block
  double min_flat_fraction = 0.7;    // share of flat blocks that makes a graphic
  std::vector<Region> exclude_regions;  // areas that do not count (a clock, a ticker, a logo)
};

// What one picture of a hold says about the held picture.
struct SlateLook {
  double flat_fraction = 0;  // blocks without detail
  double dark_fraction = 0;  // blocks at black (a black picture is not a slate)
  double mean_luma = 0;
};

// Stillness against the first picture of the current hold, on the shared
// analysis luma (every other row), in blocks of 8 columns x 4 of its rows.
class SlateAnalyser {
 public:
  explicit SlateAnalyser(SlateParams p) : p_(std::move(p)), mask_(p_.exclude_regions) {}
  // Share of blocks that differ from `ref`; the planes are the same size.
  // Blocks that touch an exclusion region are left out here and in look().
  double moving_fraction(const cv::Mat& luma, const cv::Mat& ref);
  SlateLook look(const cv::Mat& luma);
  bool is_slate(const SlateLook& l) const;
  double max_moving_fraction() const { return p_.max_moving_fraction; }

 private:
  // Per block, 1 where it touches an exclusion region; null without regions.
  const std::vector<unsigned char>* excluded(cv::Size plane);

  SlateParams p_;
  RegionMask mask_;
  std::vector<unsigned> sads_;
};

class SlateDetector final : public Detector {
 public:
  explicit SlateDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

 private:
  void restart(const cv::Mat& luma, double media_time_s);

  SlateAnalyser analyser_;
  cv::Mat ref_;             // first picture of the hold
  double hold_start_s_ = 0;
  double max_moving_ = 0;   // largest moving share seen in the hold
  bool looked_ = false;     // the held picture has been judged
  bool slate_ = false;      // ... and is a slate
  SlateLook look_;
};

DetectorInfo describe_slate();

}  // namespace avmon::video
