// audio_dropout: short mutes and sample discontinuities inside programme audio.
#pragma once

#include <string>
#include <vector>

#include "audio_dropout/channel_scan.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::audio {

class AudioDropoutDetector final : public Detector {
 public:
  explicit AudioDropoutDetector(DropoutParams p) : p_(p) {}
  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  void finish(double end_media_time_s, ObservationSink& out) override;
  nlohmann::json summary() const override;

 private:
  // One dropout across channels (the channels' finds that overlap).
  struct Dropout {
    double start_s = 0, end_s = 0;
    bool mute = false;
    std::vector<int> channels;
    double edge_dbfs = 0, level_dbfs = -200, ratio = 0;
  };

  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void collect(int channel, const std::vector<ChannelDropout>& found);
  // Reports the dropouts that nothing undecided can still overlap (all of
  // them with `all`).
  void flush(ObservationSink& out, bool all);
  void report(const Dropout& d, ObservationSink& out);
  double time_of(std::int64_t sample) const;

  DropoutParams p_;
  int rate_ = 0, channels_ = 0;
  std::vector<std::string> names_;
  std::vector<ChannelScan> scans_;
  std::vector<ChannelDropout> found_;
  std::vector<Dropout> pending_;        // by start
  double origin_s_ = 0;                 // media time of sample 0 of the scans
  double expected_next_s_ = -1;         // where the next block should start
  double now_s_ = 0;                    // end of the last block
  double audio_s_ = 0;                  // audio analysed (for the rate)
  std::uint64_t count_ = 0, mutes_ = 0;
};

DetectorInfo describe_audio_dropout();

}  // namespace avmon::audio
