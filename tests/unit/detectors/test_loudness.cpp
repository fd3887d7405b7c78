#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "audio_common/audio_common.hpp"
#include "loudness/loudness.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::describe_loudness;

struct Result {
  std::unique_ptr<Detector> det;
  CollectingSink sink;
  std::vector<Run> defects;
};

Result analyse(const Signal& sig, const std::function<void(Options&)>& tweak = {}) {
  Result r;
  const auto info = describe_loudness();
  r.det = make(info, tweak);
  r.det->configure(stream_info(static_cast<int>(sig.size())));
  feed(*r.det, sig, r.sink);
  r.defects = defects_like_engine(runs(r.sink, "loudness", -1, static_cast<double>(sig[0].size()) / kRate),
                                  info.min_duration_s, info.hold_off_s);
  return r;
}

// EBU Tech 3341: a 1 kHz sine at -23 dBFS (peak) in both channels of a
// stereo pair reads -23.0 LUFS.
Signal stereo_sine(double seconds, double dbfs) {
  auto x = sine(seconds, 1000, dbfs);
  return {x, x};
}

TEST(LoudnessDetector, ReferenceSineReadsMinus23AndRaisesNothing) {
  auto r = analyse(stereo_sine(20, -23));
  const auto s = r.det->summary()["loudness"];
  EXPECT_NEAR(s["integrated_lufs"].get<double>(), -23.0, 0.1);
  EXPECT_NEAR(s["max_short_term_lufs"].get<double>(), -23.0, 0.1);
  EXPECT_NEAR(s["true_peak_dbtp"].get<double>(), -23.0, 0.2);
  EXPECT_NEAR(s["range_lu"].get<double>(), 0.0, 0.1);
  EXPECT_EQ(s["target_lufs"].get<double>(), -23.0);
  EXPECT_TRUE(r.defects.empty());
  const auto lv = r.det->levels()["loudness"];
  EXPECT_NEAR(lv["momentary_lufs"].get<double>(), -23.0, 0.1);
}

TEST(LoudnessDetector, TooLoudSectionIsADefectWhileShortTermIsOutOfWindow) {
  Signal s = stereo_sine(10, -23);
  append(s, stereo_sine(10, -13));
  append(s, stereo_sine(10, -23));
  auto r = analyse(s);
  ASSERT_EQ(r.defects.size(), 1u);
  // Short-term (3 s) passes -18 LUFS once a quarter of its window is 10 LU
  // louder, and falls back once less than a quarter is.
  EXPECT_NEAR(r.defects[0].start_s, 10.75, 0.15);
  EXPECT_NEAR(r.defects[0].end_s, 22.3, 0.15);
  bool loud = false;
  for (const auto& o : r.sink.seen)
    if (o.active) loud = o.details["direction"] == "too_loud" && o.details["loudness_lufs"].get<double>() > -13.5;
  EXPECT_TRUE(loud);
  EXPECT_NEAR(r.det->summary()["loudness"]["range_lu"].get<double>(), 10.0, 0.5);
}

TEST(LoudnessDetector, MomentaryWindowReactsFaster) {
  Signal s = stereo_sine(10, -23);
  append(s, stereo_sine(10, -13));
  auto r = analyse(s, [](Options& o) { o.set("window", std::string("momentary")); });
  ASSERT_EQ(r.defects.size(), 1u);
  EXPECT_NEAR(r.defects[0].start_s, 10.1, 0.1);
}

TEST(LoudnessDetector, AtscPresetTargetsMinus24) {
  auto r = analyse(stereo_sine(5, -24), [](Options& o) { o.set("preset", std::string("atsc_a85")); });
  EXPECT_EQ(r.det->summary()["loudness"]["target_lufs"].get<double>(), -24.0);
  for (const auto& o : r.sink.seen) EXPECT_NEAR(o.score, 0.0, 0.1);
}

TEST(LoudnessDetector, QuietProgrammeWithinWideLowToleranceIsFine) {
  // Programme around -30 LUFS: quiet, below target, not an alarm.
  auto r = analyse(stereo_sine(12, -30));
  EXPECT_TRUE(r.defects.empty());
  auto q = analyse(stereo_sine(12, -40));
  EXPECT_EQ(q.defects.size(), 1u);
}

TEST(LoudnessDetector, SilenceIsNotALoudnessDefectAndIntegratedIsNull) {
  auto r = analyse(silence(2, 8));
  EXPECT_TRUE(r.defects.empty());
  EXPECT_TRUE(r.det->summary()["loudness"]["integrated_lufs"].is_null());
}

TEST(LoudnessDetector, NoVerdictUntilTheWindowIsFull) {
  auto r = analyse(stereo_sine(2.5, -10));
  EXPECT_TRUE(r.sink.seen.empty());
}

TEST(LoudnessDetector, LfeIsNotMeasuredAndSurroundsWeighMore) {
  const double secs = 5;
  Signal s;
  for (int c = 0; c < 6; ++c) s.push_back(c == 3 ? sine(secs, 60, -6) : std::vector<float>(static_cast<size_t>(secs * kRate), 0.f));
  EXPECT_TRUE(analyse(s).det->summary()["loudness"]["integrated_lufs"].is_null());
  Signal sur;
  for (int c = 0; c < 6; ++c) sur.push_back(c == 4 ? sine(secs, 1000, -23) : std::vector<float>(static_cast<size_t>(secs * kRate), 0.f));
  // One surround channel: -3 dB (one channel) + 1.5 dB (surround weight).
  EXPECT_NEAR(analyse(sur).det->summary()["loudness"]["integrated_lufs"].get<double>(), -24.5, 0.1);
}

}  // namespace
}  // namespace avmon::test::audio

TEST(TruePeakMeter, SegmentsOfFourOrMoreReadTheSamePeaksAsSampleBySample) {
  // Segments of three samples or fewer take the one-sample-at-a-time path
  // only; longer ones the four-at-a-time peak and gate. Both must find the
  // same peak, bit for bit, NaN samples (skipped by the peak) included.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> x(4801);
    float level = 0.05f;
    for (size_t i = 0; i < x.size(); ++i) {
      if (i % 480 == 0) level = 0.05f + 0.9f * (u(rng) + 1.f) / 2.f;  // level steps open the gate
      x[i] = level * u(rng);
      if (trial % 4 == 3 && i % 997 == 0) x[i] = std::numeric_limits<float>::quiet_NaN();
    }
    avmon::audio::TruePeakMeter whole, small;
    whole.reset(1);
    small.reset(1);
    for (size_t i = 0; i < x.size(); i += 1000) whole.feed(0, x.data() + i, static_cast<int>(std::min<size_t>(1000, x.size() - i)), true);
    for (size_t i = 0; i < x.size(); i += 3) small.feed(0, x.data() + i, static_cast<int>(std::min<size_t>(3, x.size() - i)), true);
    EXPECT_EQ(whole.peak(0), small.peak(0)) << "trial " << trial;
    EXPECT_GT(whole.peak(0), 0.5);
    // Without interpolation: the largest |sample|, NaN skipped.
    float want = 0;
    for (float v : x) want = std::max(want, std::abs(v));
    avmon::audio::TruePeakMeter samples;
    samples.reset(1);
    for (size_t i = 0; i < x.size(); i += 1000) samples.feed(0, x.data() + i, static_cast<int>(std::min<size_t>(1000, x.size() - i)), false);
    EXPECT_EQ(samples.peak(0), static_cast<double>(want)) << "trial " << trial;
  }
}
