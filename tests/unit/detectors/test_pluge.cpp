// Test-pattern detector, PLUGE: a black field with flat stripes just below and
// above black (BT.814 style, the PLUGE of RP 219 bars on its own, the classic
// three-bar pulse), with a white patch or grey steps, also under a moving
// ident box, is a test pattern; dark programme (a black picture with a logo,
// a fade, credits, a night scene, a letterboxed dark film, flat animation) is
// not.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "support/media.hpp"
#include "support/video_detector.hpp"
#include "test_pattern/test_pattern.hpp"

namespace {

using namespace avmon::test;

constexpr int kW = 960, kH = 540;
// Limited-range luma: black 16; -2 %, +2 % and +4 % of the 219-level range.
constexpr int kBlack = 16, kMinus2 = 12, kPlus2 = 20, kPlus4 = 25;

void stripe(cv::Mat& img, double x0, double x1, double y0, double y1, int level) {
  cv::rectangle(img, cv::Rect(static_cast<int>(x0 * kW), static_cast<int>(y0 * kH), static_cast<int>((x1 - x0) * kW),
                              static_cast<int>((y1 - y0) * kH)),
                cv::Scalar(level), cv::FILLED);
}

// BT.814 style: -2 % and +2 % stripes and a white patch on black (grey
// image: luma as coded, neutral chroma).
cv::Mat bt814() {
  cv::Mat img(kH, kW, CV_8UC1, cv::Scalar(kBlack));
  stripe(img, 0.20, 0.25, 0.15, 0.85, kMinus2);
  stripe(img, 0.30, 0.35, 0.15, 0.85, kPlus2);
  stripe(img, 0.60, 0.75, 0.35, 0.65, 235);
  return img;
}

// RP 219's PLUGE on its own: -2, +2 and +4 % stripes on black, and stepped
// grey patches.
cv::Mat stepped() {
  cv::Mat img(kH, kW, CV_8UC1, cv::Scalar(kBlack));
  stripe(img, 0.10, 0.14, 0.1, 0.9, kMinus2);
  stripe(img, 0.18, 0.22, 0.1, 0.9, kPlus2);
  stripe(img, 0.26, 0.30, 0.1, 0.9, kPlus4);
  const int steps[] = {235, 180, 126, 72, 40};
  for (int i = 0; i < 5; ++i) stripe(img, 0.7, 0.85, 0.1 + i * 0.16, 0.26 + i * 0.16, steps[i]);
  return img;
}

// The classic pulse: super-black, black and near-black bars side by side (no
// field between them but the black bar), and a mid-grey and a white patch.
cv::Mat three_bars() {
  cv::Mat img(kH, kW, CV_8UC1, cv::Scalar(kBlack));
  stripe(img, 0.40, 0.44, 0.2, 0.8, 7);   // -4 %
  stripe(img, 0.48, 0.52, 0.2, 0.8, 25);  // +4 %
  stripe(img, 0.70, 0.80, 0.2, 0.45, 126);
  stripe(img, 0.70, 0.80, 0.55, 0.8, 235);
  return img;
}

std::unique_ptr<avmon::Detector> make() { return make_detector(avmon::video::describe_test_pattern()); }

// Pictures shown 1 s at 25 fps; whether the last one is a test pattern.
template <class Picture>
bool detects(Picture&& picture, CollectingSink* keep = nullptr) {
  auto d = make();
  CollectingSink sink;
  show(*d, sink, 0.0, 25, picture);
  const bool active = sink.active("test_pattern");
  if (keep) *keep = std::move(sink);
  return active;
}

bool detects_still(const cv::Mat& img) {
  return detects([&](int) { return img; });
}

TEST(Pluge, Bt814StyleRp219StyleAndTheClassicPulseAreTestPatterns) {
  CollectingSink sink;
  EXPECT_TRUE(detects([](int) { return stepped(); }, &sink));
  EXPECT_DOUBLE_EQ(sink.first_active_time("test_pattern"), 0.0);
  const auto& d = sink.seen.back().details;
  EXPECT_EQ(d["pattern"], "pluge");
  EXPECT_EQ(d["levels_percent"], (nlohmann::json{-1.8, 1.8, 4.1}));
  EXPECT_EQ(d["black_level"], 16.0);
  EXPECT_TRUE(detects_still(bt814()));
  EXPECT_TRUE(detects_still(three_bars()));
}

// One picture is not yet a pattern; the second dates it from the first.
TEST(Pluge, IsDatedFromItsFirstPictureOnceItStandsStill) {
  auto d = make();
  CollectingSink sink;
  d->on_video(*make_video_frame(bt814(), 2.0), sink);
  d->on_video(*make_video_frame(bt814(), 2.04, 1), sink);
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_FALSE(sink.seen[0].active);
  EXPECT_TRUE(sink.seen[1].active);
  ASSERT_TRUE(sink.seen[1].since_s.has_value());
  EXPECT_DOUBLE_EQ(*sink.seen[1].since_s, 2.0);
}

// An ident box of 40 % x 50 % (a fifth of the picture) with a running clock,
// sliding over the stripes picture by picture, and a logo.
TEST(Pluge, IsFoundUnderAMovingIdentBoxWithAClock) {
  CollectingSink sink;
  EXPECT_TRUE(detects(
      [](int i) {
        cv::Mat img = stepped();
        const cv::Rect box(i * kW / 50, kH / 4, kW * 2 / 5, kH / 2);
        cv::rectangle(img, box, cv::Scalar(60), cv::FILLED);
        cv::putText(img, "10:00:" + std::to_string(10 + i), {box.x + 20, box.y + box.height / 2},
                    cv::FONT_HERSHEY_SIMPLEX, 1.5, cv::Scalar(235), 3);
        cv::rectangle(img, cv::Rect(kW * 9 / 10, kH / 20, kW / 15, kH / 12), cv::Scalar(235), cv::FILLED);
        return img;
      },
      &sink));
  EXPECT_DOUBLE_EQ(sink.first_active_time("test_pattern"), 0.0);
}

TEST(Pluge, BlackLogoFadeAndCreditsAreNot) {
  cv::Mat black(kH, kW, CV_8UC1, cv::Scalar(kBlack));
  EXPECT_FALSE(detects_still(black));
  cv::Mat logo = black.clone();
  cv::rectangle(logo, cv::Rect(800, 40, 120, 80), cv::Scalar(200), cv::FILLED);
  cv::putText(logo, "TV", {820, 100}, cv::FONT_HERSHEY_SIMPLEX, 1.5, cv::Scalar(30), 4);
  EXPECT_FALSE(detects_still(logo));

  // A natural picture fading to black over the second.
  const cv::Mat natural = natural_picture(kW, kH, CV_8UC1, 5, 10.0, 16, 235);
  EXPECT_FALSE(detects([&](int i) {
    cv::Mat f;
    natural.convertTo(f, CV_8UC1, 1.0 - i / 25.0, kBlack * i / 25.0);
    return f;
  }));

  // Rolling white credits, and a dim grey title card at two levels.
  EXPECT_FALSE(detects([&](int i) {
    cv::Mat f = black.clone();
    for (int line = 0; line < 6; ++line)
      cv::putText(f, "Director of Photography  A. N. Other", {200, 100 + line * 80 - i * 4},
                  cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(235), 2);
    return f;
  }));
  cv::Mat title = black.clone();
  cv::putText(title, "THE END", {150, 300}, cv::FONT_HERSHEY_SIMPLEX, 5.0, cv::Scalar(26), 16);
  cv::putText(title, "IIII", {300, 480}, cv::FONT_HERSHEY_SIMPLEX, 4.0, cv::Scalar(21), 14);
  EXPECT_FALSE(detects_still(title));
}

// Dark camera pictures: shadows crushed to black over half the picture, the
// rest dim and noisy; the same picture letterboxed.
TEST(Pluge, ANightSceneAndALetterboxedDarkFilmAreNot) {
  cv::Mat base(kH, kW, CV_32FC1);
  cv::RNG rng(9);
  rng.fill(base, cv::RNG::UNIFORM, 0.0, 1.0);
  cv::GaussianBlur(base, base, cv::Size(0, 0), 25.0);
  cv::normalize(base, base, -14, 14, cv::NORM_MINMAX);
  const auto night = [&](int i) {
    cv::Mat noise(kH, kW, CV_32FC1), f;
    cv::RNG n(100 + static_cast<std::uint64_t>(i));
    n.fill(noise, cv::RNG::NORMAL, 0.0, 1.5);
    cv::Mat level = cv::max(base, 0.0) + kBlack + noise;
    level.convertTo(f, CV_8UC1);
    return f;
  };
  EXPECT_FALSE(detects(night));
  EXPECT_FALSE(detects([&](int i) {
    cv::Mat f = night(i);
    f.rowRange(0, kH / 8).setTo(kBlack);
    f.rowRange(kH * 7 / 8, kH).setTo(kBlack);
    return f;
  }));
  // A still, clean night shot: a lit window and a lamp post on black.
  cv::Mat still = night(0);
  stripe(still, 0.62, 0.66, 0.2, 0.9, 30);
  EXPECT_FALSE(detects_still(still));
}

// Flat animation on black: dark coloured pillars (not grey), and grey pillars
// that move (a pan).
TEST(Pluge, FlatAnimationIsNot) {
  cv::Mat coloured(kH, kW, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(coloured, cv::Rect(kW / 5, kH / 6, kW / 20, kH * 2 / 3), cv::Scalar(40, 10, 0), cv::FILLED);
  cv::rectangle(coloured, cv::Rect(kW * 2 / 5, kH / 6, kW / 20, kH * 2 / 3), cv::Scalar(0, 30, 0), cv::FILLED);
  EXPECT_FALSE(detects_still(coloured));
  EXPECT_FALSE(detects([](int i) {
    cv::Mat f(kH, kW, CV_8UC1, cv::Scalar(kBlack));
    stripe(f, 0.2 + i * 0.01, 0.25 + i * 0.01, 0.1, 0.9, kMinus2);
    stripe(f, 0.3 + i * 0.01, 0.35 + i * 0.01, 0.1, 0.9, kPlus2);
    return f;
  }));
}

TEST(Pluge, CanBeSwitchedOff) {
  auto d = make_detector(avmon::video::describe_test_pattern(), {{"pluge", false}});
  CollectingSink sink;
  show(*d, sink, 0.0, 3, [](int) { return bt814(); });
  EXPECT_EQ(sink.first_active_time("test_pattern"), -1);
}

}  // namespace
