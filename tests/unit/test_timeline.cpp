// media_time stays monotonic and gap-free across what live inputs do to
// timestamps: B-frame reordering, encoder restarts, reconnects, outages and
// the 33-bit MPEG-TS wrap.
#include <gtest/gtest.h>

#include <cmath>

#include "input/timeline.hpp"

namespace avmon {
namespace {

constexpr double kFrame_s = 0.04;
constexpr int kVideo = 0, kAudio = 1;

TEST(Timeline, StartsAtZeroFromTheFirstTimestamp) {
  Timeline tl;
  EXPECT_DOUBLE_EQ(tl.map(kVideo, 1.4, kFrame_s), 0.0);
  EXPECT_NEAR(tl.map(kVideo, 1.44, kFrame_s), 0.04, 1e-9);
  EXPECT_FALSE(tl.take_discontinuity());
}

TEST(Timeline, SmallBackwardStepsAreReorderingNotJumpsAndNeverRunBackwards) {
  Timeline tl;
  tl.map(kVideo, 10.0, kFrame_s);
  tl.map(kVideo, 10.12, kFrame_s);
  double m = tl.map(kVideo, 10.04, kFrame_s);  // a B-frame's best-effort timestamp
  EXPECT_NEAR(m, 0.12, 1e-9);
  EXPECT_FALSE(tl.take_discontinuity());
  EXPECT_EQ(tl.jumps(), 0);
}

TEST(Timeline, BackwardJumpContinuesOneFrameAfterAndIsReportedOnce) {
  Timeline tl;
  for (int i = 0; i < 100; ++i) tl.map(kVideo, 50.0 + i * kFrame_s, kFrame_s);  // up to 3.96
  double m = tl.map(kVideo, 1.4, kFrame_s);  // encoder restarted
  EXPECT_NEAR(m, 4.0, 1e-9);
  EXPECT_TRUE(tl.take_discontinuity());
  EXPECT_FALSE(tl.take_discontinuity());
  EXPECT_NEAR(tl.map(kVideo, 1.44, kFrame_s), 4.04, 1e-9);
  EXPECT_EQ(tl.jumps(), 1);
}

TEST(Timeline, ForwardJumpBeyondTheGapLimitIsAbsorbed) {
  Timeline tl(1.0, 30.0);
  tl.map(kVideo, 0.0, kFrame_s);
  double m = tl.map(kVideo, 3600.0, kFrame_s);
  EXPECT_NEAR(m, 0.04, 1e-9);
  EXPECT_TRUE(tl.take_discontinuity());
}

// A forward step within the gap limit is time that passed (a hole in a
// recording), once the content confirms it: the stream's frames follow the
// new clock for a second.
TEST(Timeline, AForwardStepIsRealTimeOnceTheFramesAfterItFollowIt) {
  Timeline tl(1.0, 30.0);
  for (int i = 0; i < 25; ++i) tl.map(kVideo, i * kFrame_s, kFrame_s);  // 0 .. 1.0
  // From 6.0 on: placed after the content until a second of it follows.
  for (int i = 0; i < 24; ++i) EXPECT_NEAR(tl.map(kVideo, 6.0 + i * kFrame_s, kFrame_s), 1.0 + i * kFrame_s, 1e-9);
  EXPECT_NEAR(tl.map(kVideo, 6.96, kFrame_s), 6.96, 1e-9);
  EXPECT_NEAR(tl.map(kVideo, 7.0, kFrame_s), 7.0, 1e-9);
  EXPECT_FALSE(tl.take_discontinuity());
  EXPECT_EQ(tl.unconfirmed_steps(), 0);
}

TEST(Timeline, AStepThatAudioAndVideoMakeTogetherIsRealAtOnce) {
  Timeline tl(1.0, 30.0);
  for (int i = 0; i < 25; ++i) {
    tl.map(kVideo, i * kFrame_s, kFrame_s);
    tl.map(kAudio, i * kFrame_s, kFrame_s);
  }
  EXPECT_NEAR(tl.map(kVideo, 6.0, kFrame_s), 1.0, 1e-9);  // a claim
  EXPECT_NEAR(tl.map(kAudio, 6.0, kFrame_s), 6.0, 1e-9);  // the same step: corroborated
  EXPECT_NEAR(tl.map(kVideo, 6.04, kFrame_s), 6.04, 1e-9);
  EXPECT_FALSE(tl.take_discontinuity());
}

// Variable frame rate: a still picture is coded once, and the next picture
// comes seconds later. The audio, going on all along, shows that the time
// passed: the picture is placed at its own time at once.
TEST(Timeline, ASparsePictureAfterAStillIsRealTimeWhenTheAudioHasGotThere) {
  Timeline tl(1.0, 30.0);
  const double block_s = 1024 / 48000.0;
  double audio_s = 0;
  tl.map(kVideo, 0.0, kFrame_s);
  for (double v : {3.0, 6.5, 7.0}) {
    for (; audio_s + block_s <= v; audio_s += block_s) tl.map(kAudio, audio_s, block_s);
    EXPECT_NEAR(tl.map(kVideo, v, kFrame_s), v, 1e-9) << v;
  }
  EXPECT_FALSE(tl.take_discontinuity());
  EXPECT_EQ(tl.unconfirmed_steps(), 0);
}

// A corrupted timestamp (a flipped bit): one frame claims 16 s later, the
// next is back on the old clock. Media time never leaves the content.
TEST(Timeline, AnOutlierTimestampNeverStretchesMediaTime) {
  for (int stream : {kVideo, kAudio}) {
    Timeline tl(1.0, 30.0);
    const double d = stream == kVideo ? kFrame_s : 1024 / 48000.0;
    double m = 0;
    for (int i = 0; i < 100; ++i) {
      double raw = i == 40 ? 17.165 : i * d;
      m = tl.map(stream, raw, d);
      EXPECT_NEAR(m, i * d, 1e-9) << "stream " << stream << " frame " << i;
    }
    EXPECT_NEAR(tl.end_s(), 100 * d, 1e-9);
    EXPECT_FALSE(tl.take_discontinuity());
    EXPECT_EQ(tl.unconfirmed_steps(), 1);
  }
}

// With another stream going on undisturbed, a stream whose timestamps claim
// a gap for less than a second of its content is placed on its content.
TEST(Timeline, AShortRunOfShiftedTimestampsInOneStreamIsPlacedOnItsContent) {
  Timeline tl(1.0, 30.0);
  double v = 0;
  for (int i = 0; i < 100; ++i) {
    double t = i * kFrame_s;
    tl.map(kAudio, t, kFrame_s);
    v = tl.map(kVideo, i >= 30 && i < 40 ? t + 2.0 : t, kFrame_s);  // ten frames 2 s late
    EXPECT_NEAR(v, t, 1e-9) << i;
  }
  EXPECT_EQ(tl.unconfirmed_steps(), 1);
}

TEST(Timeline, AudioAndVideoJumpingTogetherKeepTheirRelationAndReportOneJump) {
  Timeline tl;
  tl.map(kVideo, 100.0, kFrame_s);
  tl.map(kAudio, 100.01, 0.021);
  tl.map(kVideo, 100.04, kFrame_s);
  tl.map(kAudio, 100.031, 0.021);
  double v = tl.map(kVideo, 7.0, kFrame_s);
  EXPECT_TRUE(tl.take_discontinuity());
  double a = tl.map(kAudio, 7.01, 0.021);
  EXPECT_FALSE(tl.take_discontinuity()) << "the audio's jump is the same jump";
  EXPECT_NEAR(a - v, 0.01, 1e-9);
  EXPECT_EQ(tl.jumps(), 1);
}

TEST(Timeline, ThirtyThreeBitWrapIsNotADiscontinuity) {
  Timeline tl;
  const double span = Timeline::kWrapSpan_s;
  double raw = span - 1.0;  // one second before the 90 kHz clock wraps
  double expect = 0;
  for (int i = 0; i < 50; ++i) {
    double r = std::fmod(raw + i * kFrame_s, span);
    EXPECT_NEAR(tl.map(kVideo, r, kFrame_s), expect, 1e-6) << "frame " << i;
    expect += kFrame_s;
  }
  EXPECT_FALSE(tl.take_discontinuity());
  EXPECT_EQ(tl.wraps(), 1);
  EXPECT_EQ(tl.jumps(), 0);
}

TEST(Timeline, EachStreamWrapsOnItsOwn) {
  Timeline tl;
  const double span = Timeline::kWrapSpan_s;
  tl.map(kVideo, span - 0.08, kFrame_s);
  tl.map(kAudio, span - 0.07, 0.02);
  double v = tl.map(kVideo, 0.0 - 0.0 + 0.0, kFrame_s);  // video wrapped: raw 0 == span
  double a = tl.map(kAudio, span - 0.05, 0.02);         // audio not yet
  EXPECT_NEAR(v, 0.08, 1e-6);
  EXPECT_NEAR(a, 0.03, 1e-6);
  double a2 = tl.map(kAudio, 0.01, 0.02);  // now audio wraps too
  EXPECT_NEAR(a2, 0.09, 1e-6);
  EXPECT_FALSE(tl.take_discontinuity());
}

TEST(Timeline, AJumpAfterAnOutageKeepsTheOutageLength) {
  Timeline tl;
  for (int i = 0; i < 25; ++i) tl.map(kVideo, 10.0 + i * kFrame_s, kFrame_s);  // media 0 .. 1.0
  tl.hint_gap(8.0);                    // nothing for 8 s of wall time
  double m = tl.map(kVideo, 1.4, kFrame_s);  // the sender came back from its start
  EXPECT_NEAR(m, 9.0, 1e-9);
  EXPECT_TRUE(tl.take_discontinuity());
}

TEST(Timeline, FramesHeldBackFromBeforeAnOutageDoNotSpendTheGapHint) {
  Timeline tl;
  for (int i = 0; i < 25; ++i) tl.map(kVideo, 10.0 + i * kFrame_s, kFrame_s);  // media 0 .. 1.0
  tl.hint_gap(8.0);
  // A decoder with frame threads delivers its last pictures only once new
  // packets arrive after the outage: they continue the old clock.
  EXPECT_NEAR(tl.map(kVideo, 11.0, kFrame_s), 1.0, 1e-9);
  EXPECT_NEAR(tl.map(kVideo, 11.04, kFrame_s), 1.04, 1e-9);
  EXPECT_NEAR(tl.map(kVideo, 1.4, kFrame_s), 9.08, 1e-9);
  EXPECT_TRUE(tl.take_discontinuity());
}

TEST(Timeline, AGapHintIsIgnoredWhenTimestampsTellTheGap) {
  Timeline tl;
  tl.map(kVideo, 10.0, kFrame_s);
  tl.hint_gap(3.0);
  EXPECT_NEAR(tl.map(kVideo, 13.0, kFrame_s), 3.0, 1e-9);  // a stall with a running clock
  EXPECT_FALSE(tl.take_discontinuity());
  // The hint is spent: a later jump continues one frame after.
  double m = tl.map(kVideo, 0.5, kFrame_s);
  EXPECT_NEAR(m, 3.04, 1e-9);
}

TEST(Timeline, ARestartStartsANewEpochAfterTheGapEvenWithSimilarTimestamps) {
  Timeline tl;
  tl.map(kVideo, 0.0, kFrame_s);
  tl.map(kAudio, 0.0, 0.02);
  tl.map(kVideo, 1.96, kFrame_s);  // end of video: 2.0
  tl.map(kAudio, 1.98, 0.02);      // end of audio: 2.0
  tl.restart(1.5);
  // The new session numbers its streams differently and starts its clock near 2 s.
  double a = tl.map(5, 2.1, 0.02);
  EXPECT_TRUE(tl.take_discontinuity());
  double v = tl.map(4, 2.15, kFrame_s);
  EXPECT_FALSE(tl.take_discontinuity());
  EXPECT_NEAR(a, 3.5, 1e-9);
  EXPECT_NEAR(v, 3.55, 1e-9);
  EXPECT_NEAR(tl.end_s(), 3.59, 1e-9);
}

TEST(Timeline, MissingTimestampsContinueFromThePreviousFrame) {
  Timeline tl;
  tl.map(kVideo, 5.0, kFrame_s);
  EXPECT_NEAR(tl.map(kVideo, NAN, kFrame_s), 0.04, 1e-9);
  EXPECT_NEAR(tl.map(kVideo, NAN, kFrame_s), 0.08, 1e-9);
  EXPECT_NEAR(tl.map(kVideo, 5.12, kFrame_s), 0.12, 1e-9);
  EXPECT_FALSE(tl.take_discontinuity());
}

TEST(Timeline, NeverRunsBackwardsWhateverTheInput) {
  Timeline tl;
  double raws[] = {3.0, 3.04, 1.0, 1e6, 1e6 + 0.04, -5.0, Timeline::kWrapSpan_s - 0.1, 0.2, NAN, 0.3, 0.25};
  double last = -1;
  for (double r : raws) {
    double m = tl.map(kVideo, r, kFrame_s);
    EXPECT_GE(m, last) << "raw " << r;
    last = m;
  }
}

}  // namespace
}  // namespace avmon
