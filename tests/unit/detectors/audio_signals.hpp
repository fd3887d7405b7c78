// Synthetic programme and defects for the audio detector tests: deterministic
// signals (fixed seeds), fed through the real bus in decoder-sized blocks, and
// the raw condition runs a detector reported (before the event engine).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "avmon/registry.hpp"
#include "support/media.hpp"

namespace avmon::test::audio {

inline constexpr int kRate = 48000;
using Signal = std::vector<std::vector<float>>;  // [channel][sample]

inline float db_amp(double db) { return static_cast<float>(std::pow(10.0, db / 20.0)); }

inline Signal silence(int channels, double seconds) {
  return Signal(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(seconds * kRate), 0.f));
}

inline std::vector<float> sine(double seconds, double freq_hz, double peak_dbfs, double phase = 0) {
  std::vector<float> v(static_cast<size_t>(seconds * kRate));
  const float a = db_amp(peak_dbfs);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = a * static_cast<float>(std::sin(2 * std::numbers::pi * freq_hz * static_cast<double>(i) / kRate + phase));
  return v;
}

// Speech-like programme: low-passed noise with a syllable envelope (about
// 4 Hz) and short pauses; `rms_dbfs` is the level while talking.
inline std::vector<float> dialogue(double seconds, double rms_dbfs, unsigned seed, double pause_floor_dbfs = -200) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(seconds * kRate));
  float lp = 0;
  const float floor_amp = pause_floor_dbfs > -199 ? db_amp(pause_floor_dbfs) * 1.7f : 0.f;
  for (size_t i = 0; i < v.size(); ++i) {
    lp += 0.2f * (u(rng) - lp);
    const double t = static_cast<double>(i) / kRate;
    const double syllable = std::max(0.0, std::sin(2 * std::numbers::pi * 4.0 * t));  // half the time talking
    v[i] = static_cast<float>(lp * db_amp(rms_dbfs) * 4.6 * syllable) + floor_amp * u(rng);
  }
  return v;
}

// Music-like programme: a chord of harmonic tones with vibrato and noise.
inline std::vector<float> music(double seconds, double rms_dbfs, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(seconds * kRate));
  const double notes[] = {220.0, 277.2, 329.6, 440.0};
  double phase[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < v.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    double s = 0;
    for (int k = 0; k < 4; ++k) {
      phase[k] += 2 * std::numbers::pi * notes[k] * (1 + 0.004 * std::sin(2 * std::numbers::pi * 5 * t)) / kRate;
      s += std::sin(phase[k]) + 0.4 * std::sin(2 * phase[k]) + 0.2 * std::sin(3 * phase[k]);
    }
    const double env = 0.6 + 0.4 * std::sin(2 * std::numbers::pi * 0.7 * t);
    v[i] = static_cast<float>((s / 4 * env + 0.05 * u(rng)) * db_amp(rms_dbfs) * 1.6);
  }
  return v;
}

inline void append(Signal& a, const Signal& b) {
  for (size_t c = 0; c < a.size(); ++c) a[c].insert(a[c].end(), b[c].begin(), b[c].end());
}

inline std::unique_ptr<Detector> make(const DetectorInfo& info,
                                      const std::function<void(Options&)>& tweak = {}) {
  Options o = default_options(info.options);
  if (tweak) tweak(o);
  return info.create(o);
}

inline StreamInfo stream_info(int channels, int rate = kRate) {
  StreamInfo si;
  si.has_audio = true;
  si.sample_rate = rate;
  si.channels = channels;
  si.channel_names = channels == 2 ? std::vector<std::string>{"FL", "FR"}
                                   : std::vector<std::string>{"FL", "FR", "FC", "LFE", "BL", "BR"};
  si.channel_names.resize(static_cast<size_t>(channels));
  for (int c = 0; c < channels; ++c)
    if (si.channel_names[static_cast<size_t>(c)].empty()) si.channel_names[static_cast<size_t>(c)] = "c" + std::to_string(c);
  return si;
}

// Feeds `sig` in blocks of `block` samples (AAC: 1024) starting at t0_s.
inline void feed(Detector& d, const Signal& sig, ObservationSink& out, double t0_s = 0, int block = 1024,
                 bool finish = true) {
  const size_t n = sig[0].size();
  std::uint64_t index = 0;
  for (size_t pos = 0; pos < n; pos += static_cast<size_t>(block)) {
    const size_t len = std::min(n - pos, static_cast<size_t>(block));
    Signal part(sig.size());
    for (size_t c = 0; c < sig.size(); ++c)
      part[c].assign(sig[c].begin() + static_cast<long>(pos), sig[c].begin() + static_cast<long>(pos + len));
    auto b = make_audio_block(part, kRate, t0_s + static_cast<double>(pos) / kRate, index++);
    d.on_audio(*b, out);
  }
  if (finish) d.finish(t0_s + static_cast<double>(n) / kRate, out);
}

struct Run {
  double start_s, end_s;
};

// Raw active runs of `type` (and channel), from the detector's own reports:
// onset and end at since_s when given. An open run ends at `end_s`.
inline std::vector<Run> runs(const CollectingSink& s, const std::string& type, int channel, double end_s) {
  std::vector<Run> out;
  bool active = false;
  double start = 0;
  for (const auto& o : s.seen) {
    if (o.type != type || o.channel != channel) continue;
    const double at = o.since_s.value_or(o.media_time_s);
    if (o.active && !active) start = at;
    if (!o.active && active) out.push_back({start, at});
    active = o.active;
  }
  if (active) out.push_back({start, end_s});
  return out;
}

// What the event engine makes of raw runs: a run must last `min_s` to start a
// defect; a later run within `hold_s` of the defect's end continues it.
inline std::vector<Run> defects_like_engine(const std::vector<Run>& r, double min_s, double hold_s) {
  std::vector<Run> out;
  for (const auto& x : r) {
    if (!out.empty() && x.start_s - out.back().end_s < hold_s)
      out.back().end_s = x.end_s;
    else if (x.end_s - x.start_s >= min_s)
      out.push_back(x);
  }
  return out;
}

}  // namespace avmon::test::audio
