// Freeze detector: the picture content has stopped changing. Each picture is
// compared with the first picture of the current hold (not with its
// predecessor), so duplicated frames from frame-rate conversion and slow
// drifts both count as change, and localised motion (a person, leaves) is
// found block by block instead of being diluted in a whole-picture mean.
// Coding noise of a re-encoded held picture stays below a threshold that
// adapts to the picture's detail and noise floor, key pictures re-base the
// hold, and weak one-picture transients are ignored; live sensor noise on a
// static shot shows up as spread change on most pictures and keeps it "live".
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "video_common/regions.hpp"

namespace avmon::video {

struct FreezeParams {
  double block_threshold = 4.0;      // 8-bit levels: min mean |diff| of a block that changed
  double noise_factor = 3.0;         // ... and at least this many times the picture's noise floor
  double texture_factor = 0.75;      // ... and this many times the block's own detail
  int min_changed_blocks = 2;        // changed blocks that make a picture "changed"
  double live_noise_level = 1.5;     // 8-bit levels: per-picture noise that means a live picture
  double live_fraction = 0.5;        // share of recent pictures with live noise that keeps it live
  std::vector<Region> exclude_regions;  // areas whose change does not count (a clock, a ticker)
};

struct FreezeVerdict {
  bool changed = false;      // new content: the hold's reference picture is replaced
  bool began_at_previous = false;  // ... and the change began with the previous picture
  bool pending = false;      // a weak change, decided on the next picture
  int changed_blocks = 0;
  double max_block_diff = 0; // largest block mean |diff| against the reference
  double noise_floor = 0;    // median block mean |diff| against the reference
  double frame_noise = 0;    // median block mean |diff| against the previous picture
};

class FreezeAnalyser {
 public:
  explicit FreezeAnalyser(FreezeParams p) : p_(std::move(p)), mask_(p_.exclude_regions) {}
  // Compares `luma` with the reference; a changed picture becomes the new
  // reference. The first picture after reset() is a change.
  // `key_picture`: an intra-coded picture, whose coding noise is the largest.
  // A refcounted `luma` (the bus's analysis luma) is kept by reference, not
  // copied: like every frame on the bus it must not change afterwards.
  FreezeVerdict analyse(const cv::Mat& luma, bool key_picture = false);
  void reset() {
    has_ref_ = false;
    pending_ = false;
  }

 private:
  double block_activity(const cv::Mat& luma, std::vector<float>& out);
  // Also leaves each block's whole sum of differences in diff_sums_.
  void block_diffs(const cv::Mat& a, const cv::Mat& b, std::vector<float>& out);
  // The values of the blocks outside the exclusion regions (`v` itself when
  // nothing is excluded).
  const std::vector<float>& kept(const std::vector<float>& v);

  FreezeParams p_;
  RegionMask mask_;
  const std::vector<unsigned char>* excluded_ = nullptr;  // per block, of the current picture size
  std::vector<float> kept_;
  bool has_ref_ = false;
  bool pending_ = false;     // the previous picture differed weakly from the reference
  double ref_activity_ = 0;  // detail of the reference picture
  std::vector<float> ref_block_activity_;
  cv::Mat ref_, prev_;
  std::vector<float> diff_ref_, diff_prev_;
  std::vector<std::uint16_t> diff_sums_;  // of the last block_diffs()
  std::vector<unsigned> median_counts_;
  std::vector<unsigned> acc_;  // per block column, reused
};

class FreezeDetector final : public Detector {
 public:
  explicit FreezeDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

 private:
  FreezeAnalyser analyser_;
  FreezeParams params_;
  double hold_start_s_ = 0;     // time of the hold's first picture
  double prev_time_s_ = 0;      // time of the previous picture
  bool last_active_ = false;    // state last reported
  int held_frames_ = 0;         // pictures since the reference that did not change
  // Live-noise history of the current hold: a ring of the last pictures.
  std::vector<unsigned char> live_ring_;
  size_t live_pos_ = 0;
  int live_count_ = 0, live_seen_ = 0;
};

}  // namespace avmon::video
