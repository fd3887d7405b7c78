// clipping: sustained full-scale clipping, robust to lossy-codec overshoot.
#pragma once

#include <vector>

#include "audio_common/audio_common.hpp"
#include "audio_common/sample_loops.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

struct ClippingParams {
  double level_dbfs = -1.0;        // only samples at or above this level can be clipped
  double min_flatness = 3.0;       // a run is a plateau when this much flatter than a smooth peak
  int min_run_samples = 3;         // shorter runs above level_dbfs are peaks, not plateaus
  double min_share_pct = 0.5;      // clipped samples, % of one channel's samples over assess_s
  double assess_s = 1.0;           // clipping is judged over this sliding period
  double window_s = 0.1;
};

// Plateau detection on one channel, carried across blocks and windows.
//
// A smooth waveform peaking at m, crossing the level L with slope s, stays
// above L for about 4 (m - L) / s samples (parabola through the peak). A
// clipped waveform arrives much steeper and then stays: its run is many times
// longer than that. The ratio (flatness) does not depend on the clip level
// nor on the codec's ripple along the plateau, and it is near 1 for loud but
// clean programme, for a limiter's output and for sines of any frequency.
class PlateauCounter {
 public:
  void reset(float level) {
    level_ = level;
    prev_ = 0;
    in_run_ = false;
    run_len_ = 0;
  }
  // x[0..n) when their peak (NaN samples aside) is below the level and no
  // run is open: nothing but prev_ can change. Returns whether it applied.
  bool skip_quiet(const float* x, int n, float peak) {
    if (in_run_ || n <= 0 || !(peak < level_)) return false;
    prev_ = x[n - 1];
    return true;
  }
  // Returns samples in plateau runs that ended within x[0..n) (runs are
  // credited when they end, to the window where they end).
  template <class OnRun>
  void feed(const float* x, int n, double min_flatness, int min_run, OnRun&& on_run) {
    for (int i = 0; i < n; ++i) {
      if (!in_run_) {
        // Outside a run a sample below the level only becomes prev_: jump to
        // the next one at the level (almost every sample is below it).
        const int next = i + first_at_or_above(x + i, n - i, level_);
        if (next > i) prev_ = x[next - 1];
        if (next == n) break;
        i = next;
      }
      const float a = std::abs(x[i]);
      if (a >= level_) {
        if (!in_run_ || (x[i] > 0) != positive_) {
          if (in_run_) close(a, min_flatness, min_run, on_run);
          in_run_ = true;
          positive_ = x[i] > 0;
          run_len_ = 0;
          run_max_ = 0;
          entry_slope_ = a - std::abs(prev_);
        }
        ++run_len_;
        run_max_ = std::max(run_max_, a);
      } else if (in_run_) {
        close(a, min_flatness, min_run, on_run);
      }
      prev_ = x[i];
    }
  }

 private:
  template <class OnRun>
  void close(float next_abs, double min_flatness, int min_run, OnRun&& on_run) {
    in_run_ = false;
    if (run_len_ < min_run) return;
    const double exit_slope = std::abs(prev_) - next_abs;
    const double slope = std::max(1e-6, 0.5 * (std::max(0.0f, entry_slope_) + std::max(0.0, exit_slope)));
    const double smooth_len = 4.0 * std::max(1e-4, static_cast<double>(run_max_ - level_)) / slope;
    const double flatness = run_len_ / std::max(1.0, smooth_len);
    on_run(run_len_, flatness >= min_flatness, run_max_);
  }

  float level_ = 0.891f;
  float prev_ = 0;
  bool in_run_ = false, positive_ = true;
  int run_len_ = 0;
  float run_max_ = 0, entry_slope_ = 0;
};

class ClippingDetector final : public Detector {
 public:
  explicit ClippingDetector(ClippingParams p) : p_(p) {}
  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  nlohmann::json summary() const override;

 private:
  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void window_done(double start_s, double end_s, ObservationSink& out);

  ClippingParams p_;
  Windower win_;
  int channels_ = 0;
  std::vector<std::string> names_;
  std::vector<PlateauCounter> counters_;
  std::vector<long> clipped_;       // current window, per channel
  std::vector<float> peak_;         // current window, per channel
  std::vector<double> share_ring_;  // per window, max over channels, % (last assess_s)
  std::vector<double> start_ring_;  // start time of each of those windows
  int ring_pos_ = 0, ring_filled_ = 0;
  double last_clipped_end_s_ = 0;
  RunState run_;
  double run_peak_dbfs_ = kFloorDb, run_share_pct_ = 0;
};

DetectorInfo describe_clipping();

}  // namespace avmon::audio
