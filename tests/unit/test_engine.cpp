// The event engine's state machine: minimum duration, hold-off, correlation
// and closing at end of stream, on hand-made observation sequences.
#include <gtest/gtest.h>

#include "pipeline/engine.hpp"
#include "support/events.hpp"

namespace avmon {
namespace {

using test::feed;
using test::Lines;
using test::obs;

struct EngineTest : ::testing::Test {
  Lines lines;
  EventEngine engine{"s1", lines};
  void SetUp() override {
    engine.wall_time = [] { return std::string("2026-01-01T00:00:00.000Z"); };
    engine.add_detector("black", {0.5, 0.5, "critical"}, {"black"}, {"freeze"});
    engine.add_detector("freeze", {2.0, 0.5, "major"}, {"freeze"}, {});
  }
};

TEST_F(EngineTest, ShortConditionBelowMinimumDurationIsNotADefect) {
  feed(engine, "black", 1.0, 1.4, 5.0);  // 0.4 s < 0.5 s
  EXPECT_TRUE(lines.all.empty());
}

TEST_F(EngineTest, StartIsReportedAtTheTrueOnsetAndEndAtTheTrueEnd) {
  feed(engine, "black", 1.0, 3.0, 6.0);
  auto starts = lines.of("defect.start");
  auto ends = lines.of("defect.end");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 3.0);
  EXPECT_EQ(starts[0]["id"], ends[0]["id"]);
  EXPECT_EQ(starts[0]["severity"], "critical");
  EXPECT_EQ(starts[0]["stream"], "s1");
  EXPECT_EQ(starts[0]["detector"], "black");
  EXPECT_EQ(starts[0]["wall_time"], "2026-01-01T00:00:00.000Z");
  EXPECT_DOUBLE_EQ(ends[0]["details"]["duration_s"].get<double>(), 2.0);
}

TEST_F(EngineTest, GapShorterThanHoldOffDoesNotSplitTheDefect) {
  for (int i = 0; i < 200; ++i) {
    double t = i / 25.0;
    bool active = (t >= 1.0 && t < 3.0) || (t >= 3.2 && t < 5.0);  // 0.2 s gap < 0.5 s hold-off
    engine.observe("black", obs("black", t, active));
    engine.advance(t);
  }
  auto starts = lines.of("defect.start");
  auto ends = lines.of("defect.end");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 5.0);
}

TEST_F(EngineTest, GapLongerThanHoldOffGivesTwoDefects) {
  for (int i = 0; i < 200; ++i) {
    double t = i / 25.0;
    bool active = (t >= 1.0 && t < 3.0) || (t >= 4.0 && t < 6.0);
    engine.observe("black", obs("black", t, active));
    engine.advance(t);
  }
  EXPECT_EQ(lines.of("defect.start").size(), 2u);
  EXPECT_EQ(lines.of("defect.end").size(), 2u);
}

TEST_F(EngineTest, BlackSuppressesFreezeDuringTheSameIncident) {
  // A black picture is also an unchanging one: both detectors see it.
  for (int i = 0; i < 250; ++i) {
    double t = i / 25.0;
    bool black = t >= 2.0 && t < 6.0;
    engine.observe("black", obs("black", t, black));
    engine.observe("freeze", obs("freeze", t, t >= 2.04 && t < 6.0));
    engine.advance(t);
  }
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["type"], "black");
}

TEST_F(EngineTest, FreezeAfterBlackCountsFromTheEndOfBlack) {
  for (int i = 0; i < 300; ++i) {
    double t = i / 25.0;
    engine.observe("black", obs("black", t, t >= 2.0 && t < 4.0));
    engine.observe("freeze", obs("freeze", t, t >= 2.04 && t < 9.0));  // held picture after the black
    engine.advance(t);
  }
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1]["type"], "freeze");
  EXPECT_DOUBLE_EQ(starts[1]["media_time"].get<double>(), 4.0);
}

TEST_F(EngineTest, FreezeInProgressEndsWhenBlackTakesOver) {
  for (int i = 0; i < 300; ++i) {
    double t = i / 25.0;
    engine.observe("freeze", obs("freeze", t, t >= 1.0 && t < 10.0));
    engine.observe("black", obs("black", t, t >= 5.0 && t < 8.0));
    engine.advance(t);
  }
  auto ends = lines.of("defect.end");
  ASSERT_GE(ends.size(), 2u);
  EXPECT_EQ(ends[0]["type"], "freeze");
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 5.0);
}

TEST_F(EngineTest, ASuppressorBlipThatIsNoDefectNeitherEndsNorDelaysAnother) {
  // A dark frame or two during a freeze is not a black incident.
  for (int i = 0; i < 300; ++i) {
    double t = i / 25.0;
    engine.observe("freeze", obs("freeze", t, t >= 1.0 && t < 10.0));
    engine.observe("black", obs("black", t, (t >= 2.0 && t < 2.2) || (t >= 6.0 && t < 6.2)));
    engine.advance(t);
  }
  auto starts = lines.of("defect.start");
  auto ends = lines.of("defect.end");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["type"], "freeze");
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 1.0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 10.0);
}

TEST_F(EngineTest, FinishClosesOpenDefectsAtTheLastMediaTime) {
  for (int i = 0; i < 100; ++i) {
    double t = i / 25.0;
    engine.observe("black", obs("black", t, t >= 1.0));
    engine.advance(t);
  }
  engine.finish(4.0);
  auto ends = lines.of("defect.end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 4.0);
}

TEST_F(EngineTest, FinishDropsConditionsShorterThanTheMinimum) {
  engine.observe("freeze", obs("freeze", 3.0, true));
  engine.finish(4.0);  // 1 s < 2 s
  EXPECT_TRUE(lines.all.empty());
}

TEST_F(EngineTest, SinceBackdatesTheOnset) {
  Observation o = obs("freeze", 5.0, true);
  o.since_s = 3.0;
  engine.observe("freeze", o);
  engine.advance(5.0);
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 3.0);
}

TEST_F(EngineTest, ChannelsAreSeparateDefectsWithTheChannelInTheEvent) {
  engine.add_detector("channel_silent", {1.0, 0.0, "major"}, {"channel_silent"}, {});
  for (int i = 0; i < 100; ++i) {
    double t = i / 25.0;
    engine.observe("channel_silent", obs("channel_silent", t, t >= 1.0, 0));
    engine.observe("channel_silent", obs("channel_silent", t, t >= 2.0, 1));
    engine.advance(t);
  }
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0]["channel"], 0);
  EXPECT_EQ(starts[1]["channel"], 1);
  EXPECT_NE(starts[0]["id"], starts[1]["id"]);
}

TEST_F(EngineTest, IdsAreTheSameOnEveryRunOfTheSameInput) {
  feed(engine, "black", 1.0, 3.0, 6.0);
  Lines other;
  EventEngine again{"s1", other};
  again.wall_time = engine.wall_time;
  again.add_detector("black", {0.5, 0.5, "critical"}, {"black"}, {"freeze"});
  for (int i = 0; i < 150; ++i) {
    double t = i / 25.0;
    again.observe("black", obs("black", t, t >= 1.0 && t < 3.0));
    again.advance(t);
  }
  EXPECT_EQ(lines.all, other.all);
}


// Live inputs: each detector's observations arrive when it has made them.
// One that lags is timed on its own clock: a short condition it reports late
// is still too short, however far the others have got.
TEST_F(EngineTest, ALaggingDetectorsConditionIsTimedOnItsOwnClock) {
  engine.use_detector_clock("black");
  engine.use_detector_clock("freeze");
  for (int i = 0; i < 250; ++i) engine.advance_detector("freeze", i / 25.0);  // the fast one is at 10 s
  for (int i = 0; i < 100; ++i) {
    double t = i / 25.0;
    engine.observe("black", obs("black", t, t >= 1.0 && t < 1.3));  // 0.3 s < 0.5 s
    engine.advance_detector("black", t);
  }
  EXPECT_TRUE(lines.all.empty());
}

// What a lagging detector held back is reported when it catches up, even
// though a suppressor's incident (here signal_loss) began meanwhile: a
// condition before the incident is a defect of its own, ended where the
// incident begins.
TEST_F(EngineTest, DefectsALaggingDetectorHeldBackAreNotLostToALaterSuppressorIncident) {
  engine.add_detector("signal_loss", {0.0, 0.0, "critical"}, {"signal_loss"}, {"black", "freeze"});
  engine.use_detector_clock("black");
  engine.observe("signal_loss", obs("signal_loss", 8.0, true));  // the input is gone from 8 s
  engine.advance(8.0);
  for (int i = 0; i <= 200; ++i) {  // black catches up: 2-4 s, then 6 s to the loss
    double t = i / 25.0;
    engine.observe("black", obs("black", t, (t >= 2.0 && t < 4.0) || t >= 6.0));
    engine.advance_detector("black", t);
  }
  auto starts = lines.of("defect.start");
  auto ends = lines.of("defect.end");
  ASSERT_EQ(starts.size(), 3u);  // signal_loss, black, black
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(starts[1]["type"], "black");
  EXPECT_DOUBLE_EQ(starts[1]["media_time"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(starts[2]["media_time"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(ends[1]["media_time"].get<double>(), 8.0);  // where the loss took over
  // Nothing more while the loss lasts, and nothing counted twice after it.
  engine.observe("signal_loss", obs("signal_loss", 12.0, false));
  engine.advance(12.0);
  engine.finish(12.0);
  EXPECT_EQ(lines.of("defect.start").size(), 3u);
}

// Host reports about a detector (detector_lagging) have their own policy and
// run on the stream's clock, not on the lagging detector's.
TEST_F(EngineTest, HostTypesUseTheirOwnPolicyOnTheStreamClock) {
  engine.add_host_type("detector_lagging", {0.0, 10.0, "warning"});
  engine.use_detector_clock("freeze");
  engine.observe("freeze", obs("detector_lagging", 5.0, true));
  engine.observe("freeze", obs("detector_lagging", 6.0, false));
  engine.advance(12.0);
  EXPECT_EQ(lines.of("defect.end").size(), 0u);  // hold-off 10 s
  engine.advance(16.0);
  auto starts = lines.of("defect.start");
  auto ends = lines.of("defect.end");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(starts[0]["severity"], "warning");
  EXPECT_EQ(starts[0]["detector"], "freeze");
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(ends[0]["media_time"].get<double>(), 6.0);
}


// Live: the suppressor's detector (black) is a little behind the suppressed
// one (freeze). The freeze is not reported while black may still cover it.
TEST_F(EngineTest, ASuppressorALittleBehindIsWaitedForAndStillSuppresses) {
  engine.set_suppressor_wait(2.0);
  engine.use_detector_clock("black");
  engine.use_detector_clock("freeze");
  auto black_to = [&](double from_s, double to_s) {
    for (int i = static_cast<int>(from_s * 25); i < static_cast<int>(to_s * 25); ++i) {
      double t = i / 25.0;
      engine.observe("black", obs("black", t, t >= 3.5 && t < 6.0));
      engine.advance_detector("black", t);
    }
  };
  black_to(0, 3.0);  // black is at 3 s, not black yet ...
  for (int i = 0; i < 113; ++i) {  // ... freeze at 4.5 s, frozen since 2 s: it would start at 4 s
    double t = i / 25.0;
    engine.observe("freeze", obs("freeze", t, t >= 2.0));
    engine.advance_detector("freeze", t);
  }
  EXPECT_TRUE(lines.all.empty()) << "freeze waits for black";
  // Black from 3.5 s: the freeze had lasted 1.5 s of its 2 s before it.
  black_to(3.0, 8.0);
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["type"], "black");
}

// ... but not for ever: a suppressor further behind than the wait is lagging.
TEST_F(EngineTest, ASuppressorFarBehindIsNotWaitedFor) {
  engine.set_suppressor_wait(2.0);
  engine.use_detector_clock("black");
  engine.use_detector_clock("freeze");
  for (int i = 0; i < 200; ++i) {  // black never reports; freeze at 8 s
    double t = i / 25.0;
    engine.observe("freeze", obs("freeze", t, t >= 2.0));
    engine.advance_detector("freeze", t);
  }
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["type"], "freeze");
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 2.0);
}

}  // namespace
}  // namespace avmon
