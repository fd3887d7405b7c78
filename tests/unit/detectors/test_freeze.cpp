// Freeze detector on synthetic sequences: held pictures (with coding noise)
// freeze; duplicated frames, small motion and live noise do not.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "freeze/freeze.hpp"
#include "support/media.hpp"

namespace avmon::video {
DetectorInfo describe_freeze();
}

namespace {

using avmon::test::CollectingSink;
using avmon::test::make_video_frame;

constexpr int kW = 480, kH = 270;
constexpr double kDt = 0.04;

std::unique_ptr<avmon::Detector> make(std::vector<avmon::Region> exclude = {}) {
  auto info = avmon::video::describe_freeze();
  avmon::Options o = avmon::default_options(info.options);
  o.set("exclude_regions", std::move(exclude));
  return info.create(o);
}

// A textured scene; `shift` pans it horizontally.
cv::Mat scene(int seed, int shift = 0) {
  cv::Mat f(kH, kW + 64, CV_8U);
  cv::RNG rng(seed);
  rng.fill(f, cv::RNG::UNIFORM, 30, 220);
  cv::GaussianBlur(f, f, cv::Size(0, 0), 3.0);
  cv::normalize(f, f, 20, 230, cv::NORM_MINMAX);
  return f(cv::Rect(shift % 64, 0, kW, kH)).clone();
}

cv::Mat add_noise(const cv::Mat& img, double sigma, int seed) {
  cv::Mat n(img.size(), CV_16S);
  cv::RNG rng(seed);
  rng.fill(n, cv::RNG::NORMAL, 0, sigma);
  cv::Mat out;
  cv::Mat wide;
  img.convertTo(wide, CV_16S);
  wide += n;
  wide.convertTo(out, CV_8U);
  return out;
}

// Coding noise of a re-encoded held picture: small blocky errors, stronger on
// "I pictures" every 12th frame, none on skipped P pictures.
cv::Mat coded(const cv::Mat& img, int i) {
  if (i % 12 != 0) return img;
  cv::Mat out = img.clone();
  cv::RNG rng(i);
  for (int by = 0; by < kH / 8; ++by)
    for (int bx = 0; bx < kW / 8; ++bx) {
      const int dc = rng.uniform(-2, 3);
      out(cv::Rect(bx * 8, by * 8, 8, 8)) += cv::Scalar(dc > 0 ? dc : 0);
      out(cv::Rect(bx * 8, by * 8, 8, 8)) -= cv::Scalar(dc < 0 ? -dc : 0);
    }
  return out;
}

struct FreezeRun {
  CollectingSink sink;
  std::unique_ptr<avmon::Detector> d;
  explicit FreezeRun(std::vector<avmon::Region> exclude = {}) : d(make(std::move(exclude))) {}
  void feed(const cv::Mat& img, int i) {
    d->on_video(*make_video_frame(img, i * kDt, static_cast<std::uint64_t>(i)), sink);
  }
  bool ever_active() const {
    for (const auto& o : sink.seen)
      if (o.active) return true;
    return false;
  }
};

TEST(FreezeDetector, HeldPictureWithCodingNoiseFreezesFromItsFirstPicture) {
  FreezeRun r;
  // Moving programme 0..1.96 s, held 2.0..5.96 s, moving again from 6.0 s.
  for (int i = 0; i < 200; ++i) {
    cv::Mat img = i < 50 ? scene(1, i) : i < 150 ? coded(scene(1, 50), i) : scene(1, i);
    r.feed(img, i);
  }
  EXPECT_NEAR(r.sink.first_active_time("freeze"), 2.0, 1e-9);
  // Reported active once the hold outlasts frame repeats, up to the last held picture.
  for (int i = 0; i < 200; ++i) {
    const auto& o = r.sink.seen[static_cast<size_t>(i)];
    const bool expect = i >= 50 + 25 && i < 150;
    EXPECT_EQ(o.active, expect) << i;
    if (o.active) {
      EXPECT_NEAR(*o.since_s, 2.0, 1e-9) << i;
      EXPECT_TRUE(o.details.contains("held_s"));
    }
  }
}

TEST(FreezeDetector, FrameRateConversionDuplicatesAreNotAFreeze) {
  FreezeRun r;
  // 15 -> 25 fps: each source picture shown once or twice (pattern 2,2,1).
  int src = 0;
  for (int i = 0; i < 150; ++i) {
    r.feed(scene(2, src), i);
    if (i % 5 == 1 || i % 5 == 3 || i % 5 == 4) ++src;
  }
  EXPECT_FALSE(r.ever_active());
}

TEST(FreezeDetector, StaticShotWithSmallMotionIsNotAFreeze) {
  FreezeRun r;
  const cv::Mat background = scene(3);
  for (int i = 0; i < 150; ++i) {
    cv::Mat img = background.clone();
    // A person far away: a small figure swaying by a few pixels.
    const int x = 200 + static_cast<int>(3 * std::sin(i * 0.3));
    cv::rectangle(img, cv::Rect(x, 120, 10, 28), cv::Scalar(40), cv::FILLED);
    cv::circle(img, {x + 5, 114}, 5, cv::Scalar(200), cv::FILLED);
    r.feed(img, i);
  }
  EXPECT_FALSE(r.ever_active());
}

TEST(FreezeDetector, StaticShotWithLiveSensorNoiseIsNotAFreeze) {
  FreezeRun r;
  const cv::Mat still = scene(4);
  for (int i = 0; i < 150; ++i) r.feed(add_noise(still, 3.0, i + 1), i);
  EXPECT_FALSE(r.ever_active());
}

TEST(FreezeDetector, FlashOnStaticPictureIsChange) {
  FreezeRun r;
  const cv::Mat grey(kH, kW, CV_8U, cv::Scalar(60)), white(kH, kW, CV_8U, cv::Scalar(235));
  for (int i = 0; i < 150; ++i) r.feed(i % 25 == 0 ? white : grey, i);  // a flash every second
  EXPECT_FALSE(r.ever_active());
}

TEST(FreezeDetector, OnePictureCodingTransientDoesNotBreakTheHold) {
  FreezeRun r;
  const cv::Mat still = scene(6);
  for (int i = 0; i < 100; ++i) {
    cv::Mat img = still.clone();
    // A B picture predicted across the start of the hold: a few blocks off by
    // ~12 levels on one picture, then back.
    if (i == 30) img(cv::Rect(96, 96, 24, 16)) += cv::Scalar(12);
    r.feed(img, i);
  }
  for (int i = 25; i < 100; ++i) EXPECT_TRUE(r.sink.seen[static_cast<size_t>(i)].active) << i;
  EXPECT_NEAR(r.sink.first_active_time("freeze"), 0.0, 1e-9);
}

TEST(FreezeDetector, WeakChangeThatStaysEndsTheHoldWhereItBegan) {
  FreezeRun r;
  const cv::Mat still = scene(7);
  cv::Mat moved = still.clone();
  moved(cv::Rect(96, 96, 24, 16)) += cv::Scalar(12);  // a small object moved and stayed
  for (int i = 0; i < 100; ++i) r.feed(i < 60 ? still : moved, i);
  const auto& o = r.sink.seen[61];  // known on the second picture, dated at the first
  EXPECT_FALSE(o.active);
  ASSERT_TRUE(o.since_s.has_value());
  EXPECT_NEAR(*o.since_s, 60 * kDt, 1e-9);
}

// A held programme (re-coded every 12th picture, from a clean first one) under
// a running clock (top right, changes every picture) and a ticker crawling
// along the bottom.
cv::Mat held_with_clock_and_ticker(const cv::Mat& held, int i) {
  cv::Mat img = coded(held, i + 6);
  cv::rectangle(img, cv::Rect(360, 8, 112, 24), cv::Scalar(16), cv::FILLED);
  const std::string clock = "10:00:" + std::to_string(10 + i / 25) + ":" + std::to_string(10 + i % 25);
  cv::putText(img, clock, {364, 26}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(235), 1);
  cv::rectangle(img, cv::Rect(0, 240, kW, 30), cv::Scalar(40), cv::FILLED);
  cv::putText(img, "BREAKING NEWS +++ MARKETS CLOSE HIGHER +++ WEATHER", {kW - 6 * i, 262},
              cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(235), 1);
  return img;
}

TEST(FreezeDetector, HeldPictureUnderAClockAndATickerFreezesWhenTheyAreExcluded) {
  const cv::Mat held = scene(9);
  // Clock: pixels 360..472 x 8..32 of 480x270; ticker: the bottom 30 rows.
  const std::vector<avmon::Region> regions = {{0.74, 0.02, 0.25, 0.11}, {0.0, 0.88, 1.0, 0.12}};
  FreezeRun masked(regions), plain;
  for (int i = 0; i < 100; ++i) {
    const cv::Mat img = held_with_clock_and_ticker(held, i);
    masked.feed(img, i);
    plain.feed(img, i);
  }
  // Held from the first picture; reported once the hold outlasts frame repeats.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(masked.sink.seen[static_cast<size_t>(i)].active, i >= 25) << i;
  EXPECT_NEAR(masked.sink.first_active_time("freeze"), 0.0, 1e-9);
  // Without the regions the clock and the ticker are moving content.
  EXPECT_FALSE(plain.ever_active());
}

TEST(FreezeDetector, MotionOutsideTheExcludedRegionsStillCounts) {
  FreezeRun r({{0.0, 0.88, 1.0, 0.12}});
  for (int i = 0; i < 100; ++i) r.feed(scene(10, i), i);  // a pan
  EXPECT_FALSE(r.ever_active());
}

TEST(FreezeDetector, DiscontinuityForgetsTheHold) {
  FreezeRun r;
  const cv::Mat still = scene(5);
  for (int i = 0; i < 40; ++i) r.feed(still, i);
  EXPECT_TRUE(r.sink.active("freeze"));
  r.d->on_discontinuity(40 * kDt);
  r.feed(still, 60);
  EXPECT_FALSE(r.sink.active("freeze"));
}

}  // namespace
