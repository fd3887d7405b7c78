// av_sync: audio/video offset measured on the flash-and-beep line-up signal
// (a white flash frame and a short tone burst once per second).
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

struct AvSyncParams {
  double late_tolerance_ms = 60.0;    // EBU R37: audio may be at most this late...
  double early_tolerance_ms = 40.0;   // ...or this early
  double max_offset_ms = 500.0;       // a beep pairs with the nearest flash within this
  double flash_jump = 40.0;           // mean luma rise of a flash onset (8-bit levels)
  double max_flash_s = 0.25;          // a flash is over within this (a cut to a bright scene is not)
  double beep_min_dbfs = -40.0;       // burst level (RMS over 1 ms)
  double beep_rise_db = 25.0;         // burst above the preceding quiet by this
  double quiet_before_s = 0.2;        // quiet this long before a burst
  double max_beep_s = 0.5;            // a burst ends within this (programme does not)
  int min_pairs = 3;                  // consistent pairs needed for a measurement
  double max_spread_ms = 20.0;        // pairs agree with their median within this
  int recent_pairs = 5;               // pairs behind the running measurement
};

class AvSyncDetector final : public Detector {
 public:
  explicit AvSyncDetector(AvSyncParams p) : p_(p) {}
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  void finish(double end_media_time_s, ObservationSink& out) override;
  nlohmann::json summary() const override;
  nlohmann::json levels() const override;

  // For tests: onsets found so far.
  const std::vector<double>& flash_onsets() const { return all_flashes_; }
  const std::vector<double>& beep_onsets() const { return all_beeps_; }

 private:
  void reset_audio();
  void on_flash(double t);
  void on_beep(double t);
  void pair(ObservationSink& out, bool flush);
  void report(ObservationSink& out);

  AvSyncParams p_;

  // Video: flash onsets.
  bool have_prev_luma_ = false;
  double prev_luma_ = 0;
  bool flash_open_ = false;
  double flash_start_s_ = 0, flash_luma_ = 0;
  double video_clock_s_ = -1e300;

  // Audio: burst onsets from a 1 ms envelope, refined to the sample.
  int rate_ = 0;
  int sub_ = 48;                     // samples per envelope step (1 ms)
  int sub_filled_ = 0;
  double sub_power_ = 0;
  std::vector<const float*> planes_;
  std::vector<float> recent_;        // ring of max |x| over channels, for onset refinement
  std::uint64_t sample_index_ = 0;   // absolute index of the next sample
  double index_time_s_ = 0;          // media time of sample index index_base_
  std::uint64_t index_base_ = 0;
  double expected_next_s_ = -1;
  std::vector<double> quiet_ring_db_;  // envelope over quiet_before_s
  int quiet_pos_ = 0, quiet_filled_ = 0;
  // The ring's maximum without a scan per step: (write number, level) of
  // the writes no later one is at least as loud as, oldest first.
  std::deque<std::pair<std::uint64_t, double>> quiet_max_;
  std::uint64_t quiet_writes_ = 0;
  bool in_burst_ = false;
  std::uint64_t burst_start_index_ = 0;
  double burst_start_db_ = 0;
  int burst_subs_ = 0;
  double audio_clock_s_ = -1e300;

  std::deque<double> flashes_, beeps_;
  std::vector<double> all_flashes_, all_beeps_;
  struct Pair {
    double video_s, offset_ms;
  };
  std::vector<Pair> pairs_;          // every pair, in order (bounded)
  bool reported_ = false;
  bool last_active_ = false;
  double last_pair_video_s_ = 0;
};

DetectorInfo describe_av_sync();

}  // namespace avmon::audio
