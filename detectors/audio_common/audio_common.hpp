// Helpers shared by the audio detectors: level conversions, fixed analysis
// windows over whatever block size the decoder produced, timestamp-gap
// detection, and a least-squares sinusoid fit (tone purity).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "avmon/frame.hpp"

namespace avmon::audio {

// Levels are relative to a full-scale square wave: a full-scale sine reads
// -3 dBFS RMS. Digital zero reads kFloorDb rather than -inf (JSON has no inf).
inline constexpr double kFloorDb = -200.0;

inline double power_to_db(double mean_square) {
  return mean_square > 1e-20 ? 10.0 * std::log10(mean_square) : kFloorDb;
}
inline double amplitude_to_db(double amplitude) {
  return amplitude > 1e-10 ? 20.0 * std::log10(amplitude) : kFloorDb;
}
inline double db_to_amplitude(double db) { return std::pow(10.0, db / 20.0); }
inline double db_to_power(double db) { return std::pow(10.0, db / 10.0); }

// Rounds a figure for event details (a few decimals are enough for operators
// and keep the event lines stable and short).
inline double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

// Cuts the sample stream into fixed windows independent of the decoder's block
// size. Each window's start time is derived from the timestamp of the block
// holding its first sample, so timestamp jitter does not accumulate.
class Windower {
 public:
  void reset(int sample_rate, double window_s) {
    rate_ = sample_rate > 0 ? sample_rate : 48000;
    size_ = std::max(1, static_cast<int>(std::lround(window_s * rate_)));
    filled_ = 0;
    expected_next_s_ = -1;
  }
  int size() const { return size_; }
  int rate() const { return rate_; }
  double window_s() const { return static_cast<double>(size_) / rate_; }

  // A block that does not follow on from the previous one (a timestamp jump of
  // more than max_gap_s either way). The partial window is dropped.
  bool check_gap(const AudioBlock& b, double max_gap_s = 0.1) {
    const bool gap = expected_next_s_ >= 0 && std::abs(b.media_time_s() - expected_next_s_) > max_gap_s;
    if (gap) filled_ = 0;
    expected_next_s_ = b.media_time_s() + static_cast<double>(b.samples()) / rate_;
    return gap;
  }

  // segment(begin, end): samples [begin, end) of the block belong to the
  // current window. complete(start_s, end_s): the window is full.
  template <class Segment, class Complete>
  void feed(const AudioBlock& b, Segment&& segment, Complete&& complete) {
    const int n = b.samples();
    int pos = 0;
    while (pos < n) {
      const int take = std::min(n - pos, size_ - filled_);
      if (filled_ == 0) start_s_ = b.media_time_s() + static_cast<double>(pos) / rate_;
      segment(pos, pos + take);
      filled_ += take;
      pos += take;
      if (filled_ == size_) {
        filled_ = 0;
        complete(start_s_, start_s_ + window_s());
      }
    }
  }

 private:
  int rate_ = 48000;
  int size_ = 4800;
  int filled_ = 0;
  double start_s_ = 0;
  double expected_next_s_ = -1;
};

// A run of consecutive analysis steps in one state, for since_s bookkeeping:
// the engine wants the true onset of a condition and the true end.
struct RunState {
  bool known = false;   // has any state been reported
  bool active = false;
  double since_s = 0;   // start of the current run

  // Records the state of the step starting at step_start_s; returns the onset
  // (or end) of the current run.
  double update(bool now_active, double step_start_s) {
    if (!known || now_active != active) {
      known = true;
      active = now_active;
      since_s = step_start_s;
    }
    return since_s;
  }
  void reset() { known = false; active = false; since_s = 0; }
};

// Frequency of a dominant sinusoid from interpolated upward zero crossings of
// x[0..n) (mean removed). Returns 0 when fewer than two crossings are found.
double zero_crossing_frequency_hz(const float* x, int n, double mean, int sample_rate);

// Least-squares fit of x[0..n) - mean to a*cos + b*sin at frequency_hz.
struct SineFit {
  double amplitude = 0;     // peak amplitude of the fitted sinusoid
  double purity = 0;        // share of the (AC) energy explained by it, 0..1
  double residual_db = 0;   // residual energy relative to total, dB (lower = purer)
};
SineFit fit_sine(const float* x, int n, double mean, double frequency_hz, int sample_rate);

// A channel's name from the stream info, or "c<N>".
inline std::string channel_label(const std::vector<std::string>& names, int c) {
  if (c >= 0 && static_cast<size_t>(c) < names.size() && !names[static_cast<size_t>(c)].empty())
    return names[static_cast<size_t>(c)];
  // Appended rather than `"c" + std::to_string(c)`: GCC 12 at -O3 reports a
  // false -Wrestrict inside std::string's insert for that form.
  std::string label("c");
  label += std::to_string(c);
  return label;
}

// Names from a block (the block knows its layout even when configure() was
// not told).
inline std::vector<std::string> channel_labels(const AudioBlock& b) {
  std::vector<std::string> names;
  for (int c = 0; c < b.channels(); ++c) names.push_back(b.channel_name(c));
  return names;
}

}  // namespace avmon::audio

namespace avmon::audio {

// True peak (ITU-R BS.1770 Annex 2 style): 4x oversampling by a polyphase
// windowed-sinc interpolator, maximum magnitude over the oversampled signal.
// The interpolator is the expensive part of a loudness meter, so it runs only
// between samples within 6 dB of the peak so far (see feed()).
class TruePeakMeter {
 public:
  static constexpr int kPhases = 4;
  static constexpr int kTaps = 12;  // per phase

  TruePeakMeter();
  void reset(int channels);
  // Samples x[0..n) of channel c; `interpolate` false measures the sample
  // peak only (history is kept either way).
  void feed(int c, const float* x, int n, bool interpolate);
  double peak(int c) const { return peak_[static_cast<size_t>(c)]; }
  double max_peak() const;

 private:
  float coef_[kPhases][kTaps];
  // The same, tap by tap: the four phases of one tap side by side (SSE2
  // computes the four phases of a sample together).
  alignas(16) float coef_by_tap_[kTaps][kPhases];
  // Above the largest sum of one phase's |coefficients|: no interpolated
  // point exceeds the largest sample under the filter times this.
  float gain_bound_ = 2;
  std::vector<std::vector<float>> work_;  // per channel: kTaps-1 history + segment
  std::vector<double> peak_;
};

}  // namespace avmon::audio
