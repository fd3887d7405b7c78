// The dispatcher's defences: a detector that throws anything costs that call
// only, and is disabled after repeated failures.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>

#include "pipeline/dispatcher.hpp"
#include "pipeline/engine.hpp"
#include "support/media.hpp"

namespace avmon {
namespace {

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

std::vector<nlohmann::json> run_file(Thrower*& thrower, int from, int until, bool std_exception,
                                     Dispatcher::Mode mode, std::uint64_t* errors, DetectorState* state) {
  Lines lines;
  EventEngine engine("s", lines);
  engine.wall_time = [] { return std::string("-"); };
  engine.add_detector("dark", {0.2, 0.0, "minor"}, {"dark"}, {});
  auto t = std::make_unique<Thrower>(from, until, std_exception);
  thrower = t.get();
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
  return lines.all;
}

TEST(DetectorFailures, OneThatThrowsAnythingIsDisabledAfterTheBoundWithAnEventTheSameOnEveryRun) {
  for (bool std_exception : {false, true}) {
    Thrower* t = nullptr;
    std::uint64_t errors = 0;
    DetectorState state{};
    auto first = run_file(t, 10, 1000, std_exception, Dispatcher::Mode::Lossless, &errors, &state);
    EXPECT_EQ(t->calls, 14) << "called no more after 5 failures in a row";
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
    auto second = run_file(t, 10, 1000, std_exception, Dispatcher::Mode::Lossless, &errors, &state);
    EXPECT_EQ(first, second);
  }
}

TEST(DetectorFailures, AFailureCostsThatPictureOnlyAndASuccessEndsTheRun) {
  for (auto mode : {Dispatcher::Mode::Lossless, Dispatcher::Mode::DropWhenBehind}) {
    Thrower* t = nullptr;
    std::uint64_t errors = 0;
    DetectorState state{};
    // Four failures in a row (below the bound of 5), twice.
    auto events = run_file(t, 10, 13, false, mode, &errors, &state);
    EXPECT_EQ(t->calls, 100);
    EXPECT_EQ(errors, 4u + 1);
    EXPECT_EQ(state, DetectorState::Ok);
    for (const auto& e : events) EXPECT_NE(e["type"], "detector_failed") << e.dump();
  }
}

}  // namespace
}  // namespace avmon
