#include <gtest/gtest.h>

#include "silence/silence.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::describe_silence;

std::vector<Run> silence_defects(const Signal& sig, int block = 1024) {
  auto d = make(describe_silence());
  d->configure(stream_info(static_cast<int>(sig.size())));
  CollectingSink sink;
  feed(*d, sig, sink, 0, block);
  const auto info = describe_silence();
  return defects_like_engine(runs(sink, "silence", -1, static_cast<double>(sig[0].size()) / kRate),
                             info.min_duration_s, info.hold_off_s);
}

Signal talk(double seconds, double rms_dbfs, unsigned seed) {
  return {dialogue(seconds, rms_dbfs, seed, -55), dialogue(seconds, rms_dbfs, seed + 1, -55)};
}

TEST(SilenceDetector, DigitalSilenceInProgrammeIsOneDefectAtItsTrueInterval) {
  Signal s = talk(3, -30, 1);
  append(s, silence(2, 3));
  append(s, talk(3, -30, 2));
  auto d = silence_defects(s);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].start_s, 3.0, 0.1);
  EXPECT_NEAR(d[0].end_s, 6.0, 0.1);
}

TEST(SilenceDetector, QuietDialogueWithPausesIsNotSilence) {
  // -48 dBFS talking with a -55 dBFS room tone in the pauses: quiet, not silent.
  EXPECT_TRUE(silence_defects(talk(20, -48, 3)).empty());
}

TEST(SilenceDetector, LowLevelNoiseBelowThresholdIsSilence) {
  Signal s = talk(2, -30, 4);
  append(s, {dialogue(4, -75, 5), dialogue(4, -75, 6)});  // encoder idle noise
  auto d = silence_defects(s);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].start_s, 2.0, 0.15);
}

TEST(SilenceDetector, OneChannelPlayingIsNotProgrammeSilence) {
  Signal s = {std::vector<float>(static_cast<size_t>(10 * kRate), 0.f), dialogue(10, -30, 7, -55)};
  EXPECT_TRUE(silence_defects(s).empty());
}

TEST(SilenceDetector, ResultDoesNotDependOnDecoderBlockSize) {
  Signal s = talk(3, -30, 8);
  append(s, silence(2, 2.5));
  append(s, talk(2, -30, 9));
  auto a = silence_defects(s, 1024), b = silence_defects(s, 333), c = silence_defects(s, 8192);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(a[0].start_s, b[0].start_s, 0.011);
  EXPECT_NEAR(a[0].start_s, c[0].start_s, 0.011);
  EXPECT_NEAR(a[0].end_s, c[0].end_s, 0.011);
}

TEST(SilenceDetector, ReportsEveryWindowWithLevelsInDetails) {
  auto d = make(describe_silence());
  d->configure(stream_info(2));
  CollectingSink sink;
  feed(*d, silence(2, 1), sink);
  ASSERT_EQ(sink.seen.size(), 10u);  // one per 100 ms window
  EXPECT_TRUE(sink.seen.back().active);
  EXPECT_EQ(sink.seen.back().since_s.value(), 0.0);
  EXPECT_EQ(sink.seen.back().details["threshold_dbfs"], -60.0);
  const auto levels = d->levels();
  EXPECT_EQ(levels["audio_levels"]["channels"].size(), 2u);
}

TEST(SilenceDetector, TimestampGapRestartsTheRun) {
  auto d = make(describe_silence());
  d->configure(stream_info(2));
  CollectingSink sink;
  feed(*d, silence(2, 1), sink, 0, 1024, false);
  d->on_discontinuity(5.0);
  feed(*d, silence(2, 1), sink, 5.0);
  EXPECT_NEAR(sink.seen.back().since_s.value(), 5.0, 1e-9);
}

TEST(SilenceDetector, DeclaresCorrelationAndDefaults) {
  const auto info = describe_silence();
  EXPECT_EQ(info.name, "silence");
  EXPECT_EQ(info.media, static_cast<unsigned>(kAudio));
  EXPECT_NE(std::find(info.suppresses.begin(), info.suppresses.end(), "channel_silent"), info.suppresses.end());
  EXPECT_DOUBLE_EQ(info.min_duration_s, 2.0);
}

}  // namespace
}  // namespace avmon::test::audio
