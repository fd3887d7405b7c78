#include <gtest/gtest.h>

#include "phase_inversion/phase_inversion.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::describe_phase_inversion;
using avmon::audio::PhaseInversionDetector;

struct Result {
  CollectingSink sink;
  std::vector<Run> defects;
};

Result analyse(const Signal& sig) {
  Result r;
  const auto info = describe_phase_inversion();
  auto d = make(info);
  d->configure(stream_info(static_cast<int>(sig.size())));
  feed(*d, sig, r.sink);
  r.defects = defects_like_engine(runs(r.sink, "phase_inversion", 0, static_cast<double>(sig[0].size()) / kRate),
                                  info.min_duration_s, info.hold_off_s);
  return r;
}

std::vector<float> negate(std::vector<float> v) {
  for (auto& x : v) x = -x;
  return v;
}

TEST(PhaseInversionDetector, InvertedChannelIsFoundAtItsOnset) {
  auto m = music(10, -25, 1);
  std::vector<float> r(m);
  for (size_t i = 3 * kRate; i < 8 * static_cast<size_t>(kRate); ++i) r[i] = -m[i];
  auto res = analyse({m, r});
  ASSERT_EQ(res.defects.size(), 1u);
  EXPECT_NEAR(res.defects[0].start_s, 3.0, 0.15);
  EXPECT_NEAR(res.defects[0].end_s, 8.0, 0.15);
  const Observation* on = nullptr;
  for (const auto& o : res.sink.seen)
    if (o.active) on = &o;
  ASSERT_NE(on, nullptr);
  EXPECT_LT(on->details["correlation"].get<double>(), -0.95);
  EXPECT_GT(on->details["downmix_loss_db"].get<double>(), 20.0);
  EXPECT_EQ(on->details["channel_name"], "FL/FR");
}

TEST(PhaseInversionDetector, UncorrelatedStereoIsNotInverted) {
  EXPECT_TRUE(analyse({music(8, -25, 2), dialogue(8, -25, 3)}).defects.empty());
  EXPECT_TRUE(analyse({dialogue(8, -25, 4), dialogue(8, -25, 5)}).defects.empty());
}

TEST(PhaseInversionDetector, MonoIsNotInverted) {
  auto m = music(8, -25, 6);
  EXPECT_TRUE(analyse({m, m}).defects.empty());
}

TEST(PhaseInversionDetector, PartlyOutOfPhaseWideStereoIsNotInverted) {
  // Correlation about -0.3: a wide mix, the downmix loses little.
  auto a = music(8, -25, 7), b = dialogue(8, -25, 8);
  std::vector<float> l(a.size()), r(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    l[i] = a[i] + 0.8f * b[i];
    r[i] = -0.3f * a[i] + 0.8f * b[i];
  }
  EXPECT_TRUE(analyse({l, r}).defects.empty());
}

TEST(PhaseInversionDetector, InvertedNearSilenceIsNotReported) {
  auto m = music(6, -70, 9);
  EXPECT_TRUE(analyse({m, negate(m)}).defects.empty());
}

TEST(PhaseInversionDetector, PairsFollowTheLayout) {
  using P = std::vector<std::pair<int, int>>;
  EXPECT_EQ(PhaseInversionDetector::pairs_for({"FL", "FR", "FC", "LFE", "BL", "BR"}), (P{{0, 1}, {4, 5}}));
  EXPECT_EQ(PhaseInversionDetector::pairs_for({"c0", "c1"}), (P{{0, 1}}));
  EXPECT_TRUE(PhaseInversionDetector::pairs_for({"FC"}).empty());
}

}  // namespace
}  // namespace avmon::test::audio
