// The dispatcher's defences: on a live input a detector that is slow or hangs
// never holds the others' observations, is reported and isolated, and never
// holds the end of the run; in both modes a detector that throws anything
// costs that call only, and is disabled after repeated failures.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "pipeline/dispatcher.hpp"
#include "pipeline/engine.hpp"
#include "support/media.hpp"

namespace avmon {
namespace {

using namespace std::chrono_literals;

struct Lines : EventSink {
  std::mutex mu;
  std::vector<nlohmann::json> all;
  void emit(const nlohmann::json& e) override {
    std::lock_guard lk(mu);
    all.push_back(e);
  }
  std::vector<nlohmann::json> of(const std::string& kind, const std::string& type) {
    std::lock_guard lk(mu);
    std::vector<nlohmann::json> out;
    for (const auto& e : all)
      if (e["kind"] == kind && e["type"] == type) out.push_back(e);
    return out;
  }
};

// Blocks in its first call until released.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
  void pass() {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return open; });
  }
};

class Hangs final : public Detector {
 public:
  explicit Hangs(Gate& gate, std::atomic<int>& discontinuities) : gate_(gate), discontinuities_(discontinuities) {}
  void on_video(const VideoFrame&, ObservationSink&) override { gate_.pass(); }
  void on_discontinuity(double) override { ++discontinuities_; }

 private:
  Gate& gate_;
  std::atomic<int>& discontinuities_;
};

// Reports "dark" on every picture whose mean luma is below 40.
class Dark final : public Detector {
 public:
  void on_video(const VideoFrame& f, ObservationSink& out) override {
    out.observe({"dark", f.media_time_s(), cv::mean(f.luma())[0] < 40, {}, 0, -1, nlohmann::json::object()});
  }
};

std::shared_ptr<const VideoFrame> picture(int i, int luma) {
  return test::make_video_frame(cv::Mat(64, 64, CV_8UC1, cv::Scalar(luma)), i * 0.04, static_cast<std::uint64_t>(i));
}

bool eventually(const std::function<bool()>& pred, double timeout_s = 5) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct LiveTest : ::testing::Test {
  Lines lines;
  EventEngine engine{"s", lines};
  Gate gate;
  std::atomic<int> discontinuities{0};
  std::unique_ptr<Dispatcher> d;
  void SetUp() override {
    engine.wall_time = [] { return std::string("-"); };
    engine.add_detector("dark", {0.2, 0.0, "minor"}, {"dark"}, {});
    std::vector<DetectorSlot> slots;
    slots.push_back({"dark", kVideo, std::make_unique<Dark>()});
    slots.push_back({"hangs", kVideo, std::make_unique<Hangs>(gate, discontinuities)});
    DispatchLimits limits;
    limits.lag_warn_s = 2;
    limits.max_lag_s = 10;
    limits.drain_timeout_s = 0.2;
    d = std::make_unique<Dispatcher>(std::move(slots), engine, Dispatcher::Mode::DropWhenBehind, 2, 1000, limits);
  }
  // Pictures [from, to) at the pace of the fast detector, as a live input
  // would come: never faster than "dark" analyses them (batches of three).
  void feed(int from, int to, int dark_from = -1, int dark_to = -1) {
    for (int i = from; i < to; ++i) {
      d->video(picture(i, i >= dark_from && i < dark_to ? 16 : 120));
      const auto submitted = static_cast<std::uint64_t>((i + 1) / 3 * 3);
      ASSERT_TRUE(eventually([&] { return d->stats(0).processed.load() >= submitted; }));
    }
  }
  void TearDown() override {
    gate.release();  // the destructor waits for the call in progress
    d.reset();
  }
};

TEST_F(LiveTest, AHangingDetectorHoldsNoOtherDetectorsEvents) {
  // Dark from 1 s to 2 s; the other detector hangs on its first picture.
  feed(0, 75, 25, 50);
  // Not the file's reorder buffer: the dark defect is out while the other
  // detector is still inside its first call.
  ASSERT_TRUE(eventually([&] { return !lines.of("defect.end", "dark").empty(); })) << "dark held back";
  auto start = lines.of("defect.start", "dark");
  ASSERT_EQ(start.size(), 1u);
  EXPECT_DOUBLE_EQ(start[0]["media_time"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(lines.of("defect.end", "dark")[0]["media_time"].get<double>(), 2.0);
  EXPECT_EQ(d->stats(0).dropped.load(), 0u);
  EXPECT_EQ(d->stats(1).processed.load(), 0u) << "still in its first call";
}

TEST_F(LiveTest, ADetectorFarBehindIsReportedThenIsolatedAndRejoinsWhenItCatchesUp) {
  feed(0, 25 * 3);  // 3 s of media
  auto lagging = lines.of("defect.start", "detector_lagging");
  ASSERT_EQ(lagging.size(), 1u);
  EXPECT_EQ(lagging[0]["detector"], "hangs");
  EXPECT_GT(lagging[0]["details"]["lag_s"].get<double>(), 2.0);
  EXPECT_EQ(lagging[0]["details"]["isolated"], false);
  EXPECT_EQ(d->stats(1).state.load(), DetectorState::Lagging);
  feed(25 * 3, 25 * 11);  // 11 s
  EXPECT_EQ(d->stats(1).state.load(), DetectorState::Isolated);
  EXPECT_GT(d->stats(1).lag_s.load(), 10.0);
  EXPECT_EQ(d->stats(0).state.load(), DetectorState::Ok);
  // Released, it skips its backlog, forgets its history and takes new pictures.
  gate.release();
  ASSERT_TRUE(eventually([&] { return d->stats(1).state.load() == DetectorState::Ok; }));
  EXPECT_TRUE(eventually([&] { return discontinuities.load() == 1; }));
  const auto dropped = d->stats(1).dropped.load();
  feed(25 * 11, 25 * 12);
  d->drain();
  EXPECT_EQ(d->stats(1).dropped.load(), dropped) << "every picture after it caught up is analysed";
  // Each picture analysed or dropped once, and the discontinuity call.
  EXPECT_EQ(d->stats(1).processed.load() + d->stats(1).dropped.load(), 25u * 12 + 1);
  EXPECT_EQ(d->stats(0).processed.load(), 25u * 12);
}

TEST_F(LiveTest, TheEndWaitsABoundedTimeAndAbandonsADetectorStillBusy) {
  feed(0, 50, 10, 50);
  auto t0 = std::chrono::steady_clock::now();
  d->finish(2.0);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 2.0);  // drain_timeout_s 0.2 s, generously
  EXPECT_TRUE(d->abandoned());
  EXPECT_EQ(d->stats(1).state.load(), DetectorState::Stuck);
  EXPECT_EQ(d->report(1)["state"], "stuck");
  EXPECT_GT(d->report(1)["in_call_s"].get<double>(), 0.1);
  // The others' defects are closed at the end; nothing comes after it.
  auto end = lines.of("defect.end", "dark");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_DOUBLE_EQ(end[0]["media_time"].get<double>(), 2.0);
  auto summaries = d->summaries();  // leaves the abandoned detector alone
  EXPECT_TRUE(summaries.is_object());
  const size_t lines_at_end = lines.all.size();
  gate.release();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(lines.all.size(), lines_at_end);
}

// Throws from the `from`th picture on (1-based), what `kind` says.
class Thrower final : public Detector {
 public:
  Thrower(int from, int until, bool std_exception) : from_(from), until_(until), std_(std_exception) {}
  void on_video(const VideoFrame&, ObservationSink&) override {
    ++calls;
    if (calls < from_ || calls > until_) return;
    if (std_) throw std::runtime_error("bad picture");
    throw 42;
  }
  nlohmann::json summary() const override { throw 7; }
  int calls = 0;

 private:
  int from_, until_;
  bool std_;
};

std::vector<nlohmann::json> run_file(int& calls, int from, int until, bool std_exception,
                                     Dispatcher::Mode mode, std::uint64_t* errors, DetectorState* state) {
  Lines lines;
  EventEngine engine("s", lines);
  engine.wall_time = [] { return std::string("-"); };
  engine.add_detector("dark", {0.2, 0.0, "minor"}, {"dark"}, {});
  auto t = std::make_unique<Thrower>(from, until, std_exception);
  // The dispatcher owns the detector and destroys it on return: its call
  // count is read while it lives.
  const Thrower* thrower = t.get();
  std::vector<DetectorSlot> slots;
  slots.push_back({"dark", kVideo, std::make_unique<Dark>()});
  slots.push_back({"thrower", kVideo, std::move(t)});
  DispatchLimits limits;
  limits.max_failures = 5;
  Dispatcher d(std::move(slots), engine, mode, 2, 1000, limits);
  for (int i = 0; i < 100; ++i) d.video(picture(i, i >= 25 && i < 50 ? 16 : 120));
  d.finish(4.0);
  EXPECT_TRUE(d.summaries().is_object());  // summary() threw 7
  *errors = d.stats(1).errors.load();
  *state = d.stats(1).state.load();
  EXPECT_EQ(d.stats(0).processed.load(), 100u + 1);
  EXPECT_EQ(d.report(1)["state"], detector_state_name(*state));
  calls = thrower->calls;
  return lines.all;
}

TEST(DetectorFailures, OneThatThrowsAnythingIsDisabledAfterTheBoundWithAnEventTheSameOnEveryRun) {
  for (bool std_exception : {false, true}) {
    int calls = 0;
    std::uint64_t errors = 0;
    DetectorState state{};
    auto first = run_file(calls, 10, 1000, std_exception, Dispatcher::Mode::Lossless, &errors, &state);
    EXPECT_EQ(calls, 14) << "called no more after 5 failures in a row";
    EXPECT_EQ(errors, 5u + 1);  // and summary()
    EXPECT_EQ(state, DetectorState::Disabled);
    std::vector<nlohmann::json> failed;
    for (const auto& e : first)
      if (e["type"] == "detector_failed") failed.push_back(e);
    ASSERT_EQ(failed.size(), 2u);
    EXPECT_EQ(failed[0]["kind"], "defect.start");
    EXPECT_EQ(failed[0]["detector"], "thrower");
    EXPECT_EQ(failed[0]["severity"], "major");
    EXPECT_DOUBLE_EQ(failed[0]["media_time"].get<double>(), 13 * 0.04);  // the 14th picture
    EXPECT_EQ(failed[0]["details"]["failures"], 5);
    EXPECT_EQ(failed[0]["details"]["call"], "on_video");
    EXPECT_EQ(failed[0]["details"]["error"],
              std_exception ? "bad picture" : "an exception that is not a std::exception");
    EXPECT_DOUBLE_EQ(failed[1]["media_time"].get<double>(), 4.0);
    // The other detector is untouched: dark 1-2 s.
    int dark = 0;
    for (const auto& e : first) dark += e["type"] == "dark";
    EXPECT_EQ(dark, 2);
    auto second = run_file(calls, 10, 1000, std_exception, Dispatcher::Mode::Lossless, &errors, &state);
    EXPECT_EQ(first, second);
  }
}

TEST(DetectorFailures, AFailureCostsThatPictureOnlyAndASuccessEndsTheRun) {
  for (auto mode : {Dispatcher::Mode::Lossless, Dispatcher::Mode::DropWhenBehind}) {
    int calls = 0;
    std::uint64_t errors = 0;
    DetectorState state{};
    // Four failures in a row (below the bound of 5), twice.
    auto events = run_file(calls, 10, 13, false, mode, &errors, &state);
    EXPECT_EQ(calls, 100);
    EXPECT_EQ(errors, 4u + 1);
    EXPECT_EQ(state, DetectorState::Ok);
    for (const auto& e : events) EXPECT_NE(e["type"], "detector_failed") << e.dump();
  }
}

}  // namespace
}  // namespace avmon
