// exclude_regions end to end: clips made with the ffmpeg CLI where a running
// clock and a crawling ticker move over a held picture, or an ident box moves
// over colour bars. With the regions excluded the defect is reported, with the
// exact interval; without them the moving graphics hide the freeze (bars are
// read around an ident box that covers fewer than half of their rows).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/run.hpp"

namespace {

namespace fs = std::filesystem;
using avmon::test::defects;
using avmon::test::describe;
using avmon::test::ffmpeg;
using avmon::test::Interval;
using avmon::test::read_events;
using avmon::test::run_avmon;
using avmon::test::scratch_dir;

constexpr double kTol = 0.05;
const std::string kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

std::vector<Interval> analyse(const fs::path& clip, const std::string& type, const std::string& config_yaml) {
  std::vector<std::string> extra;
  const fs::path events = clip.string() + (config_yaml.empty() ? ".plain.jsonl" : ".masked.jsonl");
  if (!config_yaml.empty()) {
    const fs::path config = clip.string() + ".yaml";
    std::ofstream(config) << config_yaml;
    extra = {"--config", config.string()};
  }
  auto r = run_avmon(clip.string(), events, extra);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return defects(read_events(events), type);
}

// A zooming fractal held from 3.0 s to 8.0 s (pictures 75..199 repeat picture
// 75) under a burnt-in running timecode (top right, changes every picture) and
// a news ticker crawling along the bottom, H.264.
TEST(ExcludeRegions, FreezeUnderARunningClockAndATickerIsAFreezeWhenTheyAreExcluded) {
  if (!fs::exists(kFont)) GTEST_SKIP() << "DejaVu font not installed";
  const fs::path dir = scratch_dir("regions_freeze"), clip = dir / "clock_ticker.mp4";
  ffmpeg({"-f", "lavfi", "-i", "mandelbrot=s=480x270:r=25", "-t", "11", "-filter_complex",
          "[0:v]split[a][b];[a][b]freezeframes=first=75:last=199:replace=75,"
          "drawtext=fontfile=" + kFont + ":timecode='10\\:00\\:00\\:00':rate=25:fontsize=20:fontcolor=white:"
          "box=1:boxcolor=black:x=w-tw-8:y=8,"
          "drawbox=x=0:y=ih-28:w=iw:h=28:color=0x202020:t=fill,"
          "drawtext=fontfile=" + kFont + ":text='BREAKING NEWS +++ MARKETS CLOSE HIGHER +++ RAIN LATER':"
          "fontsize=18:fontcolor=white:x=w-mod(t*120\\,w+tw):y=h-24",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p", clip.string()});
  const std::string config =
      "detectors:\n  freeze:\n    exclude_regions: [[0.6, 0.0, 0.4, 0.16], {x: 0, y: 0.88, w: 1, h: 0.12}]\n";
  const auto masked = analyse(clip, "freeze", config);
  ASSERT_EQ(masked.size(), 1u) << describe(masked);
  EXPECT_NEAR(masked[0].start_s, 3.0, kTol) << describe(masked);
  EXPECT_NEAR(masked[0].end_s, 8.0, kTol) << describe(masked);
  // The clock and the ticker are moving content when nothing is excluded.
  const auto plain = analyse(clip, "freeze", "");
  EXPECT_TRUE(plain.empty()) << describe(plain);
}

// SMPTE bars from 2 s to 7 s with an ident box sliding across their top, MPEG-2.
TEST(ExcludeRegions, BarsUnderAMovingIdentAreATestPatternWhenItsPathIsExcluded) {
  const fs::path dir = scratch_dir("regions_bars"), clip = dir / "bars_ident.mpg";
  // (overlay evaluates its position on every picture; drawbox does not.)
  ffmpeg({"-f", "lavfi", "-i", "mandelbrot=s=720x576:r=25", "-f", "lavfi", "-i", "smptebars=s=720x576:r=25", "-f",
          "lavfi", "-i", "color=c=black:s=240x110:r=25", "-t", "9", "-an", "-filter_complex",
          "[1:v][2:v]overlay=x='mod(t*100\\,480)':y=58[bars];"
          "[0:v][bars]overlay=enable='between(t,2,6.99)'",
          "-c:v", "mpeg2video", "-q:v", "4", "-g", "15", clip.string()});
  const std::string config = "detectors:\n  test_pattern:\n    exclude_regions: [[0, 0.09, 1, 0.22]]\n";
  const auto masked = analyse(clip, "test_pattern", config);
  ASSERT_EQ(masked.size(), 1u) << describe(masked);
  EXPECT_NEAR(masked[0].start_s, 2.0, kTol) << describe(masked);
  EXPECT_NEAR(masked[0].end_s, 7.0, kTol) << describe(masked);
  // Unmasked, the box covers fewer than half of any column's band rows, so
  // test_pattern reads the bars around it: the same one incident, and
  // nothing else (the moving box keeps the picture from being a freeze).
  const auto plain = analyse(clip, "", "");
  ASSERT_EQ(plain.size(), 1u) << describe(plain);
  EXPECT_EQ(plain[0].type, "test_pattern");
  EXPECT_NEAR(plain[0].start_s, 2.0, kTol) << describe(plain);
}

}  // namespace
