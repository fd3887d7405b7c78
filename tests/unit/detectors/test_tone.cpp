#include <gtest/gtest.h>

#include "tone/tone.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::describe_tone;

struct Result {
  CollectingSink sink;
  std::vector<Run> defects;
  const Observation* last_active() const {
    const Observation* on = nullptr;
    for (const auto& o : sink.seen)
      if (o.active) on = &o;
    return on;
  }
};

Result analyse(const Signal& sig) {
  Result r;
  const auto info = describe_tone();
  auto d = make(info);
  d->configure(stream_info(static_cast<int>(sig.size())));
  feed(*d, sig, r.sink);
  r.defects = defects_like_engine(runs(r.sink, "tone", -1, static_cast<double>(sig[0].size()) / kRate),
                                  info.min_duration_s, info.hold_off_s);
  return r;
}

Signal programme(double s, unsigned seed) { return {music(s, -25, seed), dialogue(s, -28, seed + 1)}; }

TEST(ToneDetector, LineUpToneReplacingProgrammeIsFoundWithFrequencyAndLevel) {
  Signal s = programme(3, 1);
  append(s, {sine(5, 1000, -18), sine(5, 1000, -18)});
  append(s, programme(3, 3));
  auto r = analyse(s);
  ASSERT_EQ(r.defects.size(), 1u);
  EXPECT_NEAR(r.defects[0].start_s, 3.0, 0.15);
  EXPECT_NEAR(r.defects[0].end_s, 8.0, 0.15);
  auto* on = r.last_active();
  ASSERT_NE(on, nullptr);
  EXPECT_NEAR(on->details["frequency_hz"].get<double>(), 1000.0, 0.5);
  EXPECT_NEAR(on->details["level_dbfs"].get<double>(), -18.0, 0.2);
}

TEST(ToneDetector, OtherFrequenciesAndLevels) {
  for (auto [f, db] : {std::pair{440.0, -20.0}, {100.0, -12.0}, {10000.0, -18.0}, {1000.0, -45.0}}) {
    auto x = sine(4, f, db);
    auto r = analyse({x, x});
    ASSERT_EQ(r.defects.size(), 1u) << f;
    EXPECT_NEAR(r.last_active()->details["frequency_hz"].get<double>(), f, f * 0.001 + 0.5);
  }
}

TEST(ToneDetector, EbuInterruptedLeftChannelIsOneTone) {
  auto l = sine(9, 1000, -18), r = sine(9, 1000, -18);
  for (double t0 : {2.0, 5.0, 8.0})  // left interrupted for 250 ms every 3 s
    std::fill(l.begin() + static_cast<long>(t0 * kRate), l.begin() + static_cast<long>((t0 + 0.25) * kRate), 0.f);
  auto res = analyse({l, r});
  ASSERT_EQ(res.defects.size(), 1u);
  EXPECT_NEAR(res.defects[0].end_s, 9.0, 0.01);
}

TEST(ToneDetector, SustainedMusicalNotesAreNotTone) {
  // A held note with harmonics and vibrato; a pure decaying note (piano-like).
  std::vector<float> note(static_cast<size_t>(6 * kRate)), decay(note.size());
  double ph = 0;
  for (size_t i = 0; i < note.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    ph += 2 * std::numbers::pi * 440 * (1 + 0.006 * std::sin(2 * std::numbers::pi * 5.5 * t)) / kRate;
    note[i] = static_cast<float>(0.1 * (std::sin(ph) + 0.3 * std::sin(2 * ph) + 0.15 * std::sin(3 * ph)));
    decay[i] = static_cast<float>(0.3 * std::exp(-t * 0.8) * std::sin(2 * std::numbers::pi * 523.25 * t));
  }
  EXPECT_TRUE(analyse({note, note}).defects.empty());
  EXPECT_TRUE(analyse({decay, decay}).defects.empty());
  EXPECT_TRUE(analyse(programme(8, 5)).defects.empty());
}

TEST(ToneDetector, ToneOnOneChannelWithProgrammeOnTheOtherIsNotLineUp) {
  EXPECT_TRUE(analyse({sine(5, 1000, -18), music(5, -25, 7)}).defects.empty());
}

TEST(ToneDetector, SuppressesItsKnockOnEffects) {
  const auto info = describe_tone();
  for (const char* t : {"silence", "channel_silent", "loudness"})
    EXPECT_NE(std::find(info.suppresses.begin(), info.suppresses.end(), t), info.suppresses.end()) << t;
}

}  // namespace
}  // namespace avmon::test::audio
