// tone: a steady line-up tone (e.g. 1 kHz at -18 dBFS) instead of programme.
#pragma once

#include <vector>

#include "audio_common/audio_common.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

struct ToneParams {
  double max_residual_db = -30.0;     // energy outside the single spectral line, relative to total
  double min_level_dbfs = -60.0;      // tone peak level at least this
  double max_frequency_drift_pct = 0.5;  // frequency stays within this of the run's start
  double max_level_drift_db = 1.0;    // level stays within this of the run's start
  double min_frequency_hz = 20.0, max_frequency_hz = 20000.0;
  double stable_s = 0.5;              // a run this long is a tone (the engine adds min_duration_s)
  double window_s = 0.1;
};

class ToneDetector final : public Detector {
 public:
  explicit ToneDetector(ToneParams p) : p_(p) {}
  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

  // One window of one channel.
  struct WindowFit {
    double level_dbfs = kFloorDb;  // RMS of the window
    double frequency_hz = 0;
    double tone_dbfs = kFloorDb;   // peak level of the fitted sinusoid
    double residual_db = 0;
    bool tonal = false;
  };
  WindowFit analyse(const float* x, int n) const;

 private:
  struct ChannelRun {
    bool in_run = false;
    double start_s = 0, frequency_hz = 0, tone_dbfs = 0;
  };
  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void window_done(double start_s, double end_s, ObservationSink& out);

  ToneParams p_;
  Windower win_;
  int channels_ = 0;
  std::vector<std::string> names_;
  std::vector<std::vector<float>> buffer_;  // per channel, one window
  int fill_ = 0;                            // samples of the current window in buffer_
  std::vector<ChannelRun> runs_;
  RunState state_;
};

DetectorInfo describe_tone();

}  // namespace avmon::audio
