// The analysis luma's box kernels: every SIMD kernel this CPU has must give
// the reference box average bit for bit, at the sizes broadcast uses and at
// awkward ones (odd widths and heights, padded strides, vector-loop tails),
// and the frame bus must produce exactly that picture.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

#include "pipeline/box_downscale.hpp"
#include "pipeline/frames.hpp"
#include "support/media.hpp"

namespace avmon {
namespace {

struct Plane {
  int width, height, stride;
  std::vector<std::uint8_t> pixels;
};

Plane random_plane(int width, int height, int padding, unsigned seed) {
  Plane p{width, height, width + padding, {}};
  p.pixels.resize(static_cast<size_t>(p.stride) * static_cast<size_t>(height));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& v : p.pixels) v = static_cast<std::uint8_t>(byte(rng));
  return p;
}

std::vector<BoxKernel> kernels_here() {
  std::vector<BoxKernel> k;
  for (BoxKernel c : {BoxKernel::Sse2, BoxKernel::Avx2})
    if (box_kernel_available(c)) k.push_back(c);
  return k;
}

TEST(BoxDownscale, EveryKernelMatchesTheReferenceBitForBit) {
  const auto kernels = kernels_here();
  if (kernels.empty()) GTEST_SKIP() << "no SIMD kernel on this architecture (swscale is used)";
  struct Case { int w, h, factor, padding; };
  const Case cases[] = {{1920, 1080, 4, 64}, {720, 576, 2, 0}, {3840, 2160, 8, 32}, {1918, 1078, 4, 3},
                        {1440, 1080, 4, 0},  {133, 37, 2, 5},  {257, 65, 8, 1},     {61, 9, 4, 0},
                        {8, 8, 8, 0},        {2, 2, 2, 0},       {1280, 720, 3, 0},  {1366, 768, 3, 2},
                        {2560, 1440, 6, 0},  {1000, 50, 5, 9},  {2048, 858, 5, 0},  {100, 100, 7, 0},
                        {64, 96, 32, 0}};
  unsigned seed = 1;
  for (const Case& c : cases) {
    const Plane p = random_plane(c.w, c.h, c.padding, seed++);
    const int ow = c.w / c.factor, oh = c.h / c.factor, dst_stride = ow + 7;
    std::vector<std::uint8_t> want(static_cast<size_t>(dst_stride * oh), 0xAA);
    box_downscale_reference(p.pixels.data(), p.stride, c.w, c.h, c.factor, want.data(), dst_stride);
    for (BoxKernel k : kernels) {
      std::vector<std::uint8_t> got(want.size(), 0xAA);
      ASSERT_TRUE(box_downscale(p.pixels.data(), p.stride, c.w, c.h, c.factor, got.data(), dst_stride, k));
      EXPECT_EQ(got, want) << c.w << "x" << c.h << " /" << c.factor << " kernel " << static_cast<int>(k);
    }
  }
}

TEST(BoxDownscale, EveryOtherRowIsExactlyTheFullResultsEvenRows) {
  for (const auto& [w, h, factor] : std::vector<std::tuple<int, int, int>>{
           {1920, 1080, 4}, {1280, 720, 3}, {960, 540, 2}, {3840, 2160, 8}, {1918, 1077, 4}, {2560, 1440, 6}}) {
    const Plane p = random_plane(w, h, 16, static_cast<unsigned>(w + h));
    const int ow = w / factor, oh = h / factor, even_rows = (oh + 1) / 2;
    ASSERT_EQ(box_rows(h, factor, 2 * factor), even_rows) << w << "x" << h;
    std::vector<std::uint8_t> full(static_cast<size_t>(ow * oh)), want(static_cast<size_t>(ow * even_rows));
    box_downscale_reference(p.pixels.data(), p.stride, w, h, factor, full.data(), ow);
    for (int r = 0; r < even_rows; ++r)
      std::copy_n(full.begin() + static_cast<std::ptrdiff_t>(2 * r * ow), ow, want.begin() + static_cast<std::ptrdiff_t>(r * ow));
    for (BoxKernel k : kernels_here()) {
      std::vector<std::uint8_t> got(want.size(), 0xAA);
      ASSERT_TRUE(box_downscale(p.pixels.data(), p.stride, w, h, factor, got.data(), ow, k, 2 * factor));
      EXPECT_EQ(got, want) << w << "x" << h << " /" << factor << " kernel " << static_cast<int>(k);
    }
  }
}

TEST(BoxDownscale, RoundsHalvesUpLikeTheReference) {
  // A box whose exact mean is 0.5 gives 1, one just below gives 0, in every
  // kernel: a systematic half-level bias would move the black thresholds.
  for (BoxKernel k : kernels_here()) {
    std::vector<std::uint8_t> plane(64 * 4, 0);
    for (int i = 0; i < 8; ++i) plane[static_cast<size_t>((i / 4) * 64 + i % 4)] = 1;       // box 0: sum 8
    for (int i = 0; i < 7; ++i) plane[static_cast<size_t>((i / 4) * 64 + 4 + i % 4)] = 1;   // box 1: sum 7
    std::vector<std::uint8_t> got(16, 9);
    ASSERT_TRUE(box_downscale(plane.data(), 64, 64, 4, 4, got.data(), 16, k));
    EXPECT_EQ(got[0], 1);
    EXPECT_EQ(got[1], 0);
    EXPECT_EQ(got[2], 0);
  }
}

TEST(BoxDownscale, FactorsWithoutAKernelAreLeftToTheCaller) {
  std::vector<std::uint8_t> src(66 * 33, 7), dst(2, 0);
  EXPECT_FALSE(box_downscale(src.data(), 66, 66, 33, 33, dst.data(), 2));  // column sums would overflow
  EXPECT_FALSE(box_downscale(src.data(), 66, 66, 33, 1, dst.data(), 2));
  EXPECT_EQ(dst[0], 0);  // nothing written
}

TEST(BoxDownscale, TheFrameBusAnalysisLumaIsTheExactBoxAverage) {
  // A textured 1080p picture: the bus's analysis luma equals the reference
  // box average of the Y plane, whichever path made it.
  const Plane p = random_plane(1920, 1080, 0, 99);
  cv::Mat y(1080, 1920, CV_8UC1, const_cast<std::uint8_t*>(p.pixels.data()));
  auto f = test::make_video_frame(y.clone(), 0);
  const cv::Mat& luma = f->luma();
  ASSERT_EQ(luma.cols, 480);
  ASSERT_EQ(luma.rows, 270);
  std::vector<std::uint8_t> want(480 * 270);
  const AVFrame* av = f->av_frame();
  box_downscale_reference(av->data[0], av->linesize[0], 1920, 1080, 4, want.data(), 480);
  int mismatches = 0, max_diff = 0;
  for (int r = 0; r < 270; ++r)
    for (int c = 0; c < 480; ++c) {
      const int d = std::abs(luma.at<std::uint8_t>(r, c) - want[static_cast<size_t>(r * 480 + c)]);
      mismatches += d != 0;
      max_diff = std::max(max_diff, d);
    }
  if (box_kernel_available(BoxKernel::Sse2))
    EXPECT_EQ(mismatches, 0);
  else
    EXPECT_LE(max_diff, 1);  // swscale's area filter
}

TEST(BoxDownscale, TheBusEvenRowsAreTheAnalysisLumasEvenRowsWhicheverComesFirst) {
  const Plane p = random_plane(1920, 1080, 0, 5);
  const cv::Mat y(1080, 1920, CV_8UC1, const_cast<std::uint8_t*>(p.pixels.data()));
  auto even_first = test::make_video_frame(y.clone(), 0);
  auto luma_first = test::make_video_frame(y.clone(), 0);
  const cv::Mat a = even_first->luma_even_rows().clone();
  const cv::Mat full = luma_first->luma().clone();
  const cv::Mat b = luma_first->luma_even_rows().clone();
  ASSERT_EQ(a.size(), cv::Size(480, 135));
  ASSERT_EQ(b.size(), cv::Size(480, 135));
  for (int r = 0; r < 135; ++r) {
    EXPECT_EQ(cv::norm(a.row(r), full.row(2 * r), cv::NORM_INF), 0) << r;
    EXPECT_EQ(cv::norm(b.row(r), full.row(2 * r), cv::NORM_INF), 0) << r;
  }
}

}  // namespace
}  // namespace avmon
