// Slate detector on synthetic sequences: still graphic cards (plain or
// gradient background with text; a running clock, a small spinner or a
// ticker on them) are slates from their first picture; a frozen camera-like
// picture, black with a logo, moving flat-colour animation and a cut to
// another card are not (or start again).
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "black/black.hpp"
#include "slate/slate.hpp"
#include "support/media.hpp"
#include "support/video_detector.hpp"
#include "test_pattern/test_pattern.hpp"

namespace {

using namespace avmon::test;

constexpr int kW = 960, kH = 540;

std::unique_ptr<avmon::Detector> make() { return make_detector(avmon::video::describe_slate()); }

cv::Mat card(const std::string& line, bool gradient = false) {
  cv::Mat img(kH, kW, CV_8UC3, cv::Scalar(110, 40, 20));
  if (gradient)
    for (int y = 0; y < kH; ++y) img.row(y).setTo(cv::Scalar(40 + y * 120 / kH, 40, 160 - y * 120 / kH));
  cv::putText(img, line, {kW / 10, kH / 2}, cv::FONT_HERSHEY_DUPLEX, 2.0, cv::Scalar(255, 255, 255), 3);
  cv::putText(img, "avmon one", {kW / 3, kH * 2 / 3}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(220, 220, 220), 2);
  return img;
}

// A textured picture like a camera's (what a frozen programme shows).
cv::Mat camera_picture() { return natural_picture(kW, kH, CV_8UC3, 5, 2.0, 10, 240); }

void clock(cv::Mat& img, int second) {
  cv::rectangle(img, cv::Rect(kW * 7 / 10, kH / 20, kW / 4, kH / 12), cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(img, "10:00:" + std::to_string(10 + second), {kW * 7 / 10 + 8, kH / 20 + kH / 15},
              cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(255, 255, 255), 2);
}

TEST(SlateDetector, AStillCardIsASlateFromItsFirstPicture) {
  auto d = make();
  CollectingSink sink;
  const cv::Mat c = card("WE'LL BE RIGHT BACK");
  show(*d, sink, 2.0, 50, [&](int) { return c; });
  EXPECT_TRUE(sink.active("slate"));
  EXPECT_DOUBLE_EQ(sink.first_active_time("slate"), 2.0);
  // Not reported before the hold has lasted a second (programme holds
  // pictures for fractions of one).
  for (const auto& o : sink.seen) {
    if (o.media_time_s < 2.0 + 0.96) {
      EXPECT_FALSE(o.active) << o.media_time_s;
    }
  }
  EXPECT_GT(sink.seen.back().details["flat_fraction"].get<double>(), 0.7);
}

TEST(SlateDetector, AClockSpinnerOrTickerOnTheCardKeepsItASlate) {
  const cv::Mat base = card("TECHNICAL FAULT", true);
  auto d = make();
  CollectingSink sink;
  show(*d, sink, 0.0, 100, [&](int i) {
    cv::Mat m = base.clone();
    clock(m, i / 25);
    // A spinner of 24x24 pixels going round, and a ticker crawling.
    cv::Point c(kW / 2 + static_cast<int>(40 * std::cos(i * 0.3)), kH * 3 / 4 + static_cast<int>(40 * std::sin(i * 0.3)));
    cv::rectangle(m, cv::Rect(c.x, c.y, 24, 24), cv::Scalar(255, 255, 255), cv::FILLED);
    cv::putText(m, "results at ten - stay with us", {kW - i * 8, kH - 20}, cv::FONT_HERSHEY_SIMPLEX, 1.0,
                cv::Scalar(255, 255, 255), 2);
    return m;
  });
  EXPECT_TRUE(sink.active("slate"));
  EXPECT_DOUBLE_EQ(sink.first_active_time("slate"), 0.0);
}

TEST(SlateDetector, AFrozenCameraPictureIsNotASlate) {
  auto d = make();
  CollectingSink sink;
  const cv::Mat p = camera_picture();
  show(*d, sink, 0.0, 75, [&](int) { return p; });
  EXPECT_EQ(sink.first_active_time("slate"), -1);
}

TEST(SlateDetector, BlackWithALogoIsNotASlate) {
  auto d = make();
  CollectingSink sink;
  cv::Mat black(kH, kW, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(black, cv::Rect(kW * 85 / 100, kH / 20, kW / 10, kH / 12), cv::Scalar(255, 255, 255), cv::FILLED);
  show(*d, sink, 0.0, 75, [&](int) { return black; });
  EXPECT_EQ(sink.first_active_time("slate"), -1);
}

TEST(SlateDetector, MovingFlatColourAnimationIsNotASlate) {
  auto d = make();
  CollectingSink sink;
  show(*d, sink, 0.0, 75, [&](int i) {
    cv::Mat m(kH, kW, CV_8UC3, cv::Scalar(190, 110, 40));
    cv::rectangle(m, cv::Rect(i * 12 % kW, kH / 5, 200, 300), cv::Scalar(0, 220, 220), cv::FILLED);
    cv::rectangle(m, cv::Rect(kW - i * 9 % kW, kH / 2, 240, 160), cv::Scalar(0, 0, 220), cv::FILLED);
    cv::circle(m, {kW / 2, (i * 7) % kH}, 90, cv::Scalar(0, 200, 0), cv::FILLED);
    return m;
  });
  EXPECT_EQ(sink.first_active_time("slate"), -1);
}

// A card with an animated panel over a quarter of it (a looping weather
// map): the panel moves more than max_moving_fraction, so the card is not
// still; with the panel's area in exclude_regions it is a slate from its
// first picture.
TEST(SlateDetector, ACardWithAnAnimatedPanelIsASlateWhenThePanelIsExcluded) {
  auto masked = make_detector(avmon::video::describe_slate(),
                              {{"exclude_regions", std::vector<avmon::Region>{{0.5, 0.5, 0.5, 0.5}}}});
  auto plain = make();
  CollectingSink masked_sink, plain_sink;
  const cv::Mat base = card("WEATHER AT TEN");
  const auto picture = [&](int i) {
    cv::Mat m = base.clone();
    cv::Mat panel = m(cv::Rect(kW / 2, kH / 2, kW / 2, kH / 2));
    panel.setTo(cv::Scalar(60, 60 + (i * 20) % 160, 60));  // its colours cycle
    cv::circle(panel, {(i * 23) % (kW / 2), kH / 4}, 70, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::circle(panel, {kW / 2 - (i * 17) % (kW / 2), kH / 6}, 50, cv::Scalar(200, 200, 200), cv::FILLED);
    return m;
  };
  show(*masked, masked_sink, 1.0, 50, picture);
  show(*plain, plain_sink, 1.0, 50, picture);
  EXPECT_TRUE(masked_sink.active("slate"));
  EXPECT_DOUBLE_EQ(masked_sink.first_active_time("slate"), 1.0);
  EXPECT_EQ(plain_sink.first_active_time("slate"), -1);
}

// A cut from one card to another starts a new hold: its slate is dated from
// the cut (the engine sees one condition going on, from the first card).
TEST(SlateDetector, ACutToAnotherCardStartsANewHold) {
  auto d = make();
  CollectingSink sink;
  std::uint64_t index = 0;
  const cv::Mat a = card("WE'LL BE RIGHT BACK"), b = card("NEXT: THE NEWS", true);
  show(*d, sink, 0.0, 50, [&](int) { return a; }, index);
  show(*d, sink, 2.0, 50, [&](int) { return b; }, index);
  EXPECT_TRUE(sink.active("slate"));
  ASSERT_TRUE(sink.seen.back().since_s.has_value());
  EXPECT_DOUBLE_EQ(*sink.seen.back().since_s, 2.0);
}

// One alarm per incident: a slate is not also a freeze; bars and black are
// not also a slate.
TEST(SlateDetector, SuppressionsAndDefaults) {
  const auto slate = avmon::video::describe_slate();
  EXPECT_EQ(slate.suppresses, (std::vector<std::string>{"freeze"}));
  EXPECT_EQ(slate.min_duration_s, 10.0);
  EXPECT_EQ(slate.pictures, avmon::PictureNeed::Reference);
  const auto tp = avmon::video::describe_test_pattern().suppresses;
  EXPECT_NE(std::find(tp.begin(), tp.end(), "slate"), tp.end());
  const auto black = avmon::video::describe_black().suppresses;
  EXPECT_NE(std::find(black.begin(), black.end(), "slate"), black.end());
}

}  // namespace
