#include <gtest/gtest.h>

#include "channel_silent/channel_silent.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::describe_channel_silent;

struct Result {
  CollectingSink sink;
  std::vector<Run> defects(int channel, double end_s) const {
    const auto info = describe_channel_silent();
    return defects_like_engine(runs(sink, "channel_silent", channel, end_s), info.min_duration_s, info.hold_off_s);
  }
};

Result analyse(const Signal& sig) {
  Result r;
  auto d = make(describe_channel_silent());
  d->configure(stream_info(static_cast<int>(sig.size())));
  feed(*d, sig, r.sink);
  return r;
}

TEST(ChannelSilentDetector, DeadLeftChannelWhileRightPlays) {
  const double secs = 12;
  Signal s = {music(secs, -25, 1), music(secs, -25, 2)};
  std::fill(s[0].begin() + 3 * kRate, s[0].begin() + 9 * kRate, 0.f);
  auto r = analyse(s);
  auto left = r.defects(0, secs);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NEAR(left[0].start_s, 3.0, 0.1);
  EXPECT_NEAR(left[0].end_s, 9.0, 0.1);
  EXPECT_TRUE(r.defects(1, secs).empty());
  bool named = false;
  for (const auto& o : r.sink.seen)
    if (o.active && o.channel == 0) named = o.details["channel_name"] == "FL";
  EXPECT_TRUE(named);
}

TEST(ChannelSilentDetector, DeadChannelBesideDialogueWithPauses) {
  const double secs = 10;
  Signal s = {std::vector<float>(static_cast<size_t>(secs * kRate), 0.f), dialogue(secs, -30, 3, -58)};
  auto left = analyse(s).defects(0, secs);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_LT(left[0].start_s, 0.2);
  EXPECT_GT(left[0].end_s, secs - 0.2);
}

TEST(ChannelSilentDetector, ProgrammeSilenceIsNotAChannelDefect) {
  Signal s = {music(3, -25, 4), music(3, -25, 5)};
  append(s, silence(2, 6));
  append(s, {music(3, -25, 6), music(3, -25, 7)});
  auto r = analyse(s);
  EXPECT_TRUE(r.defects(0, 12).empty());
  EXPECT_TRUE(r.defects(1, 12).empty());
}

TEST(ChannelSilentDetector, QuieterChannelThatStillPlaysIsNotDead) {
  const double secs = 8;
  Signal s = {music(secs, -50, 8), music(secs, -20, 9)};  // 30 dB down but alive
  auto r = analyse(s);
  EXPECT_TRUE(r.defects(0, secs).empty());
}

TEST(ChannelSilentDetector, SilentLfeIsIgnoredByDefault) {
  const double secs = 6;
  Signal s;
  for (int c = 0; c < 6; ++c) s.push_back(c == 3 ? std::vector<float>(static_cast<size_t>(secs * kRate), 0.f)
                                                 : music(secs, -25, 10 + static_cast<unsigned>(c)));
  auto r = analyse(s);
  for (int c = 0; c < 6; ++c) EXPECT_TRUE(r.defects(c, secs).empty()) << c;
  for (const auto& o : r.sink.seen) EXPECT_NE(o.channel, 3);
}

}  // namespace
}  // namespace avmon::test::audio
