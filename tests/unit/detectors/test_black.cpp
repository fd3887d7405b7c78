// Black detector on synthetic pictures through the real frame bus: black with
// a logo or caption is black; dark scenes and large content are not.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "black/black.hpp"
#include "support/media.hpp"

namespace {

using avmon::Options;
using avmon::Region;
using avmon::test::CollectingSink;
using avmon::test::make_video_frame;

constexpr int kW = 640, kH = 360;  // analysed at 480x270

std::unique_ptr<avmon::Detector> make(std::vector<Region> exclude = {}) {
  auto info = avmon::video::describe_black();
  Options o = avmon::default_options(info.options);
  o.set("exclude_regions", std::move(exclude));
  return info.create(o);
}

bool is_black(const cv::Mat& img, std::vector<Region> exclude = {}) {
  auto d = make(std::move(exclude));
  CollectingSink sink;
  d->on_video(*make_video_frame(img, 0.0), sink);
  EXPECT_EQ(sink.seen.size(), 1u);
  return sink.active("black");
}

cv::Mat black_with_noise(double sigma, int seed = 1) {
  cv::Mat noise(kH, kW, CV_32F);
  cv::RNG rng(seed);
  rng.fill(noise, cv::RNG::NORMAL, 16.0, sigma);
  cv::Mat img;
  noise.convertTo(img, CV_8U);
  return img;
}

// A textured bright patch (a station logo) of `area` fraction of the picture.
void draw_logo(cv::Mat& img, double area, cv::Point at) {
  const int side_w = static_cast<int>(std::sqrt(area * kW * kH * 16.0 / 9.0));
  const int side_h = side_w * 9 / 16;
  cv::Mat roi = img(cv::Rect(at.x, at.y, side_w, side_h));
  for (int y = 0; y < roi.rows; ++y)
    for (int x = 0; x < roi.cols; ++x) roi.at<uchar>(y, x) = static_cast<uchar>(((x / 6 + y / 6) % 2) ? 235 : 60);
}

// A dark scene: smooth illumination falling off from a lamp, dim shapes, sensor noise.
cv::Mat dark_scene(double mean_target, int seed) {
  cv::Mat f(kH, kW, CV_32F);
  cv::RNG rng(seed);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const double dx = (x - kW * 0.3) / kW, dy = (y - kH * 0.4) / kH;
      f.at<float>(y, x) = static_cast<float>(std::exp(-(dx * dx + dy * dy) * 6.0));
    }
  for (int i = 0; i < 12; ++i) {  // furniture, a window frame, a figure
    cv::rectangle(f, cv::Rect(rng.uniform(0, kW - 80), rng.uniform(0, kH - 80), rng.uniform(20, 120), rng.uniform(20, 120)),
                  cv::Scalar(rng.uniform(0.0, 1.2)), cv::FILLED);
  }
  cv::GaussianBlur(f, f, cv::Size(0, 0), 2.0);
  double mean = cv::mean(f)[0];
  cv::Mat noise(kH, kW, CV_32F);
  rng.fill(noise, cv::RNG::NORMAL, 0.0, 1.0);
  cv::Mat img;
  cv::Mat scaled = 16.0 + f * ((mean_target - 16.0) / mean) + noise;
  scaled.convertTo(img, CV_8U);
  return img;
}

TEST(BlackDetector, PlainBlackWithNoiseIsBlack) {
  EXPECT_TRUE(is_black(cv::Mat(kH, kW, CV_8U, cv::Scalar(16))));
  EXPECT_TRUE(is_black(black_with_noise(2.5)));
}

TEST(BlackDetector, LogoOnBlackIsStillBlack) {
  cv::Mat img = black_with_noise(1.5);
  draw_logo(img, 0.05, {kW - 150, 20});
  EXPECT_TRUE(is_black(img));
}

TEST(BlackDetector, CaptionOnBlackIsStillBlack) {
  cv::Mat img = black_with_noise(1.0);
  cv::putText(img, "PROGRAMME WILL RESUME SHORTLY", {60, 300}, cv::FONT_HERSHEY_SIMPLEX, 1.0, cv::Scalar(235), 2);
  EXPECT_TRUE(is_black(img));
}

TEST(BlackDetector, DarkScenesAreNotBlack) {
  for (double mean : {18.0, 20.0, 22.0, 25.0})
    for (int seed : {1, 2, 3}) EXPECT_FALSE(is_black(dark_scene(mean, seed))) << "mean " << mean << " seed " << seed;
}

TEST(BlackDetector, NightSkyWithLitStreetIsNotBlack) {
  // Upper half nearly black sky, lower third a dim lit street with structure.
  cv::Mat img = black_with_noise(1.0);
  cv::Mat street = img(cv::Rect(0, kH * 2 / 3, kW, kH / 3));
  for (int y = 0; y < street.rows; ++y)
    for (int x = 0; x < street.cols; ++x) street.at<uchar>(y, x) = static_cast<uchar>(20 + (x * 7 / 13 + y) % 24);
  EXPECT_FALSE(is_black(img));
}

TEST(BlackDetector, TooMuchContentIsNotBlack) {
  cv::Mat img = black_with_noise(1.0);
  draw_logo(img, 0.2, {100, 80});
  EXPECT_FALSE(is_black(img));
}

TEST(BlackDetector, GreyIsNotBlack) {
  EXPECT_FALSE(is_black(cv::Mat(kH, kW, CV_8U, cv::Scalar(60))));
  EXPECT_FALSE(is_black(cv::Mat(kH, kW, CV_8U, cv::Scalar(128))));
}

TEST(BlackDetector, ExcludedRegionIsIgnored) {
  cv::Mat img = black_with_noise(1.0);
  cv::rectangle(img, cv::Rect(0, 0, kW / 2, kH / 2), cv::Scalar(200), cv::FILLED);  // 25%: a PiP box
  EXPECT_FALSE(is_black(img));
  EXPECT_TRUE(is_black(img, {Region{0, 0, 0.5, 0.5}}));
}

TEST(BlackDetector, ReportsEveryPictureAndExactInterval) {
  auto d = make();
  CollectingSink sink;
  const cv::Mat programme = dark_scene(60, 7), black = black_with_noise(1.0);
  for (int i = 0; i < 100; ++i) {
    const bool in_black = i >= 25 && i < 60;
    d->on_video(*make_video_frame(in_black ? black : programme, i * 0.04, static_cast<std::uint64_t>(i)), sink);
  }
  ASSERT_EQ(sink.seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sink.seen[static_cast<size_t>(i)].active, i >= 25 && i < 60) << i;
  EXPECT_DOUBLE_EQ(sink.first_active_time("black"), 1.0);
  EXPECT_TRUE(sink.seen[30].details.contains("black_fraction"));
}

TEST(BlackDetector, DescribesItself) {
  auto info = avmon::video::describe_black();
  EXPECT_EQ(info.name, "black");
  EXPECT_EQ(info.media, avmon::kVideo);
  EXPECT_EQ(info.suppresses, (std::vector<std::string>{"freeze", "slate"}));
  EXPECT_GE(info.min_duration_s, 0.5);
  EXPECT_LE(info.min_duration_s, 1.0);
}

}  // namespace
