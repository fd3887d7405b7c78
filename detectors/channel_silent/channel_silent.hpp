// channel_silent: one or more channels dead while the others play.
#pragma once

#include <string>
#include <vector>

#include "audio_common/audio_common.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

struct ChannelSilentParams {
  double floor_dbfs = -60.0;         // a dead channel's RMS is below this
  double others_min_dbfs = -50.0;    // ...while another channel plays at least this loud
  double relative_db = 20.0;         // ...and at least this much louder than the dead one
  double reference_s = 1.0;          // the playing channels' level is measured over this
  double window_s = 0.1;
  std::string ignore_channels = "LFE";  // comma-separated channel names never reported
};

class ChannelSilentDetector final : public Detector {
 public:
  explicit ChannelSilentDetector(ChannelSilentParams p);
  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

 private:
  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void window_done(double start_s, double end_s, ObservationSink& out);

  ChannelSilentParams p_;
  std::vector<std::string> ignored_;
  Windower win_;
  int channels_ = 0;
  std::vector<std::string> names_;
  std::vector<char> ignore_;           // per channel
  std::vector<double> sum_sq_;         // current window
  std::vector<double> history_;        // ring [slot * channels + c] of window mean squares
  int history_slots_ = 10, history_filled_ = 0, history_pos_ = 0;
  std::vector<double> ref_db_;         // per channel, over reference_s
  std::vector<RunState> runs_;
};

DetectorInfo describe_channel_silent();

}  // namespace avmon::audio
