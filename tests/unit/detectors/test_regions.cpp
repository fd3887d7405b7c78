// Exclusion regions shared by the video detectors: fractions of the picture to
// pixel rectangles (rounded outwards), per-block masks and clear column spans.
#include <gtest/gtest.h>

#include "video_common/regions.hpp"

namespace {

using avmon::Region;
using avmon::video::RegionMask;
using Spans = std::vector<std::pair<int, int>>;

TEST(RegionMask, RoundsOutwardsAndClipsToThePlane) {
  RegionMask m({Region{0.8, 0.0, 0.2, 0.1}, Region{0.101, 0.5, 0.1, 0.25}, Region{0.9, 0.9, 0.5, 0.5}});
  const auto& r = m.rects({480, 270});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], cv::Rect(384, 0, 96, 27));  // on the pixel grid: exact
  EXPECT_EQ(r[1], cv::Rect(48, 135, 49, 68));  // 48.48..96.48 x 135..202.5: every touched pixel
  EXPECT_EQ(r[2], cv::Rect(432, 243, 48, 27)); // clipped
  // Another plane size: rebuilt.
  EXPECT_EQ(m.rects({240, 100})[0], cv::Rect(192, 0, 48, 10));
  EXPECT_TRUE(RegionMask().empty());
  EXPECT_TRUE(RegionMask({Region{0.5, 0.5, 0, 0}}).rects({480, 270}).empty());
}

TEST(RegionMask, BlocksOverlappingARegionAreMasked) {
  RegionMask m({Region{0.25, 0.5, 0.25, 0.25}});  // 16..31 x 16..23 on 64x32
  const auto& b = m.blocks({64, 32}, 8, 4);  // 8 x 8 blocks
  ASSERT_EQ(b.size(), 64u);
  int masked = 0;
  for (int by = 0; by < 8; ++by)
    for (int bx = 0; bx < 8; ++bx) {
      const bool want = bx >= 2 && bx <= 3 && by >= 4 && by <= 5;
      EXPECT_EQ(b[static_cast<size_t>(by * 8 + bx)] != 0, want) << bx << "," << by;
      masked += want;
    }
  EXPECT_EQ(masked, 4);
  // A region that only grazes a block still masks it.
  RegionMask graze({Region{0.0, 0.0, 9.0 / 64, 1.0 / 32}});
  const auto& g = graze.blocks({64, 32}, 8, 4);
  EXPECT_EQ(g[0], 1);
  EXPECT_EQ(g[1], 1);
  EXPECT_EQ(g[2], 0);
  EXPECT_EQ(g[8], 0);
}

TEST(RegionMask, ClearSpansAreTheColumnsNoRegionTouches) {
  RegionMask m({Region{0.1, 0.0, 0.1, 0.5}, Region{0.5, 0.4, 0.2, 0.2}, Region{0.15, 0.45, 0.1, 0.1}});
  Spans s;
  m.clear_spans({100, 100}, 0, 10, s);
  EXPECT_EQ(s, (Spans{{0, 10}, {20, 100}}));
  m.clear_spans({100, 100}, 45, 46, s);  // all three, two of them overlapping
  EXPECT_EQ(s, (Spans{{0, 10}, {25, 50}, {70, 100}}));
  m.clear_spans({100, 100}, 60, 70, s);  // rows [60, 70): the second ends at row 60
  EXPECT_EQ(s, (Spans{{0, 100}}));
  m.clear_spans({100, 100}, 58, 62, s);  // rows an edge test reads: any of them masked
  EXPECT_EQ(s, (Spans{{0, 50}, {70, 100}}));
  EXPECT_TRUE(m.covers({100, 100}, 10, 0));
  EXPECT_FALSE(m.covers({100, 100}, 20, 0));
}

}  // namespace
