// The declared format end to end: clips encoded at test time with a wrong
// frame rate, aspect ratio, transfer (PQ instead of SDR), HDR metadata or
// channel layout raise format_mismatch naming the field; a matching clip raises nothing; a
// change in the middle of the stream raises and clears it; --print-expect
// writes a section that the same clip then matches.
#include <gtest/gtest.h>

#include <fstream>

#include "support/run.hpp"

namespace avmon {
namespace {

using test::defects;
using test::ffmpeg;
using test::read_events;
using test::run_avmon;
using test::scratch_dir;

// One scratch directory for the whole file (scratch_dir() empties it).
const std::filesystem::path& dir() {
  static const auto d = scratch_dir("format");
  return d;
}

// 4 s of 1280x720 H.264 (square pixels, BT.709, limited range) with stereo
// AAC in English, plus the extra arguments (before the output).
std::filesystem::path clip(const std::string& name, const std::string& rate = "25",
                           const std::vector<std::string>& video_args = {}, const std::string& layout = "stereo",
                           bool audio = true) {
  auto path = dir() / name;
  std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=" + rate + ":duration=4"};
  if (audio)
    for (const auto& a : std::vector<std::string>{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
                                                  "-filter:a", "aformat=channel_layouts=" + layout, "-c:a", "aac",
                                                  "-metadata:s:a:0", "language=eng"})
      args.push_back(a);
  for (const auto& a : std::vector<std::string>{"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                                                "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace",
                                                "bt709", "-color_range", "tv", "-profile:v", "high", "-level:v", "4.0"})
    args.push_back(a);
  args.insert(args.end(), video_args.begin(), video_args.end());
  args.push_back(path.string());
  ffmpeg(args);
  return path;
}

const std::string kExpect =
    "expect:\n"
    "  width: 1280\n  height: 720\n  frame_rate: 25\n  scan: progressive\n  video_codec: h264\n"
    "  profile: High\n  level: \"4.0\"\n  color_primaries: bt709\n  color_transfer: bt709\n"
    "  color_space: bt709\n  color_range: tv\n  hdr: none\n  display_aspect_ratio: \"16:9\"\n"
    "  audio_codec: aac\n  channel_layout: stereo\n  sample_rate: 48000\n  audio_languages: [eng]\n";

std::string config(const std::string& name, const std::string& yaml) {
  auto path = dir() / name;
  std::ofstream(path) << yaml;
  return path.string();
}

std::vector<test::Interval> mismatches(const std::filesystem::path& input, const std::string& yaml) {
  auto events_path = input.string() + ".jsonl";
  auto r = run_avmon(input.string(), events_path, {"--config", config(input.filename().string() + ".yaml", yaml)});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return defects(read_events(events_path), "format_mismatch");
}

void expect_one(const std::vector<test::Interval>& found, const std::string& field, const std::string& expected,
                const std::string& value) {
  ASSERT_EQ(found.size(), 1u) << (found.empty() ? "" : found[0].start_event.dump());
  const auto& d = found[0].start_event["details"];
  EXPECT_EQ(d["field"], field);
  EXPECT_EQ(d["expected"], expected);
  EXPECT_EQ(d["found"], value);
  EXPECT_NEAR(found[0].start_s, 0.0, 0.04);  // the first picture (AAC starts the clock 21 ms earlier)
}

TEST(Format, AMatchingStreamRaisesNothingAndTheSummaryReportsWhatWasFound) {
  auto input = clip("match.ts");
  auto events_path = dir() / "match.jsonl";
  auto r = run_avmon(input.string(), events_path, {"--config", config("match.yaml", kExpect)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  EXPECT_TRUE(defects(events, "format_mismatch").empty());
  const auto& f = events.back()["format"];
  EXPECT_EQ(f["display_aspect_ratio"], "16:9");
  EXPECT_EQ(f["color_transfer"], "bt709");
  EXPECT_EQ(f["profile"], "High");
  EXPECT_EQ(f["level"], "4.0");
  EXPECT_EQ(f["channel_layout"], "stereo");
  EXPECT_EQ(f["audio_languages"], nlohmann::json::array({"eng"}));
  EXPECT_EQ(f["scan"], "progressive");
}

TEST(Format, WrongFrameRate) {
  expect_one(mismatches(clip("rate.ts", "30"), kExpect), "frame_rate", "25", "30");
}

TEST(Format, WrongAspectRatio) {
  // 1280x720 stored with a 3:4 sample aspect ratio shows as 4:3.
  expect_one(mismatches(clip("aspect.ts", "25", {"-vf", "setsar=3/4"}), kExpect), "display_aspect_ratio", "16:9",
             "4:3");
}

TEST(Format, PqTransferWhereSdrIsExpected) {
  expect_one(mismatches(clip("pq.ts", "25", {"-color_trc", "smpte2084"}), kExpect), "color_transfer", "bt709",
             "smpte2084");
}

TEST(Format, WrongChannelLayout) {
  expect_one(mismatches(clip("surround.ts", "25", {}, "5.1"), kExpect), "channel_layout", "stereo", "5.1");
}

TEST(Format, Hdr10MetadataWhereSdrIsExpected) {
  // HEVC Main 10 with mastering display and content light level SEI on every
  // key frame.
  auto path = dir() / "hdr10.ts";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=3", "-c:v", "libx265", "-preset", "ultrafast",
          "-pix_fmt", "yuv420p10le", "-x265-params",
          "log-level=error:hdr10=1:repeat-headers=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
          "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400",
          path.string()});
  auto found = mismatches(path, "expect:\n  hdr: none\n  video_codec: hevc\n  profile: Main 10\n");
  expect_one(found, "hdr", "none", "mastering_display+content_light_level");
}

TEST(Format, AMissingLanguageIsAMismatch) {
  expect_one(mismatches(clip("lang.ts"), "expect:\n  audio_languages: [eng, fra]\n"), "audio_languages", "eng,fra",
             "eng");
}

TEST(Format, AChangeMidStreamRaisesAndClearsIt) {
  // SDR, then 4 s of PQ, then SDR again, with continuous timestamps (video
  // only, so that each part lasts exactly 100 pictures).
  auto a = clip("a.ts", "25", {}, "", false), b = clip("b.ts", "25", {"-color_trc", "smpte2084"}, "", false),
       c = clip("c.ts", "25", {}, "", false);
  auto joined = dir() / "joined.ts";
  auto list = dir() / "list.txt";
  std::ofstream(list) << "file '" << a.string() << "'\nfile '" << b.string() << "'\nfile '" << c.string() << "'\n";
  ffmpeg({"-f", "concat", "-safe", "0", "-i", list.string(), "-c", "copy", joined.string()});
  auto found = mismatches(joined, "expect:\n  color_transfer: bt709\n  frame_rate: 25\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].start_event["details"]["field"], "color_transfer");
  EXPECT_NEAR(found[0].start_s, 4.0, 0.001);
  EXPECT_NEAR(found[0].end_s, 8.0, 0.001);
}

TEST(Format, PrintExpectWritesASectionTheSameStreamMatches) {
  auto input = clip("print.ts", "25", {"-vf", "setsar=3/4"});
  auto r = test::run_process({test::avmon_binary(), "run", "--input", input.string(), "--print-expect"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("expect:\n", 0), 0u) << r.out;  // only the section on stdout
  EXPECT_NE(r.out.find("  display_aspect_ratio: \"4:3\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  frame_rate: 25\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  audio_languages: [eng]\n"), std::string::npos) << r.out;
  EXPECT_TRUE(mismatches(input, r.out).empty());
}

TEST(Format, BadExpectValuesAreConfigurationErrors) {
  auto input = clip("bad.ts");
  auto r = run_avmon(input.string(), dir() / "bad.jsonl",
                     {"--config", config("bad.yaml", "expect:\n  scan: sideways\n")});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("bad.yaml:2:3: expect.scan: 'sideways' is not one of: progressive, interlaced, tff, bff"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace avmon
