// Test-pattern detector: SMPTE, EBU and HD colour bars are found, also under
// idents (caption boxes, clocks, logos, moving boxes over up to a fifth of the
// picture); colourful programme (rainbows, stripes in another order, flags,
// kits, moving canonical stripes, natural pictures) is not.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "support/media.hpp"
#include "support/video_detector.hpp"
#include "test_pattern/test_pattern.hpp"

namespace {

using namespace avmon::test;

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

std::unique_ptr<avmon::Detector> make() { return make_detector(avmon::video::describe_test_pattern()); }

// Bars count once they stand still: the picture is shown twice.
bool detects(const cv::Mat& img) {
  auto d = make();
  CollectingSink sink;
  show(*d, sink, 0.0, 2, [&](int) { return img; });
  return sink.active("test_pattern");
}

// An ident: a filled caption box with text, and a clock box.
void ident(cv::Mat& img, cv::Rect box, const std::string& clock) {
  cv::rectangle(img, box, cv::Scalar(40, 20, 20), cv::FILLED);
  cv::putText(img, "AVMON", {box.x + 10, box.y + box.height * 2 / 3}, cv::FONT_HERSHEY_SIMPLEX, 1.5,
              cv::Scalar(255, 255, 255), 3);
  cv::rectangle(img, cv::Rect(kW * 7 / 10, kH / 20, kW / 4, kH / 12), cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(img, clock, {kW * 7 / 10 + 8, kH / 20 + kH / 15}, cv::FONT_HERSHEY_SIMPLEX, 1.0,
              cv::Scalar(255, 255, 255), 2);
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

// Overlays over a fifth of the picture: a box of 40 % x 50 % over the middle
// bars (it hides two of them and parts of two more), with a clock; a caption band
// across the whole width; a logo and a box moving over the bars.
TEST(TestPatternDetector, FindsBarsUnderIdentsCoveringAFifthOfThePicture) {
  cv::Mat a = ebu();
  ident(a, cv::Rect(kW * 3 / 10, kH / 4, kW * 4 / 10, kH / 2), "10:00:00");
  EXPECT_TRUE(detects(a));

  cv::Mat b = hd_bars();
  ident(b, cv::Rect(kW / 4, kH / 12, kW / 2, kH / 4), "10:00:01");
  EXPECT_TRUE(detects(b));

  cv::Mat c = smpte();
  cv::Mat band = c(cv::Rect(0, kH * 2 / 5, kW, kH / 5));
  band *= 0.4;  // a translucent caption band
  cv::putText(c, "AVMON ONE LINE-UP", {kW / 8, kH / 2 + 15}, cv::FONT_HERSHEY_SIMPLEX, 1.8, cv::Scalar(255, 255, 255), 3);
  EXPECT_TRUE(detects(c));

  // A box moving over the bars from one picture to the next, and a logo.
  auto d = make();
  CollectingSink sink;
  show(*d, sink, 0.0, 10, [](int i) {
    cv::Mat m = ebu();
    cv::rectangle(m, cv::Rect(kW / 25, kH / 20, kW / 12, kH / 10), cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(m, cv::Rect(i * kW / 10, kH * 3 / 10, kW / 7, kH / 7), cv::Scalar(0, 0, 0), cv::FILLED);
    return m;
  });
  EXPECT_TRUE(sink.active("test_pattern"));
  EXPECT_DOUBLE_EQ(sink.first_active_time("test_pattern"), 0.0);
}

// One picture of bars is not yet a pattern; the second dates it from the first.
TEST(TestPatternDetector, BarsAreDatedFromTheirFirstPictureOnceTheyStandStill) {
  auto d = make();
  CollectingSink sink;
  d->on_video(*make_video_frame(ebu(), 1.0), sink);
  ASSERT_EQ(sink.seen.size(), 1u);
  EXPECT_FALSE(sink.seen[0].active);
  d->on_video(*make_video_frame(ebu(), 1.04, 1), sink);
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_TRUE(sink.seen[1].active);
  ASSERT_TRUE(sink.seen[1].since_s.has_value());
  EXPECT_DOUBLE_EQ(*sink.seen[1].since_s, 1.0);
  EXPECT_EQ(sink.seen[1].details["colours"], "WYCGMRBK");
  EXPECT_EQ(sink.seen[1].details["bars"], 7);
}

// Stripes in the bars' own colours and order that move (a pan over a set, a
// waving flag) are not a pattern: their slots do not stand still.
TEST(TestPatternDetector, MovingStripesInTheBarsOrderAreNotAPattern) {
  auto d = make();
  CollectingSink sink;
  show(*d, sink, 0.0, 10, [](int i) {
    cv::Mat m(kH, kW, CV_8UC3);
    bars(m, -i * 9, kW - i * 9 + kW / 7, 0, kH, kBars75, 7);
    return m;
  });
  EXPECT_EQ(sink.first_active_time("test_pattern"), -1);
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

  // A flag of three stripes, a two-colour kit.
  cv::Mat flag(kH, kW, CV_8UC3);
  const cv::Scalar italy[] = {{0, 140, 0}, {255, 255, 255}, {40, 40, 220}};
  bars(flag, 0, kW, 0, kH, italy, 3);
  EXPECT_FALSE(detects(flag));
  cv::Mat kit(kH, kW, CV_8UC3);
  const cv::Scalar kit_colours[] = {{30, 30, 210}, {240, 240, 240}, {30, 30, 210}, {240, 240, 240},
                                    {30, 30, 210}, {240, 240, 240}, {30, 30, 210}, {240, 240, 240}};
  bars(kit, 0, kW, 0, kH, kit_colours, 8);
  EXPECT_FALSE(detects(kit));

  // A natural-looking colourful picture.
  const cv::Mat natural = natural_picture(kW, kH, CV_8UC3, 3, 12.0, 0, 255);
  EXPECT_FALSE(detects(natural));
}

TEST(TestPatternDetector, GreyStepsAreNotColourBars) {
  cv::Mat img(kH, kW, CV_8UC3);
  const cv::Scalar grey[] = {{230, 230, 230}, {200, 200, 200}, {170, 170, 170}, {140, 140, 140},
                             {110, 110, 110}, {80, 80, 80},    {50, 50, 50}};
  bars(img, 0, kW, 0, kH, grey, 7);
  EXPECT_FALSE(detects(img));
}

// An ident band across the whole width over 60 % of the bars' band rows, its
// text moving: unmasked, every column's median is the band's; with the band's
// area in exclude_regions, the bars are read from the rows left.
TEST(TestPatternDetector, BarsUnderAFullWidthIdentInAnExcludedAreaAreFound) {
  auto masked = make_detector(avmon::video::describe_test_pattern(),
                              {{"exclude_regions", std::vector<avmon::Region>{{0.0, 0.1, 1.0, 0.3}}}});
  auto plain = make();
  CollectingSink masked_sink, plain_sink;
  const auto picture = [](int i) {
    cv::Mat img = smpte();
    cv::rectangle(img, cv::Rect(0, kH / 10, kW, kH * 3 / 10), cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(img, "NEWS 24", {i * kW / 30, kH / 4}, cv::FONT_HERSHEY_SIMPLEX, 1.5, cv::Scalar(255, 255, 255), 3);
    return img;
  };
  show(*masked, masked_sink, 0.0, 25, picture);
  show(*plain, plain_sink, 0.0, 25, picture);
  ASSERT_EQ(masked_sink.seen.size(), 25u);
  for (size_t i = 1; i < 25; ++i) EXPECT_TRUE(masked_sink.seen[i].active) << i;
  EXPECT_DOUBLE_EQ(masked_sink.first_active_time("test_pattern"), 0.0);
  EXPECT_EQ(plain_sink.first_active_time("test_pattern"), -1);
}

TEST(TestPatternDetector, SuppressesFreezeBlackAndSlate) {
  auto info = avmon::video::describe_test_pattern();
  EXPECT_EQ(info.suppresses, (std::vector<std::string>{"freeze", "black", "slate"}));
  EXPECT_EQ(info.media, avmon::kVideo);
}

}  // namespace

// Without exclusion regions the column medians are taken sixteen columns at a
// time (SSE2); a region at the top-left pixel, which no test reads, sends
// every column through the scalar nth_element path. The verdicts must agree.
TEST(BarsAnalyser, VectorAndScalarColumnMediansAgree) {
  cv::RNG rng(11);
  for (int width : {480, 443, 130})
    for (int trial = 0; trial < 12; ++trial) {
      cv::Mat img(kH, kW, CV_8UC3);
      if (trial % 3 == 0) img = smpte();
      if (trial % 3 == 1) img = ebu();
      if (trial % 3 == 2) img = hd_bars();
      cv::Mat luma;
      cv::cvtColor(img, luma, cv::COLOR_BGR2GRAY);
      cv::resize(luma, luma, cv::Size(width, 135), 0, 0, cv::INTER_AREA);
      // Noise of every size: some columns stay within the tolerance, some do not.
      cv::Mat noise(luma.size(), CV_8U);
      rng.fill(noise, cv::RNG::UNIFORM, 0, 2 * trial + 1);
      luma += noise;
      avmon::video::BarsParams p;
      p.column_tolerance = trial % 2 ? 6.0 : 2.5;
      avmon::video::BarsAnalyser vec(p), scalar(p);
      scalar.set_masked({cv::Rect(0, 0, 1, 1)});
      const cv::Mat no_colour;
      const auto bgr = [&no_colour]() -> const cv::Mat& { return no_colour; };
      const avmon::video::BarsVerdict a = vec.analyse(luma, bgr), b = scalar.analyse(luma, bgr);
      EXPECT_GT(a.constant_columns, 0) << width << " " << trial;
      EXPECT_EQ(a.constant_columns, b.constant_columns) << width << " " << trial;
      EXPECT_EQ(a.candidates, b.candidates) << width << " " << trial;
    }
}
