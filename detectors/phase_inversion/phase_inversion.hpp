// phase_inversion: a channel pair in anti-phase (its mono downmix cancels).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "audio_common/audio_common.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

struct PhaseInversionParams {
  double max_correlation = -0.5;   // inverted when the pair's correlation is at or below this
  double min_downmix_loss_db = 3.0;  // ...and L+R has lost at least this much against L and R
  double min_level_dbfs = -50.0;   // both channels at least this loud (RMS over assess_s)
  double assess_s = 1.0;           // correlation measured over this sliding period
  double window_s = 0.1;
};

class PhaseInversionDetector final : public Detector {
 public:
  explicit PhaseInversionDetector(PhaseInversionParams p) : p_(p) {}
  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

  // Channel pairs judged, from the layout: FL/FR, SL/SR, BL/BR, FLC/FRC; the
  // first two channels when the layout names none of these.
  static std::vector<std::pair<int, int>> pairs_for(const std::vector<std::string>& names);

 private:
  struct Sums {
    double ll = 0, rr = 0, lr = 0;
  };
  struct Pair {
    int left = 0, right = 1;
    Sums window;                 // current window
    std::vector<Sums> ring;      // last assess_s of windows
    std::vector<double> ring_start_s;
    std::vector<char> ring_inverted;
    RunState run;
    double run_corr = 0, run_loss_db = 0;  // strongest inversion of the current run
  };
  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void window_done(double start_s, double end_s, ObservationSink& out);
  bool inverted(const Sums& s, int n, double* corr, double* loss_db, double* min_level_dbfs) const;

  PhaseInversionParams p_;
  Windower win_;
  int channels_ = 0;
  std::vector<std::string> names_;
  std::vector<Pair> pairs_;
  int ring_pos_ = 0, ring_filled_ = 0, ring_size_ = 10;
};

DetectorInfo describe_phase_inversion();

}  // namespace avmon::audio
