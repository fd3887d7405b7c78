// Live-input machinery that does not need a network: reconnect backoff, the
// signal_loss watchdog on a fake clock, and how signal_loss correlates with
// the other defects in the event engine.
#include <gtest/gtest.h>

#include "app/signal_loss.hpp"
#include "input/backoff.hpp"
#include "input/watchdog.hpp"
#include "pipeline/engine.hpp"
#include "support/events.hpp"

namespace avmon {
namespace {

TEST(Backoff, DoublesUpToTheMaximumWithJitterInTheUpperHalf) {
  Backoff b(0.5, 4.0, 42);
  const double nominal[] = {0.5, 1, 2, 4, 4, 4, 4};
  for (double n : nominal) {
    double d = b.next_delay_s();
    EXPECT_GE(d, n / 2);
    EXPECT_LE(d, n);
  }
  b.reset();
  EXPECT_LE(b.next_delay_s(), 0.5);
}

TEST(Backoff, JitterSpreadsMonitorsThatLostTheSameSource) {
  Backoff a(1, 10, 1), b(1, 10, 2);
  int differ = 0;
  for (int i = 0; i < 5; ++i) differ += std::abs(a.next_delay_s() - b.next_delay_s()) > 1e-6;
  EXPECT_EQ(differ, 5);
}

TEST(SignalWatchdog, NoDataForTheTimeoutIsALossThatEndsWithTheNextMedia) {
  SignalWatchdog w(2.0);
  Liveness l{1000, 10, true};
  w.start(0, l);
  EXPECT_FALSE(w.poll(1.0, l));
  w.on_media(1.5, l);
  EXPECT_FALSE(w.poll(3.4, l));
  auto r = w.poll(3.5, l);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, LossReason::NoData);
  EXPECT_FALSE(w.poll(4.0, l)) << "reported once";
  EXPECT_TRUE(w.lost());
  EXPECT_TRUE(w.on_media(9.0, l));
  EXPECT_FALSE(w.lost());
  EXPECT_FALSE(w.on_media(9.1, l));
}

TEST(SignalWatchdog, DetailsSayWhichKindOfLoss) {
  {
    SignalWatchdog w(2.0);
    w.start(0, {100, 1, true});
    EXPECT_EQ(w.poll(2.0, {5000, 1, true}), LossReason::NoDecodableFrames) << "bytes but nothing decodes";
  }
  {
    SignalWatchdog w(2.0);
    w.start(0, {100, 1, true});
    EXPECT_EQ(w.poll(2.0, {100, 40, true}), LossReason::NoDecodableFrames) << "packets but no frames";
  }
  {
    SignalWatchdog w(2.0);
    w.start(0, {100, 1, true});
    EXPECT_EQ(w.poll(2.0, {100, 1, false}), LossReason::InputClosed);
  }
  {
    // The last datagrams in flight when the feed stopped are not "data flowing".
    SignalWatchdog w(2.0);
    w.start(0, {100, 1, true});
    EXPECT_FALSE(w.poll(0.1, {3000, 2, true}));
    EXPECT_EQ(w.poll(2.0, {3000, 2, true}), LossReason::NoData);
  }
  EXPECT_STREQ(loss_reason_name(LossReason::NoData), "no data");
  EXPECT_STREQ(loss_reason_name(LossReason::NoDecodableFrames), "no decodable frames");
  EXPECT_STREQ(loss_reason_name(LossReason::InputClosed), "input closed");
}

using test::Lines;
using test::obs;

// The engine wiring SignalLossWatch::declare sets up, without a config.
void declare_signal_loss(EventEngine& e, const std::vector<std::string>& suppressed) {
  DefectPolicy p;
  p.min_duration_s = 0;
  p.hold_off_s = 0;
  e.add_detector(SignalLossWatch::kDetector, p, {"signal_loss"}, suppressed);
}

TEST(SignalLossCorrelation, AnOngoingFreezeEndsWhereTheSignalIsLost) {
  Lines sink;
  EventEngine e("s", sink);
  e.wall_time = [] { return "t"; };
  e.add_detector("freeze", {2.0, 1.0, "major"}, {"freeze"}, {});
  declare_signal_loss(e, {"freeze", "silence"});
  for (int i = 0; i <= 100; ++i) {  // frozen from 1 s, reported from 3 s
    double t = i * 0.04;
    e.observe("freeze", obs("freeze", t, t >= 1.0));
    e.advance(t);
  }
  e.observe(SignalLossWatch::kDetector, obs("signal_loss", 4.04, true));
  e.advance(4.04);
  EXPECT_EQ(sink.kinds("freeze"), (std::vector<std::string>{"defect.start@1.0", "defect.end@4.04"}));
  EXPECT_EQ(sink.kinds("signal_loss"), (std::vector<std::string>{"defect.start@4.04"}));
  // Media returns 8 s later (media time follows the wall clock across the gap).
  e.observe(SignalLossWatch::kDetector, obs("signal_loss", 12.04, false));
  e.advance(12.04);
  EXPECT_EQ(sink.kinds("signal_loss"), (std::vector<std::string>{"defect.start@4.04", "defect.end@12.04"}));
}

TEST(SignalLossCorrelation, ConditionsDuringTheGapCountOnlyFromItsEnd) {
  Lines sink;
  EventEngine e("s", sink);
  e.wall_time = [] { return "t"; };
  e.add_detector("silence", {2.0, 1.0, "major"}, {"silence"}, {});
  declare_signal_loss(e, {"silence"});
  e.observe(SignalLossWatch::kDetector, obs("signal_loss", 1.0, true));
  // A detector still reporting silence from the last block before the gap...
  e.observe("silence", obs("silence", 1.0, true));
  e.advance(1.0);
  e.observe(SignalLossWatch::kDetector, obs("signal_loss", 9.0, false));
  // ...and for 1.5 s after it: too short once the gap is not counted.
  for (double t = 9.0; t < 10.5; t += 0.02) {
    e.observe("silence", obs("silence", t, true));
    e.advance(t);
  }
  e.observe("silence", obs("silence", 10.5, false));
  e.advance(10.5);
  EXPECT_TRUE(sink.kinds("silence").empty());
  EXPECT_EQ(sink.kinds("signal_loss").size(), 2u);
}

}  // namespace
}  // namespace avmon
