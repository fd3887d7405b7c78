#include <gtest/gtest.h>

#include "clipping/clipping.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::describe_clipping;

std::vector<float> gain_and_clip(std::vector<float> v, double gain_db, float clip = 1.0f) {
  const float g = db_amp(gain_db);
  for (auto& x : v) x = std::clamp(x * g, -clip, clip);
  return v;
}

// What a lossy codec leaves of a clipped waveform: band-limited (windowed-sinc
// low-pass at 16 kHz), so flat tops ripple and overshoot full scale.
std::vector<float> codec_like(const std::vector<float>& v) {
  constexpr int kTaps = 63;
  double h[kTaps], sum = 0;
  const double fc = 16000.0 / kRate;
  for (int i = 0; i < kTaps; ++i) {
    const double m = i - (kTaps - 1) / 2.0;
    const double sinc = m == 0 ? 2 * fc : std::sin(2 * std::numbers::pi * fc * m) / (std::numbers::pi * m);
    h[i] = sinc * (0.54 - 0.46 * std::cos(2 * std::numbers::pi * i / (kTaps - 1)));
    sum += h[i];
  }
  std::vector<float> out(v.size(), 0.f);
  for (size_t n = 0; n < v.size(); ++n) {
    double acc = 0;
    for (int i = 0; i < kTaps; ++i)
      if (n >= static_cast<size_t>(i)) acc += h[i] / sum * v[n - static_cast<size_t>(i)];
    out[n] = static_cast<float>(acc);
  }
  return out;
}

// Scales so that the loudest sample sits at `peak` (a limiter's ceiling).
std::vector<float> peak_normalise(std::vector<float> v, float peak) {
  float m = 0;
  for (float x : v) m = std::max(m, std::abs(x));
  for (auto& x : v) x *= peak / m;
  return v;
}

struct Result {
  CollectingSink sink;
  std::vector<Run> defects;
};

Result analyse(const Signal& sig) {
  Result r;
  const auto info = describe_clipping();
  auto d = make(info);
  d->configure(stream_info(static_cast<int>(sig.size())));
  feed(*d, sig, r.sink);
  r.defects = defects_like_engine(runs(r.sink, "clipping", -1, static_cast<double>(sig[0].size()) / kRate),
                                  info.min_duration_s, info.hold_off_s);
  return r;
}

TEST(ClippingDetector, HardClippedProgrammeSectionIsFoundWithPeakAndShare) {
  Signal s = {music(3, -20, 1), music(3, -20, 2)};
  append(s, {gain_and_clip(music(3, -20, 3), 22), gain_and_clip(music(3, -20, 4), 22)});
  append(s, {music(3, -20, 5), music(3, -20, 6)});
  auto r = analyse(s);
  ASSERT_EQ(r.defects.size(), 1u);
  EXPECT_NEAR(r.defects[0].start_s, 3.0, 0.15);
  EXPECT_NEAR(r.defects[0].end_s, 6.0, 0.15);
  const Observation* on = nullptr;
  for (const auto& o : r.sink.seen)
    if (o.active) on = &o;
  ASSERT_NE(on, nullptr);
  EXPECT_NEAR(on->details["peak_dbfs"].get<double>(), 0.0, 0.01);
  EXPECT_GT(on->details["clipped_share_pct"].get<double>(), 5.0);
}

TEST(ClippingDetector, ClippingSurvivesCodecRippleAndOvershoot) {
  auto l = codec_like(gain_and_clip(music(4, -20, 7), 20));
  auto rr = codec_like(gain_and_clip(music(4, -20, 8), 20));
  float peak = 0;
  for (float x : l) peak = std::max(peak, std::abs(x));
  ASSERT_GT(peak, 1.02f);  // the band-limited plateau overshoots full scale
  auto r = analyse({l, rr});
  ASSERT_EQ(r.defects.size(), 1u);
  EXPECT_LT(r.defects[0].start_s, 0.2);
  EXPECT_GT(r.defects[0].end_s, 3.8);
}

TEST(ClippingDetector, ClippedSineIsClipping) {
  auto x = gain_and_clip(sine(3, 200, 0), 6);
  EXPECT_EQ(analyse({x, x}).defects.size(), 1u);
}

TEST(ClippingDetector, LoudLimitedProgrammeIsNotClipping) {
  // Music brought up so that its peaks sit at a limiter's 0.95 ceiling, many
  // of them, and the same through the codec model.
  auto l = peak_normalise(music(8, -10, 9), 0.95f), rr = peak_normalise(music(8, -10, 10), 0.95f);
  EXPECT_TRUE(analyse({l, rr}).defects.empty());
  EXPECT_TRUE(analyse({codec_like(l), codec_like(rr)}).defects.empty());
}

TEST(ClippingDetector, FullScaleSinesAreNotClipping) {
  for (double f : {50.0, 100.0, 1000.0, 5000.0}) {
    auto x = sine(3, f, -0.1);
    auto r = analyse({x, x});
    EXPECT_TRUE(r.defects.empty()) << f << " Hz";
    for (const auto& o : r.sink.seen) EXPECT_FALSE(o.active) << f << " Hz at " << o.media_time_s;
  }
}

TEST(ClippingDetector, ClippingBelowTheLevelIsNotFullScaleClipping) {
  auto x = gain_and_clip(music(3, -20, 11), 22, 0.5f);  // clipped at -6 dBFS
  EXPECT_TRUE(analyse({x, x}).defects.empty());
}

}  // namespace
}  // namespace avmon::test::audio
