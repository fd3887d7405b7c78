// Test-pattern detector: SMPTE, EBU and HD colour bars are found; colourful
// programme (rainbows, stripes in another order, natural pictures) is not.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "support/media.hpp"
#include "test_pattern/test_pattern.hpp"

namespace avmon::video {
DetectorInfo describe_test_pattern();
}

namespace {

using avmon::test::CollectingSink;
using avmon::test::make_video_frame;

constexpr int kW = 960, kH = 540;

// 75% bars, BGR, in the canonical order.
const cv::Scalar kBars75[] = {{191, 191, 191}, {0, 191, 191}, {191, 191, 0}, {0, 191, 0},
                              {191, 0, 191},   {0, 0, 191},   {191, 0, 0}};

void bars(cv::Mat& img, int x0, int x1, int y0, int y1, const cv::Scalar* colours, int n) {
  for (int i = 0; i < n; ++i)
    cv::rectangle(img, cv::Rect(x0 + (x1 - x0) * i / n, y0, (x1 - x0) / n + 1, y1 - y0), colours[i], cv::FILLED);
}

cv::Mat smpte() {
  cv::Mat img(kH, kW, CV_8UC3, cv::Scalar(0, 0, 0));
  bars(img, 0, kW, 0, kH * 2 / 3, kBars75, 7);
  const cv::Scalar reverse[] = {{191, 0, 0}, {19, 19, 19}, {191, 0, 191}, {19, 19, 19},
                                {191, 191, 0}, {19, 19, 19}, {191, 191, 191}};
  bars(img, 0, kW, kH * 2 / 3, kH * 3 / 4, reverse, 7);
  cv::rectangle(img, cv::Rect(kW / 6, kH * 3 / 4, kW / 6, kH / 4), cv::Scalar(255, 255, 255), cv::FILLED);
  return img;
}

cv::Mat ebu() {
  cv::Mat img(kH, kW, CV_8UC3);
  const cv::Scalar c[] = {{255, 255, 255}, {0, 191, 191}, {191, 191, 0}, {0, 191, 0},
                          {191, 0, 191},   {0, 0, 191},   {191, 0, 0},   {0, 0, 0}};
  bars(img, 0, kW, 0, kH, c, 8);
  return img;
}

cv::Mat hd_bars() {
  cv::Mat img(kH, kW, CV_8UC3, cv::Scalar(104, 104, 104));  // 40% grey side panels
  bars(img, kW / 8, kW * 7 / 8, 0, kH * 7 / 12, kBars75, 7);
  return img;
}

bool detects(const cv::Mat& img) {
  auto info = avmon::video::describe_test_pattern();
  auto d = info.create(avmon::default_options(info.options));
  CollectingSink sink;
  d->on_video(*make_video_frame(img, 0.0), sink);
  return sink.active("test_pattern");
}

TEST(TestPatternDetector, FindsSmpteEbuAndHdBars) {
  EXPECT_TRUE(detects(smpte()));
  EXPECT_TRUE(detects(ebu()));
  EXPECT_TRUE(detects(hd_bars()));
}

TEST(TestPatternDetector, FindsBarsWithAnIdentCaption) {
  cv::Mat img = smpte();
  cv::rectangle(img, cv::Rect(kW * 2 / 5, kH / 4, kW / 8, kH / 10), cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(img, "BBC", {kW * 2 / 5 + 10, kH / 4 + 40}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(255, 255, 255), 2);
  EXPECT_TRUE(detects(img));
}

TEST(TestPatternDetector, ColourfulProgrammeIsNotAPattern) {
  // A rainbow: constant columns, saturated, but no flat bars.
  cv::Mat hsv(kH, kW, CV_8UC3);
  for (int x = 0; x < kW; ++x) hsv.col(x).setTo(cv::Scalar(x * 180 / kW, 255, 220));
  cv::Mat rainbow;
  cv::cvtColor(hsv, rainbow, cv::COLOR_HSV2BGR);
  EXPECT_FALSE(detects(rainbow));

  // Bar-like stripes in a shuffled order (a set, a flag, a shop front).
  cv::Mat stripes(kH, kW, CV_8UC3);
  const cv::Scalar shuffled[] = {kBars75[3], kBars75[0], kBars75[5], kBars75[1], kBars75[6], kBars75[2], kBars75[4]};
  bars(stripes, 0, kW, 0, kH, shuffled, 7);
  EXPECT_FALSE(detects(stripes));

  // A natural-looking colourful picture.
  cv::Mat natural(kH, kW, CV_8UC3);
  cv::RNG rng(3);
  rng.fill(natural, cv::RNG::UNIFORM, 0, 255);
  cv::GaussianBlur(natural, natural, cv::Size(0, 0), 12.0);
  cv::normalize(natural, natural, 0, 255, cv::NORM_MINMAX);
  EXPECT_FALSE(detects(natural));
}

TEST(TestPatternDetector, GreyStepsAreNotColourBars) {
  cv::Mat img(kH, kW, CV_8UC3);
  const cv::Scalar grey[] = {{230, 230, 230}, {200, 200, 200}, {170, 170, 170}, {140, 140, 140},
                             {110, 110, 110}, {80, 80, 80},    {50, 50, 50}};
  bars(img, 0, kW, 0, kH, grey, 7);
  EXPECT_FALSE(detects(img));
}

TEST(TestPatternDetector, BarsUnderAMovingIdentInAnExcludedAreaAreFound) {
  auto info = avmon::video::describe_test_pattern();
  avmon::Options o = avmon::default_options(info.options);
  o.set("exclude_regions", std::vector<avmon::Region>{{0.0, 0.1, 1.0, 0.2}});
  auto masked = info.create(o);
  auto plain = info.create(avmon::default_options(info.options));
  CollectingSink masked_sink, plain_sink;
  for (int i = 0; i < 25; ++i) {
    // An ident box crossing the top of the bars, a third of the picture wide.
    cv::Mat img = smpte();
    const cv::Rect box(i * (kW * 2 / 3) / 24, kH / 10, kW / 3, kH / 5);
    cv::rectangle(img, box, cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(img, "NEWS 24", {box.x + 20, box.y + 70}, cv::FONT_HERSHEY_SIMPLEX, 1.5, cv::Scalar(255, 255, 255), 3);
    masked->on_video(*make_video_frame(img, i * 0.04, static_cast<std::uint64_t>(i)), masked_sink);
    plain->on_video(*make_video_frame(img, i * 0.04, static_cast<std::uint64_t>(i)), plain_sink);
  }
  ASSERT_EQ(masked_sink.seen.size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_TRUE(masked_sink.seen[i].active) << i;
    EXPECT_FALSE(plain_sink.seen[i].active) << i;  // the box breaks a third of the columns
  }
}

TEST(TestPatternDetector, SuppressesFreezeAndBlack) {
  auto info = avmon::video::describe_test_pattern();
  EXPECT_EQ(info.suppresses, (std::vector<std::string>{"freeze", "black"}));
  EXPECT_EQ(info.media, avmon::kVideo);
}

}  // namespace
