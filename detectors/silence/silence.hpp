// silence: programme silence, every channel below a level threshold.
#pragma once

#include <vector>

#include "audio_common/audio_common.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

struct SilenceParams {
  double threshold_dbfs = -60.0;  // every channel's RMS below this over a window
  double window_s = 0.1;          // analysis window (also the meter update rate)
};

class SilenceDetector final : public Detector {
 public:
  explicit SilenceDetector(SilenceParams p) : p_(p) {}
  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  nlohmann::json levels() const override;

 private:
  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void window_done(double start_s, double end_s, ObservationSink& out);

  SilenceParams p_;
  Windower win_;
  int channels_ = 0;
  std::vector<std::string> names_;
  std::vector<double> sum_sq_, peak_;          // current window, per channel
  std::vector<double> rms_dbfs_, peak_dbfs_;   // last complete window (meters)
  // Onset and end are refined to 10 ms sub-blocks (the loudest channel's mean
  // square in each), so a 100 ms window still places them within a frame.
  static constexpr int kSubBlocks = 10;
  int pos_in_window_ = 0;
  double sub_power_[kSubBlocks] = {}, prev_sub_power_[kSubBlocks] = {};
  std::vector<double> sub_sum_sq_;             // current sub-block, per channel
  double prev_start_s_ = 0;
  RunState run_;
  double quietest_run_dbfs_ = 0;               // loudest channel's level, max over the run
};

DetectorInfo describe_silence();

}  // namespace avmon::audio
