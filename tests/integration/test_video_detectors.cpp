// The video detectors end to end: clips generated at test time from real
// footage (Debian's opencv-doc) and lavfi sources, encoded as H.264, MPEG-2
// and HEVC, with defects at known times; the real binary's events must give
// the exact intervals.
//
// Tolerance: 50 ms on each side (one frame at 25 fps plus rounding). The
// detectors report every picture and the engine dates a defect at its true
// onset, so black, freeze and bars intervals are exact to the picture. For
// bitstream damage the interval is that of the damaged pictures: from the
// first one the decoder or the picture analysis flags to the next clean key
// picture.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
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
const std::string kData = "/usr/share/doc/opencv-doc/examples/data/";

bool have_footage() { return fs::exists(kData + "tree.avi") && fs::exists(kData + "vtest.avi"); }

std::vector<Interval> analyse(const fs::path& clip, const std::string& type) {
  const fs::path events = clip.string() + ".jsonl";
  auto r = run_avmon(clip.string(), events);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return defects(read_events(events), type);
}

void expect_one(const std::vector<Interval>& got, double start_s, double end_s, double tol_start = kTol,
                double tol_end = kTol) {
  ASSERT_EQ(got.size(), 1u) << describe(got);
  EXPECT_NEAR(got[0].start_s, start_s, tol_start) << describe(got);
  EXPECT_NEAR(got[0].end_s, end_s, tol_end) << describe(got);
}

// Black with a station logo left on it, then a dim scene (mean luma ~22 on
// 8-bit limited range: a picture, not black). Real hand-held footage, 15 fps
// up-converted to 25 (duplicated frames everywhere), H.264.
TEST(VideoDetectors, BlackWithLogoIsBlackAndADimSceneIsNot) {
  if (!have_footage()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("black"), clip = dir / "black.mp4";
  ffmpeg({"-stream_loop", "1", "-i", kData + "tree.avi", "-t", "14", "-an", "-vf",
          "fps=25,scale=480:270,setsar=1,"
          "lutyuv=y='16+(val-16)*0.06':enable='between(t,9,12)',"
          "drawbox=enable='between(t,4,7.5)':color=black:t=fill,"
          "drawbox=x=400:y=20:w=60:h=40:color=white@1:t=fill",  // the logo, 1.9 % of the picture
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p",
          clip.string()});
  const fs::path events = clip.string() + ".jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto all = read_events(events);
  // Black frames are t = 4.00 .. 7.48: the first picture after is at 7.52.
  expect_one(defects(all, "black"), 4.0, 7.52);
  EXPECT_TRUE(defects(all, "freeze").empty()) << describe(defects(all, "freeze"));  // suppressed; dim scene moves
  EXPECT_TRUE(defects(all, "corruption").empty()) << describe(defects(all, "corruption"));
  EXPECT_TRUE(defects(all, "test_pattern").empty());
}

// Static surveillance camera with people walking (small motion), 10 fps
// up-converted to 25 (every picture repeated 2-3 times), a 4 s held picture
// re-encoded by an MPEG-2 encoder (GOP 12: each key picture re-codes it).
TEST(VideoDetectors, HeldPictureInMpeg2IsAFreezeButAStaticShotWithDuplicatesIsNot) {
  if (!have_footage()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("freeze"), clip = dir / "freeze.mpg";
  ffmpeg({"-i", kData + "vtest.avi", "-t", "14", "-an", "-filter_complex",
          "[0:v]fps=25,scale=384:288,setsar=1,split[a][b];[a][b]freezeframes=first=150:last=249:replace=150",
          "-c:v", "mpeg2video", "-q:v", "5", "-g", "12", clip.string()});
  // Pictures 150..249 show picture 150: 6.00 .. 9.96, the next new one at 10.00.
  expect_one(analyse(clip, "freeze"), 6.0, 10.0);
}

// A held picture from an HEVC encoder at the end of a clip: the open freeze
// is closed at the last media time.
TEST(VideoDetectors, FreezeInHevcRunningToTheEndIsClosedThere) {
  const fs::path dir = scratch_dir("freeze_hevc"), clip = dir / "freeze.mkv";
  ffmpeg({"-f", "lavfi", "-i", "mandelbrot=s=320x240:r=25", "-t", "9", "-filter_complex",
          "[0:v]split[a][b];[a][b]freezeframes=first=125:last=224:replace=125",
          "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-crf", "28",
          "-pix_fmt", "yuv420p", clip.string()});
  const auto got = analyse(clip, "freeze");
  ASSERT_EQ(got.size(), 1u) << describe(got);
  // x265's B-pyramid keeps refining a few detailed blocks of the held picture
  // for its first pictures (changes that persist): the hold is dated from the
  // last of them, up to ~0.3 s late on this fractal.
  EXPECT_GE(got[0].start_s, 5.0 - kTol);
  EXPECT_LE(got[0].start_s, 5.3 + kTol);
  EXPECT_NEAR(got[0].end_s, 8.96, kTol);  // closed at the last picture's time
}

// SMPTE HD bars and EBU bars spliced into real footage, HEVC: two test-pattern
// incidents, and the still bars are not also a freeze.
TEST(VideoDetectors, ColourBarsInHevcAreATestPatternAndNotAFreeze) {
  if (!have_footage()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("bars"), clip = dir / "bars.mkv";
  ffmpeg({"-stream_loop", "1", "-i", kData + "tree.avi", "-f", "lavfi", "-i", "smptehdbars=s=480x270:r=25", "-f",
          "lavfi", "-i", "pal75bars=s=480x270:r=25", "-t", "14", "-filter_complex",
          "[0:v]fps=25,scale=480:270,setsar=1[base];[base][1:v]overlay=enable='between(t,3,6)'[v1];"
          "[v1][2:v]overlay=enable='between(t,9,12)'[v]",
          "-map", "[v]", "-an", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
          "-crf", "28", "-pix_fmt", "yuv420p", clip.string()});
  const fs::path events = clip.string() + ".jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto all = read_events(events);
  const auto bars = defects(all, "test_pattern");
  ASSERT_EQ(bars.size(), 2u) << describe(bars);
  EXPECT_NEAR(bars[0].start_s, 3.0, kTol);
  EXPECT_NEAR(bars[0].end_s, 6.04, kTol);
  EXPECT_NEAR(bars[1].start_s, 9.0, kTol);
  EXPECT_NEAR(bars[1].end_s, 12.04, kTol);
  EXPECT_EQ(bars[1].start_event["details"]["colours"], "WYCGMRBK");
  EXPECT_TRUE(defects(all, "freeze").empty()) << describe(defects(all, "freeze"));
  EXPECT_TRUE(defects(all, "black").empty()) << describe(defects(all, "black"));
  EXPECT_TRUE(defects(all, "corruption").empty()) << describe(defects(all, "corruption"));
}

// SMPTE bars with an ident box over them, MPEG-2 at 720x576: the straight
// edge between the bars and the lower castellations lies on the macroblock
// grid, which is content and not damage.
TEST(VideoDetectors, SmpteBarsWithIdentInMpeg2) {
  if (!have_footage()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("bars_sd"), clip = dir / "bars.mpg";
  ffmpeg({"-i", kData + "vtest.avi", "-f", "lavfi", "-i", "smptebars=s=720x576:r=25", "-t", "12", "-an",
          "-filter_complex",
          "[0:v]fps=25,scale=720:576,setsar=1[b];"
          "[1:v]drawbox=x=300:y=180:w=140:h=60:color=black:t=fill[bars];"
          "[b][bars]overlay=enable='between(t,5.5,8.5)'",
          "-c:v", "mpeg2video", "-q:v", "6", "-g", "15", clip.string()});
  const fs::path events = clip.string() + ".jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto all = read_events(events);
  expect_one(defects(all, "test_pattern"), 5.52, 8.52);
  for (const char* type : {"black", "freeze", "corruption"})
    EXPECT_TRUE(defects(all, type).empty()) << type << ": " << describe(defects(all, type));
}

// A clock standing in for a burnt-in one (no font needed): a box of digit
// size whose pattern changes every half second.
std::string stand_in_clock(const std::string& x, const std::string& y) {
  return "drawbox=x=" + x + ":y=" + y + ":w=iw*0.12:h=ih*0.07:color=black:t=fill,"
         "drawbox=x=" + x + "+iw*0.01:y=" + y + "+ih*0.01:w=iw*0.03:h=ih*0.05:color=white:t=fill:"
         "enable='lt(mod(t,1),0.5)',"
         "drawbox=x=" + x + "+iw*0.06:y=" + y + "+ih*0.01:w=iw*0.04:h=ih*0.05:color=white:t=fill:"
         "enable='gte(mod(t,1),0.5)'";
}

// EBU bars as an ident goes to air: a caption box over 40 % x 50 % of the
// picture (it hides two bars and parts of two more) with a running clock in it, and a
// logo, spliced into real footage, H.264: one test pattern, exact to the
// picture, and the still bars are neither a freeze, black nor a slate.
TEST(VideoDetectors, ColourBarsUnderAnIdentWithAClockAreATestPattern) {
  if (!have_footage()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("bars_ident"), clip = dir / "bars.mp4";
  ffmpeg({"-stream_loop", "1", "-i", kData + "tree.avi", "-f", "lavfi", "-i", "pal75bars=s=480x270:r=25", "-t", "12",
          "-an", "-filter_complex",
          "[0:v]fps=25,scale=480:270,setsar=1[base];"
          "[1:v]drawbox=x=iw*0.3:y=ih*0.25:w=iw*0.4:h=ih*0.5:color=black:t=fill," +
              stand_in_clock("iw*0.44", "ih*0.55") +
              ",drawbox=x=iw*0.04:y=ih*0.05:w=iw*0.08:h=ih*0.1:color=white:t=fill[bars];"
              "[base][bars]overlay=enable='between(t,3,8)'",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p", clip.string()});
  const fs::path events = clip.string() + ".jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto all = read_events(events);
  const auto bars = defects(all, "test_pattern");
  expect_one(bars, 3.0, 8.04);
  // Slots 3 and 4 (green, magenta) lie wholly under the black caption box:
  // the bars around them are named, and they are not claimed as green or
  // magenta (hidden, unknown or the box's black).
  const std::string colours = bars[0].start_event["details"]["colours"];
  ASSERT_EQ(colours.size(), 8u) << colours;
  EXPECT_EQ(colours.substr(0, 3), "WYC") << colours;
  EXPECT_EQ(colours.substr(5), "RBK") << colours;
  for (char hidden : colours.substr(3, 2)) EXPECT_NE(std::string(".?K").find(hidden), std::string::npos) << colours;
  for (const char* type : {"black", "freeze", "slate", "corruption"})
    EXPECT_TRUE(defects(all, type).empty()) << type << ": " << describe(defects(all, type));
}

// A "we'll be right back" card with a running clock for 12 s, then programme,
// then the surveillance camera's picture held for 12 s, H.264: the card is one slate from
// its first picture (not a freeze), the held camera picture one freeze (not
// a slate).
TEST(VideoDetectors, AStillCardIsASlateAndAHeldCameraPictureAFreeze) {
  if (!have_footage()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("slate"), clip = dir / "slate.mp4";
  ffmpeg({"-i", kData + "vtest.avi", "-f", "lavfi", "-i", "color=c=0x1a2a6c:s=480x270:r=25",
          "-t", "36", "-an", "-filter_complex",
          "[0:v]fps=25,scale=480:270,setsar=1,split[a][b];[a][b]freezeframes=first=500:last=799:replace=500[base];"
          "[1:v]drawbox=x=iw*0.15:y=ih*0.4:w=iw*0.7:h=ih*0.12:color=white:t=fill,"
          "drawbox=x=iw*0.3:y=ih*0.6:w=iw*0.4:h=ih*0.05:color=0xc0c0c0:t=fill," +
              stand_in_clock("iw*0.8", "ih*0.06") + "[card];"
              "[base][card]overlay=enable='between(t,2,14)'",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p", clip.string()});
  const fs::path events = clip.string() + ".jsonl", config = dir / "slate.yaml";
  {
    std::ofstream(config) << "detectors:\n  slate:\n    enabled: true\n";  // off by default
  }
  ASSERT_EQ(run_avmon(clip.string(), events, {"--config", config.string()}).exit_status, 0);
  const auto all = read_events(events);
  // Card pictures 2.00 .. 13.96 (overlay's between() is inclusive: 14.00 too).
  expect_one(defects(all, "slate"), 2.0, 14.04);
  // Pictures 500..799 show picture 500: 20.00 .. 31.96, the next new one at 32.00.
  expect_one(defects(all, "freeze"), 20.0, 32.0);
  for (const char* type : {"black", "test_pattern", "corruption"})
    EXPECT_TRUE(defects(all, type).empty()) << type << ": " << describe(defects(all, type));
}

// A stand-alone PLUGE (black field; stripes at -2, +2 and +4 % of the range;
// a white patch) from 3 s to 8 s, a running timecode in a caption box
// sliding over the stripes, spliced into a zooming fractal; then 2 s of
// black, H.264: one test pattern, exact to the picture, that is neither
// black nor a freeze, and the black after it is black, not a pattern.
TEST(VideoDetectors, APlugeUnderAMovingClockIsATestPatternAndBlackIsNot) {
  const std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!fs::exists(font)) GTEST_SKIP() << "DejaVu font not installed";
  const fs::path dir = scratch_dir("pluge"), clip = dir / "pluge.mp4";
  // Luma as coded (limited range): 16 black, 12, 20, 25 the stripes, 235 the patch.
  const std::string tall = "*between(Y\\,H*0.1\\,H*0.9)";
  const std::string luma = "16-4*between(X\\,W*0.1\\,W*0.14)" + tall + "+4*between(X\\,W*0.18\\,W*0.22)" + tall +
                           "+9*between(X\\,W*0.26\\,W*0.3)" + tall +
                           "+219*between(X\\,W*0.62\\,W*0.8)*between(Y\\,H*0.3\\,H*0.7)";
  ffmpeg({"-f", "lavfi", "-i", "mandelbrot=s=640x360:r=25", "-f", "lavfi", "-i", "color=c=black:s=640x360:r=25:d=0.04",
          "-t", "12", "-filter_complex",
          "[1:v]format=yuv420p,geq=lum='" + luma + "':cb=128:cr=128,loop=loop=-1:size=1,"
          "drawtext=fontfile=" + font + ":timecode='10\\:00\\:00\\:00':rate=25:fontsize=32:fontcolor=white:"
          "box=1:boxcolor=0x303060:boxborderw=14:x='20+mod(t*60\\,300)':y=h*0.45[pluge];"
          "[0:v][pluge]overlay=enable='between(t,3,7.99)',"
          "drawbox=color=black:t=fill:enable='between(t,9,10.99)'",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p", clip.string()});
  const fs::path events = clip.string() + ".jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto all = read_events(events);
  // PLUGE pictures 3.00 .. 7.96; black 9.00 .. 10.96.
  expect_one(defects(all, "test_pattern"), 3.0, 8.0);
  const auto pattern = defects(all, "test_pattern");
  if (!pattern.empty()) {
    EXPECT_EQ(pattern[0].start_event["details"]["pattern"], "pluge");
  }
  expect_one(defects(all, "black"), 9.0, 11.0);
  for (const char* type : {"freeze", "corruption", "slate"})
    EXPECT_TRUE(defects(all, type).empty()) << type << ": " << describe(defects(all, type));
}

// Colourful synthetic programme (lavfi testsrc2 has colour gradients and bars
// of its own, moving; cellular automata; a zooming fractal), MPEG-2 at a very
// low quality: no defect of any video type.
TEST(VideoDetectors, ColourfulAndHeavilyCompressedProgrammeHasNoVideoDefect) {
  const fs::path dir = scratch_dir("negatives");
  for (const std::string src : {"testsrc2=s=480x270:r=25", "cellauto=s=480x272:r=25:rule=110",
                                "mandelbrot=s=480x272:r=25"}) {
    const fs::path clip = dir / (src.substr(0, src.find('=')) + ".mpg");
    ffmpeg({"-f", "lavfi", "-i", src, "-t", "6", "-c:v", "mpeg2video", "-q:v", "31", "-g", "12", clip.string()});
    const fs::path events = clip.string() + ".jsonl";
    ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
    const auto all = read_events(events);
    for (const char* type : {"black", "freeze", "corruption", "test_pattern", "slate"})
      EXPECT_TRUE(defects(all, type).empty()) << src << ": " << describe(defects(all, type));
  }
}

// H.264 in MPEG-TS, one IDR per second and no B pictures, so that damaged
// pictures and recovery are at known times.
fs::path clean_h264_ts(const fs::path& dir, const std::string& scale = "480:264") {
  const fs::path clip = dir / "clean.ts";
  ffmpeg({"-stream_loop", "1", "-i", kData + "Megamind.avi", "-t", "10", "-an", "-vf", "fps=25,scale=" + scale + ",setsar=1",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "25", "-bf", "0", "-x264-params",
          "scenecut=0", "-pix_fmt", "yuv420p", "-f", "mpegts", clip.string()});
  return clip;
}

// Bit errors in the H.264 payload of the pictures at 4.0 .. 4.5 s, at a small
// size and at 1080p (1056 lines: whole macroblocks, as encoders code 1080).
TEST(VideoDetectors, BitstreamNoiseIsCorruptionUntilTheNextIdr) {
  if (!fs::exists(kData + "Megamind.avi")) GTEST_SKIP() << "opencv-doc footage not installed";
  for (const std::string scale : {"480:264", "1920:1056"}) {
    SCOPED_TRACE(scale);
    const fs::path dir = scratch_dir("noise_" + scale.substr(0, scale.find(':')));
    const fs::path clean = clean_h264_ts(dir, scale), noisy = dir / "noisy.ts";
    EXPECT_TRUE(analyse(clean, "corruption").empty());
    // The bsf sees timestamps already rebased to the start of the file.
    ffmpeg({"-i", clean.string(), "-c", "copy", "-bsf:v", "noise=amount=if(between(pts*tb\\,4\\,4.49)\\,200\\,0)",
            noisy.string()});
    const auto got = analyse(noisy, "corruption");
    // Damage starts with the first hit picture (one in 200 bytes: the first
    // picture of the window is hit), and lasts to the IDR at 5.0.
    expect_one(got, 4.0, 5.0, 0.2, kTol);
    EXPECT_EQ(got[0].start_event["details"]["evidence"], "decoder");
  }
}

// Transport packet loss: every fourth 188-byte packet of the video PID lost
// for the pictures at 4.0 .. 4.5 s.
TEST(VideoDetectors, DroppedTsPacketsAreCorruptionUntilTheNextIdr) {
  if (!fs::exists(kData + "Megamind.avi")) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path dir = scratch_dir("ts_loss");
  const fs::path clean = clean_h264_ts(dir), lossy = dir / "lossy.ts";
  std::ifstream in(clean, std::ios::binary);
  const std::vector<unsigned char> ts((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(ts.size() % 188, 0u);
  std::vector<unsigned char> out;
  int video_pid = -1;
  std::int64_t first_pts = -1, pts = -1;
  int in_pes = 0, dropped = 0;
  for (size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const unsigned char* p = &ts[off];
    ASSERT_EQ(p[0], 0x47);
    const int pid = ((p[1] & 0x1f) << 8) | p[2];
    const bool pusi = p[1] & 0x40;
    const int afc = (p[3] >> 4) & 3;
    const int payload = 4 + ((afc & 2) ? 1 + p[4] : 0);
    if (pusi && (afc & 1) && payload + 14 <= 188 && p[payload] == 0 && p[payload + 1] == 0 &&
        p[payload + 2] == 1 && (p[payload + 3] & 0xf0) == 0xe0 && (p[payload + 7] & 0x80)) {
      video_pid = pid;
      const unsigned char* q = p + payload + 9;
      pts = (static_cast<std::int64_t>((q[0] >> 1) & 7) << 30) | (q[1] << 22) | ((q[2] >> 1) << 15) | (q[3] << 7) |
            (q[4] >> 1);
      if (first_pts < 0) first_pts = pts;
      in_pes = 0;
    }
    if (pid == video_pid && !pusi) {
      ++in_pes;
      const double t = static_cast<double>(pts - first_pts) / 90000.0;
      if (t >= 3.99 && t < 4.49 && in_pes % 4 == 2) {
        ++dropped;
        continue;
      }
    }
    out.insert(out.end(), p, p + 188);
  }
  ASSERT_GT(dropped, 20);
  std::ofstream(lossy, std::ios::binary).write(reinterpret_cast<const char*>(out.data()),
                                               static_cast<std::streamsize>(out.size()));
  const auto got = analyse(lossy, "corruption");
  expect_one(got, 4.0, 5.0);
  EXPECT_GT(got[0].start_event["details"]["decoder_errors"].get<int>() +
                got[0].start_event["details"]["corrupt_frames"].get<int>(),
            0);
}

// The same black and freeze at broadcast sizes: the analysis luma is made by
// a different kernel at each (1920: the 4x4 box kernel, 1280: the generic
// kernel for the factor 3, 960: the 2x2 kernel), and the detectors'
// thresholds must hold on all of them. Animated feature footage, 23.976 fps
// up-converted to 25 (one repeated picture a second), H.264.
class BroadcastSizes : public ::testing::TestWithParam<std::string> {};

TEST_P(BroadcastSizes, BlackWithLogoAndAHeldPictureGiveExactIntervals) {
  if (!fs::exists(kData + "Megamind.avi")) GTEST_SKIP() << "opencv-doc footage not installed";
  const std::string size = GetParam();
  const fs::path dir = scratch_dir("size_" + size), clip = dir / "clip.mp4";
  std::string scale = size;
  scale[scale.find('x')] = ':';
  ffmpeg({"-stream_loop", "1", "-i", kData + "Megamind.avi", "-t", "13", "-an", "-filter_complex",
          "[0:v]fps=25,scale=" + scale + ",setsar=1,drawbox=enable='between(t,3,5.5)':color=black:t=fill,"
          "drawbox=x=iw*0.85:y=ih*0.05:w=iw*0.1:h=ih*0.08:color=white@1:t=fill,"  // the logo, 0.8 %
          "split[a][b];[a][b]freezeframes=first=200:last=274:replace=200",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p", clip.string()});
  const fs::path events = clip.string() + ".jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto all = read_events(events);
  // Black pictures are t = 3.00 .. 5.48; the first picture after is at 5.52.
  expect_one(defects(all, "black"), 3.0, 5.52);
  // freezeframes counts from 1: pictures 201..275 (0-based) are one picture
  // (framemd5 shows it), so the hold is 8.04 .. 11.00 and 11.04 is new.
  expect_one(defects(all, "freeze"), 8.04, 11.04);
  EXPECT_TRUE(defects(all, "corruption").empty()) << describe(defects(all, "corruption"));
  EXPECT_TRUE(defects(all, "test_pattern").empty()) << describe(defects(all, "test_pattern"));
}

INSTANTIATE_TEST_SUITE_P(VideoDetectors, BroadcastSizes, ::testing::Values("1920x1080", "1280x720", "960x540"));

}  // namespace
