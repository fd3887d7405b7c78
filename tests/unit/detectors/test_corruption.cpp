// Corruption detector on synthetic sequences: decoder evidence lasts until a
// clean key picture; concealed/grey macroblocks are found without decoder
// complaint; clean heavy compression and scene cuts are not corruption.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "corruption/corruption.hpp"
#include "support/media.hpp"

namespace avmon::video {
DetectorInfo describe_corruption();
}

namespace {

using avmon::DecodeInfo;
using avmon::test::CollectingSink;
using avmon::test::make_video_frame;
using avmon::video::analyse_grid;
using avmon::video::GridParams;

constexpr int kW = 640, kH = 352;
constexpr double kDt = 0.04;

cv::Mat scene(int seed, int shift = 0) {
  cv::Mat f(kH, kW + 64, CV_8U);
  cv::RNG rng(seed);
  rng.fill(f, cv::RNG::UNIFORM, 20, 230);
  cv::GaussianBlur(f, f, cv::Size(0, 0), 2.5);
  cv::normalize(f, f, 20, 230, cv::NORM_MINMAX);
  // Some sharp natural edges too (on and off the grid alike).
  for (int i = 0; i < 20; ++i)
    cv::rectangle(f, cv::Rect(rng.uniform(0, kW - 60), rng.uniform(0, kH - 60), rng.uniform(10, 60), rng.uniform(10, 60)),
                  cv::Scalar(rng.uniform(20, 230)), cv::FILLED);
  return f(cv::Rect(shift % 64, 0, kW, kH)).clone();
}

// Bitstream damage as the decoder conceals it: runs of macroblocks grey or
// copied from the wrong place.
cv::Mat damaged(const cv::Mat& img, int seed) {
  cv::Mat out = img.clone();
  cv::RNG rng(seed);
  const int mb_row = rng.uniform(2, kH / 16 - 6);
  for (int r = mb_row; r < mb_row + 5; ++r)
    for (int c = 0; c < kW / 16; ++c) {
      cv::Rect mb(c * 16, r * 16, 16, 16);
      if (rng.uniform(0, 2)) out(mb).setTo(cv::Scalar(128));
      else img(cv::Rect((c * 16 + 200) % (kW - 16), (r * 16 + 96) % (kH - 16), 16, 16)).copyTo(out(mb));
    }
  return out;
}

// Clean but heavily compressed: every 8x8 block flattened to its mean.
cv::Mat blocky(const cv::Mat& img) {
  cv::Mat out = img.clone();
  for (int y = 0; y < kH; y += 8)
    for (int x = 0; x < kW; x += 8) out(cv::Rect(x, y, 8, 8)).setTo(cv::mean(img(cv::Rect(x, y, 8, 8))));
  return out;
}

// Concealed macroblocks inside `area` only (on the grid).
cv::Mat damaged_in(const cv::Mat& img, cv::Rect area, int seed) {
  cv::Mat out = img.clone();
  cv::RNG rng(seed);
  for (int y = area.y; y + 16 <= area.y + area.height; y += 16)
    for (int x = area.x; x + 16 <= area.x + area.width; x += 16) {
      cv::Rect mb(x, y, 16, 16);
      if (rng.uniform(0, 2)) out(mb).setTo(cv::Scalar(128));
      else img(cv::Rect((x + 200) % (kW - 16), (y + 96) % (kH - 16), 16, 16)).copyTo(out(mb));
    }
  return out;
}

struct CorruptionRun {
  CollectingSink sink;
  std::unique_ptr<avmon::Detector> d;
  explicit CorruptionRun(std::vector<avmon::Region> exclude = {}) {
    auto info = avmon::video::describe_corruption();
    avmon::Options o = avmon::default_options(info.options);
    o.set("exclude_regions", std::move(exclude));
    d = info.create(o);
  }
  void feed(const cv::Mat& img, int i, DecodeInfo di) {
    d->on_video(*make_video_frame(img, i * kDt, static_cast<std::uint64_t>(i), kDt, di), sink);
  }
  static DecodeInfo clean(int i, int gop = 50) {
    DecodeInfo di;
    di.key_frame = i % gop == 0;
    di.pict_type = di.key_frame ? 'I' : 'P';
    return di;
  }
  bool ever_active() const {
    for (const auto& o : sink.seen)
      if (o.active) return true;
    return false;
  }
};

TEST(CorruptionGrid, DamagedMacroblocksRaiseTheGridScore) {
  const cv::Mat img = scene(1);
  const double clean = analyse_grid(img, GridParams{}).score();
  const double hit = analyse_grid(damaged(img, 3), GridParams{}).score();
  EXPECT_LT(clean, 0.01);
  EXPECT_GT(hit, 0.03);
}

TEST(CorruptionGrid, VectorEdgeTestCountsExactlyWhatTheDefinitionSays) {
  // Random rows with steps of every size, at widths that leave a scalar tail;
  // the count must be the definition's, applied column by column.
  cv::RNG rng(7);
  for (double ratio : {3.0, 2.7, 1.0, 50.0, 2.0, 4.0})
    for (int min_step : {1, 20, 200, 254, 255})
      for (int cols : {16, 61, 1920}) {
        cv::Mat rows(4, cols, CV_8U);
        for (int r = 0; r < 4; ++r)
          for (int c = 0; c < cols; ++c)  // mostly small gradients, some big steps
            rows.at<unsigned char>(r, c) = static_cast<unsigned char>(rng.uniform(0, 4) == 0 ? rng.uniform(0, 256) : 100 + rng.uniform(0, 8));
        GridParams p;
        p.step_ratio = ratio;
        p.min_step = min_step;
        const int ratio_q8 = static_cast<int>(std::lround(ratio * 256));
        int want = 0;
        for (int c = 0; c < cols; ++c) {
          const int a2 = rows.at<unsigned char>(0, c), a1 = rows.at<unsigned char>(1, c);
          const int a0 = rows.at<unsigned char>(2, c), b1 = rows.at<unsigned char>(3, c);
          const int step = std::abs(a0 - a1), m = std::max(std::abs(a1 - a2), std::abs(b1 - a0));
          want += step >= std::max(min_step, 2) && ((m * ratio_q8) >> 8) + 2 <= step;
        }
        EXPECT_EQ(avmon::video::broken_steps_along_row(rows.ptr(0), rows.ptr(1), rows.ptr(2), rows.ptr(3), cols, p), want)
            << "ratio " << ratio << " min_step " << min_step << " cols " << cols;
        if (ratio == 3.0 && min_step == 20 && cols == 1920) {
          EXPECT_GT(want, 10);  // the case is not vacuous
        }
      }
}

TEST(CorruptionGrid, ByteEdgeTestIsExactForEveryStepAndGradient) {
  // Whole ratios 2-4 are tested in bytes with saturating adds: every pair
  // (step, larger neighbouring gradient), around both ends of the range.
  constexpr int kCols = 256 * 256;
  cv::Mat rows(4, kCols, CV_8U);
  for (int step = 0; step < 256; ++step)
    for (int m = 0; m < 256; ++m) {
      const int c = step * 256 + m;
      rows.at<unsigned char>(0, c) = static_cast<unsigned char>(m);     // a2: |a1 - a2| = m
      rows.at<unsigned char>(1, c) = 0;                                 // a1
      rows.at<unsigned char>(2, c) = static_cast<unsigned char>(step);  // a0: the step
      rows.at<unsigned char>(3, c) = static_cast<unsigned char>(step);  // b1: flat below
    }
  for (double ratio : {2.0, 3.0, 4.0, 5.0})
    for (int min_step : {1, 2, 20, 253, 254, 255}) {
      GridParams p;
      p.step_ratio = ratio;
      p.min_step = min_step;
      const int k = static_cast<int>(ratio);
      int want = 0;
      for (int step = 0; step < 256; ++step)
        for (int m = 0; m < 256; ++m) want += step >= std::max(min_step, 2) && k * m + 2 <= step;
      EXPECT_EQ(avmon::video::broken_steps_along_row(rows.ptr(0), rows.ptr(1), rows.ptr(2), rows.ptr(3), kCols, p), want)
          << "ratio " << ratio << " min_step " << min_step;
    }
}

TEST(CorruptionGrid, VectorAndScalarColumnsAgree) {
  // A region over the top rows, which no edge test reads, sends the vertical
  // grid lines through the scalar path (the one for masked pictures); the
  // result must be the vector path's.
  const cv::Mat img = damaged(scene(5), 4);
  for (double ratio : {3.0, 2.7, 2.0})
    for (int phase : {0, 1}) {
      GridParams p;
      p.step_ratio = ratio;
      p.min_step = 12;
      avmon::video::RegionMask top({avmon::Region{0, 0, 1, 1.0 / kH}});
      const avmon::video::GridStats vec = analyse_grid(img, p, phase);
      const avmon::video::GridStats scalar = analyse_grid(img, p, phase, &top);
      EXPECT_GT(vec.on_broken, 0);
      EXPECT_EQ(vec.on_grid, scalar.on_grid);
      EXPECT_EQ(vec.on_broken, scalar.on_broken);
      EXPECT_EQ(vec.off_grid, scalar.off_grid);
      EXPECT_EQ(vec.off_broken, scalar.off_broken);
    }
}

TEST(CorruptionDetector, DecoderErrorLastsUntilTheNextCleanKeyPicture) {
  CorruptionRun r;
  for (int i = 0; i < 150; ++i) {
    DecodeInfo di = CorruptionRun::clean(i);
    if (i == 60) {  // 2.4 s: a damaged slice, concealed by the decoder
      di.corrupt = true;
      di.errors_before = 3;
    }
    r.feed(scene(2, i), i, di);
  }
  for (int i = 0; i < 150; ++i) EXPECT_EQ(r.sink.seen[static_cast<size_t>(i)].active, i >= 60 && i < 100) << i;
  const auto& d = r.sink.seen[70].details;
  EXPECT_EQ(d["decoder_errors"], 3);
  EXPECT_EQ(d["corrupt_frames"], 1);
  EXPECT_EQ(d["evidence"], "decoder");
}

TEST(CorruptionDetector, DamageWithoutDecoderComplaintIsFoundInThePicture) {
  CorruptionRun r;
  for (int i = 0; i < 100; ++i) {
    const cv::Mat base = scene(3, i);
    r.feed(i >= 40 && i < 55 ? damaged(base, i) : base, i, CorruptionRun::clean(i));
  }
  EXPECT_NEAR(r.sink.first_active_time("corruption"), 40 * kDt, 1e-9);
  EXPECT_EQ(r.sink.seen[45].details["evidence"], "picture");
  EXPECT_FALSE(r.sink.active("corruption"));  // ended once clean pictures returned
}

TEST(CorruptionDetector, DamageOnlyInsideAnExcludedRegionIsNotReported) {
  // The bottom-right quarter (320..640 x 176..352) is damaged on 15 pictures.
  const cv::Rect area(320, 176, 320, 176);
  CorruptionRun masked({{0.5, 0.5, 0.5, 0.5}}), plain, elsewhere({{0.0, 0.0, 0.5, 0.5}});
  for (int i = 0; i < 100; ++i) {
    const cv::Mat base = scene(11, i);
    const cv::Mat img = i >= 40 && i < 55 ? damaged_in(base, area, i) : base;
    masked.feed(img, i, CorruptionRun::clean(i));
    plain.feed(img, i, CorruptionRun::clean(i));
    elsewhere.feed(img, i, CorruptionRun::clean(i));
  }
  EXPECT_FALSE(masked.ever_active());
  // The same damage is found when it is not excluded (the case is not vacuous).
  EXPECT_NEAR(plain.sink.first_active_time("corruption"), 40 * kDt, 1e-9);
  EXPECT_NEAR(elsewhere.sink.first_active_time("corruption"), 40 * kDt, 1e-9);
}

TEST(CorruptionGrid, VectorVerticalLinesCountWhatTheColumnByColumnTestCounts) {
  // With no regions the vertical grid lines are tested a vector at a time; a
  // region that lies wholly off the picture masks nothing but keeps the
  // column-by-column test. Random pictures (noise, big steps, damaged
  // macroblocks) at widths that leave columns for the scalar tail.
  cv::RNG rng(11);
  avmon::video::RegionMask off_picture({{1.0, 1.0, 0.1, 0.1}});
  int broken = 0;
  for (int cols : {64, 1000, 1921, 1920})
    for (int phase : {0, 1}) {
      cv::Mat img(96, cols, CV_8U);
      for (int r = 0; r < img.rows; ++r)
        for (int c = 0; c < cols; ++c)
          img.at<unsigned char>(r, c) = static_cast<unsigned char>(rng.uniform(0, 6) == 0 ? rng.uniform(0, 256) : 90 + rng.uniform(0, 8));
      for (int k = 0; k < 6; ++k) {
        const int bx = rng.uniform(0, cols / 16), by = rng.uniform(0, img.rows / 16);
        img(cv::Rect(bx * 16, by * 16, 16, 16)).setTo(rng.uniform(0, 256));
      }
      for (int min_step : {2, 20})
        for (double ratio : {1.0, 3.0}) {
          GridParams p;
          p.min_step = min_step;
          p.step_ratio = ratio;
          const auto vec = analyse_grid(img, p, phase);
          const auto col = analyse_grid(img, p, phase, &off_picture);
          EXPECT_EQ(vec.on_grid, col.on_grid) << cols << " " << phase << " " << min_step << " " << ratio;
          EXPECT_EQ(vec.on_broken, col.on_broken) << cols << " " << phase << " " << min_step << " " << ratio;
          EXPECT_EQ(vec.off_grid, col.off_grid) << cols << " " << phase << " " << min_step << " " << ratio;
          EXPECT_EQ(vec.off_broken, col.off_broken) << cols << " " << phase << " " << min_step << " " << ratio;
          broken += vec.on_broken + vec.off_broken;
        }
    }
  EXPECT_GT(broken, 100);  // the comparison is not vacuous
}

TEST(CorruptionGrid, ExcludedRegionsAreNotExamined) {
  const cv::Mat img = scene(12);
  const cv::Mat hit = damaged_in(img, cv::Rect(0, 0, kW, 160), 5);  // the top 10 macroblock rows
  avmon::video::RegionMask none, top({{0.0, 0.0, 1.0, 0.5}});
  const auto all = analyse_grid(hit, GridParams{}, 0, &none);
  const auto kept = analyse_grid(hit, GridParams{}, 0, &top);
  EXPECT_EQ(all.on_grid, analyse_grid(hit, GridParams{}).on_grid);  // an empty mask changes nothing
  EXPECT_GT(all.score(), 0.03);
  EXPECT_LT(kept.score(), 0.01);
  EXPECT_LT(kept.on_grid, all.on_grid * 2 / 3);
}

TEST(CorruptionDetector, DecoderErrorsCountWhateverTheRegions) {
  CorruptionRun r({{0.0, 0.0, 1.0, 1.0}});
  for (int i = 0; i < 80; ++i) {
    DecodeInfo di = CorruptionRun::clean(i);
    if (i == 30) di.errors_before = 2;
    r.feed(scene(13, i), i, di);
  }
  EXPECT_NEAR(r.sink.first_active_time("corruption"), 30 * kDt, 1e-9);
}

TEST(CorruptionDetector, CleanHeavyCompressionIsNotCorruption) {
  CorruptionRun r;
  for (int i = 0; i < 100; ++i) r.feed(blocky(scene(4, i)), i, CorruptionRun::clean(i));
  EXPECT_FALSE(r.ever_active());
}

TEST(CorruptionDetector, SceneCutsAreNotCorruption) {
  CorruptionRun r;
  for (int i = 0; i < 100; ++i) r.feed(scene(5 + i / 10, i), i, CorruptionRun::clean(i, 1000));
  EXPECT_FALSE(r.ever_active());
}

TEST(CorruptionDetector, LetterboxAndGraphicsOnTheGridAreNotDamage) {
  CorruptionRun r;
  for (int i = 0; i < 100; ++i) {
    cv::Mat img = scene(9, i);
    if (i >= 40) {
      // Cut to letterboxed content with a pillar graphic: straight edges
      // exactly on the 16-px grid.
      img(cv::Rect(0, 0, kW, 48)).setTo(cv::Scalar(16));
      img(cv::Rect(0, kH - 48, kW, 48)).setTo(cv::Scalar(16));
      img(cv::Rect(kW - 64, 48, 64, kH - 96)).setTo(cv::Scalar(200));
    }
    r.feed(img, i, CorruptionRun::clean(i));
  }
  EXPECT_FALSE(r.ever_active());
}

TEST(CorruptionDetector, OneOddPictureIsNotDamage) {
  CorruptionRun r;
  for (int i = 0; i < 60; ++i) {
    const cv::Mat base = scene(8, i);
    r.feed(i == 30 ? damaged(base, i) : base, i, CorruptionRun::clean(i));
  }
  EXPECT_FALSE(r.ever_active());
}

TEST(CorruptionDetector, ErrorsBeforeTheFirstKeyPictureAreTheJoinNotDamage) {
  CorruptionRun r;
  for (int i = 0; i < 30; ++i) {
    DecodeInfo di = CorruptionRun::clean(i + 10, 25);  // joined mid-GOP: first key at i = 15
    if (i < 15) di.errors_before = 1;
    r.feed(scene(6, i), i, di);
  }
  EXPECT_FALSE(r.ever_active());
}

}  // namespace
