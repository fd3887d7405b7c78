// Flash detector: photosensitive-epilepsy risk after ITU-R BT.1702 and Ofcom's
// guidance. A flash is a pair of opposing changes of display luminance (up
// then down, or down then up) of at least 20 cd/m² with the darker state below
// 160 cd/m², over a quarter of the screen or more; more than three flashes in
// any one second is a `flash` defect. Red flashes (transitions to or from a
// saturated red) are counted alike and separately.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "flash/luminance.hpp"

namespace avmon::video {

struct FlashParams {
  double min_change_cd_m2 = 20;      // a transition changes display light by at least this
  double max_dark_cd_m2 = 160;       // ... and its darker state is below this
  double min_area_fraction = 0.25;   // share of the screen that must make the same transition
  int max_flashes_per_s = 3;         // more in any one second is a defect
  double sdr_peak_white_cd_m2 = 200; // SDR display's reference white
  double hlg_peak_cd_m2 = 1000;      // HLG display's nominal peak
  bool red = true;                   // count red flashes (and raise on them)
};

// Transitions of one kind (general or red) as a picture-level state machine
// over cells: each cell follows its own extremes, the picture makes a
// transition when cells covering min_area_fraction have made it recently
// (within a few pictures) and since the picture's last one.
struct CellTrack {
  float lo = 0, hi = 0;           // extremes since the cell's last transition
  float swing = 0;                // size of its last transition
  std::int32_t when = -1;         // analysed-picture count of its last transition
  std::int8_t dir = 0;            // +1 after a rise, -1 after a fall, 0 none yet
};

struct PictureTransition {
  int dir = 0;                    // +1, -1 or 0 (none on this picture)
  double area_fraction = 0;       // share of the cells that made it
  double change = 0;              // mean size of those cells' transitions (cd/m², or red units)
};

// Per-picture analysis, separate from the detector so tests can drive it.
struct FlashVerdict {
  PictureTransition general, red;
  double mean_cd_m2 = 0;          // mean cell luminance (for tests and logs)
};

class FlashAnalyser {
 public:
  explicit FlashAnalyser(FlashParams p) : p_(p) {}
  // `span`: pictures for which a cell's transition counts towards the picture's.
  FlashVerdict analyse(const VideoFrame& frame, int span);
  void reset();

 private:
  void layout(int cols, int rows);
  void set_model(const VideoFrame& frame);
  void cell_means(const cv::Mat& even_rows);
  void plane_means(const unsigned char* plane, std::ptrdiff_t stride, int height, int factor);
  void cell_reds(const VideoFrame& frame, int factor);
  PictureTransition step(std::vector<CellTrack>& cells, const std::vector<float>& values, float min_change,
                         float max_dark, int& dir, std::int32_t& last, int span);

  FlashParams p_;
  int bw_ = 0, bh_ = 0;            // cells across, down
  std::vector<float> luminance_;   // cd/m² per cell, this picture
  std::vector<float> red_;         // red level per cell, this picture
  std::vector<float> code_;        // mean luma code per cell, this picture
  bool red_seen_ = true, red_seen_before_ = true;  // a cell was saturated red on this / the previous picture
  std::vector<unsigned> acc_;
  std::vector<int> cb_offsets_, cr_offsets_;  // byte offsets of a cell column's chroma samples in a row
  std::vector<CellTrack> general_cells_, red_cells_;
  int general_dir_ = 0, red_dir_ = 0;
  std::int32_t general_last_ = -1, red_last_ = -1;
  std::int32_t count_ = 0;         // pictures analysed since the reset
  DisplayModel model_;
  bool have_model_ = false;
  LuminanceTable lum_table_{};
  LinearTable lin_table_{};
};

// Counts transitions in a sliding one-second window and turns them into the
// defect's span. Transitions are dated to the picture that shows the new
// state; the true change happened somewhere in the interval before it, so a
// window holds transitions less than 1 s minus one picture interval apart.
class FlashRate {
 public:
  explicit FlashRate(int max_flashes_per_s) : needed_(2 * max_flashes_per_s + 1) {}
  // Adds a transition at `t_s`; returns the transitions in the window ending there.
  int add(double t_s, double frame_duration_s);
  // Whether the last add() completed a group of more than the allowed flashes,
  // and the time of that group's first transition.
  bool exceeded() const { return exceeded_; }
  double group_start_s() const { return group_start_s_; }
  void reset() { times_.clear(); exceeded_ = false; }

 private:
  int needed_;
  std::deque<double> times_;
  bool exceeded_ = false;
  double group_start_s_ = 0;
};

class FlashDetector final : public Detector {
 public:
  explicit FlashDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  void finish(double end_media_time_s, ObservationSink& out) override;

 private:
  // Recent transitions (time, area, change), for the evidence of a group
  // that began before the episode was known.
  struct Recent {
    double t_s, area_fraction, change;
    bool red;
  };
  void close_episode(ObservationSink& out, double t_s);
  void note(const Recent& r);

  FlashParams p_;
  FlashAnalyser analyser_;
  FlashRate general_, red_;
  double frame_rate_ = 0;
  bool active_ = false;
  double episode_start_s_ = 0, episode_end_s_ = 0;
  // The episode's evidence: worst second, largest area and change.
  int worst_transitions_ = 0, worst_red_transitions_ = 0;
  double worst_area_ = 0, peak_change_ = 0;
  std::deque<Recent> recent_;
};

}  // namespace avmon::video
