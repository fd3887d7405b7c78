// Corruption detector: bitstream damage and transport packet loss. Two kinds
// of evidence: what the decoder says (errors, corrupt-frame flags) and what the
// picture shows (edges along the coding-block grid that the content does not
// explain: concealed, displaced or grey macroblocks). Damage propagates
// through predicted pictures, so an incident lasts until a clean key picture.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "video_common/regions.hpp"

namespace avmon::video {

// Grid-edge analysis of one full-size luma plane, on sparse rows and columns.
struct GridStats {
  int on_grid = 0;         // grid positions examined
  int on_broken = 0;       // ... with a step that neighbours do not explain
  int off_grid = 0;        // positions half a block off the grid
  int off_broken = 0;
  double on_rate() const { return on_grid ? static_cast<double>(on_broken) / on_grid : 0; }
  double off_rate() const { return off_grid ? static_cast<double>(off_broken) / off_grid : 0; }
  // Excess rate of broken edges on the grid.
  double score() const { return on_grid && off_grid ? on_rate() - off_rate() : 0; }
  // Damage concentrates on the grid; texture and compression blocking do not
  // (they break off-grid edges about as often).
  bool concentrated_on_grid() const { return on_rate() >= 2.0 * off_rate(); }
};

struct GridParams {
  int block_px = 16;         // macroblock grid (concealment works per macroblock)
  int phases = 2;            // examine every phases-th macroblock row per picture
  int min_step = 20;         // 8-bit levels: a broken edge steps at least this much
  double step_ratio = 3.0;   // ... and this many times its neighbouring gradients
};

// `mask` (optional): grid positions whose edge test reads a pixel inside an
// exclusion region are not examined.
GridStats analyse_grid(const cv::Mat& luma_full, const GridParams& p, int phase = 0, RegionMask* mask = nullptr);

// Broken steps between rows r_1 and r0 (r_2 above them, r1 below) over
// `cols` columns: |r0 - r_1| >= min_step and >= step_ratio * the larger of
// |r_1 - r_2| and |r1 - r0|, plus 2 (the ratio in 1/256ths).
int broken_steps_along_row(const unsigned char* r_2, const unsigned char* r_1, const unsigned char* r0,
                           const unsigned char* r1, int cols, const GridParams& p);

struct CorruptionParams {
  GridParams grid;
  double picture_threshold = 0.03;  // grid score that is damage without decoder complaint
  double picture_jump = 0.02;       // ... and at least this much above the stream's baseline
  double max_recovery_s = 10;       // end an incident without a clean key picture after this long clean
  double picture_recovery_s = 0.5;  // picture-only incidents end after this long clean
  std::vector<Region> exclude_regions;  // areas whose picture is not examined (decoder reports still count)
};

class CorruptionDetector final : public Detector {
 public:
  explicit CorruptionDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

 private:
  void reset();

  CorruptionParams p_;
  RegionMask mask_;
  bool seen_key_ = false;           // the decoder's join point is behind us
  bool damaged_ = false;
  bool decoder_evidence_ = false;   // the incident has decoder evidence
  double last_evidence_s_ = 0;
  double baseline_ = -1;            // slow average of clean pictures' grid score
  int picture_streak_ = 0;          // consecutive pictures that look damaged
  double picture_streak_start_s_ = 0;
  double incident_start_s_ = 0;
  // Evidence gathered during the current incident.
  int incident_errors_ = 0, incident_corrupt_frames_ = 0, incident_picture_frames_ = 0;
  double incident_peak_score_ = 0;
};

}  // namespace avmon::video
