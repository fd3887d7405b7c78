// loudness: EBU R128 / ATSC A/85 loudness with libebur128 (momentary,
// short-term, integrated, loudness range, true peak) and a defect while the
// programme is outside the target window.
#pragma once

#include <string>
#include <vector>

#include "audio_common/audio_common.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

#include <ebur128.h>

namespace avmon::audio {

struct LoudnessParams {
  std::string preset = "ebu_r128";   // ebu_r128 (-23 LUFS), atsc_a85 (-24 LKFS), custom
  double target_lufs = -23.0;        // used with preset custom
  double tolerance_lu = 5.0;         // too loud: above target + this
  double low_tolerance_lu = 12.0;    // too quiet: below target - this
  std::string window = "short_term"; // short_term (3 s) or momentary (400 ms)
};

class LoudnessDetector final : public Detector {
 public:
  explicit LoudnessDetector(LoudnessParams p);
  ~LoudnessDetector() override;
  LoudnessDetector(const LoudnessDetector&) = delete;
  LoudnessDetector& operator=(const LoudnessDetector&) = delete;

  void configure(const StreamInfo& info) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  nlohmann::json summary() const override;
  nlohmann::json levels() const override;

  double target_lufs() const { return target_lufs_; }

 private:
  void setup(int sample_rate, int channels, std::vector<std::string> names);
  void step_done(double start_s, double end_s, ObservationSink& out);
  double true_peak_dbtp() const;
  double window_lufs(int steps) const;

  LoudnessParams p_;
  double target_lufs_ = -23.0;
  bool momentary_ = false;
  ebur128_state* st_ = nullptr;
  Windower win_;
  int channels_ = 0, rate_ = 0;
  std::vector<std::string> names_;
  std::vector<float> interleaved_;
  TruePeakMeter true_peak_;
  // K-weighted mean square of each 100 ms step (from libebur128), last 3 s:
  // momentary and short-term are means over the last 4 and 30 of them, so
  // libebur128 never re-sums its 3 s buffer.
  std::vector<double> step_energy_;
  int energy_pos_ = 0;
  int fresh_steps_ = 0;              // steps measured since start or the last gap
  double momentary_lufs_ = kFloorDb, short_term_lufs_ = kFloorDb;
  double max_momentary_lufs_ = kFloorDb, max_short_term_lufs_ = kFloorDb;
  bool measured_ = false;
  RunState run_;
  double run_extreme_lufs_ = 0;
};

DetectorInfo describe_loudness();

}  // namespace avmon::audio
