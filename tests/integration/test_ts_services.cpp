// Services of a multiplex: choosing one (by default, number or name),
// media time from the chosen service's own first timestamp (not from other
// services' clocks or from PIDs that start earlier), across a 33-bit wrap.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "integration/ts_support.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// Program 1 "News" is black; program 2 "Sport" is a moving picture. Then
// News's clocks are moved three hours ahead of Sport's (avmon_ts_impair
// --shift-clock), as in a multiplex of unrelated encoders.
const fs::path& two_services() {
  static const fs::path path = [] {
    auto dir = scratch_dir("ts-services");
    ffmpeg({"-f", "lavfi", "-i", "color=black:size=320x240:rate=25", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f",
            "lavfi", "-i", "sine=frequency=880:sample_rate=48000", "-t", "8", "-map", "0:v", "-map", "1:a", "-map",
            "2:v", "-map", "3:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-program",
            "program_num=1:title=News:st=0:st=1", "-program", "program_num=2:title=Sport:st=2:st=3", "-f", "mpegts",
            (dir / "plain.ts").string()});
    ts_impair({(dir / "plain.ts").string(), (dir / "shifted.ts").string(), "--shift-clock", "1:10800"});
    return dir / "shifted.ts";
  }();
  return path;
}

struct Analysis {
  int exit_status = -1;
  std::string err;
  std::vector<nlohmann::json> events;
  nlohmann::json summary;
};

Analysis analyse(const fs::path& input, const std::vector<std::string>& extra, const std::string& name) {
  auto dir = scratch_dir(name);
  RunResult r = run_avmon(input.string(), dir / "e.jsonl", extra);
  Analysis a{r.exit_status, r.err, {}, {}};
  if (r.exit_status == 0) {
    a.events = read_events(dir / "e.jsonl");
    a.summary = summary_of(a.events);
  }
  return a;
}

TEST(TsServices, TheDefaultIsTheFirstServiceWithVideoAndItsOwnClockIsMediaTimesZero) {
  Analysis a = analyse(two_services(), {}, "svc-default");
  ASSERT_EQ(a.exit_status, 0) << a.err;
  EXPECT_EQ(a.summary["transport"]["service"]["program_number"], 1);
  EXPECT_EQ(a.summary["transport"]["service"]["name"], "News");
  // Three hours of another service's clock are not media time.
  EXPECT_NEAR(a.summary["duration_s"].get<double>(), 8.0, 0.1);
  auto black = defects(a.events, "black");
  ASSERT_EQ(black.size(), 1u);
  EXPECT_NEAR(black[0].start_s, 0.0, 0.1);
  EXPECT_NEAR(black[0].end_s, 8.0, 0.1);
  // The summary names the service's PIDs and codecs.
  const auto& streams = a.summary["transport"]["service"]["streams"];
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0]["pid"], 256);
  EXPECT_EQ(streams[0]["codec"], "h264");
  EXPECT_EQ(streams[1]["type"], "audio");
  EXPECT_EQ(streams[1]["codec"], "aac");
  EXPECT_EQ(a.summary["transport"]["services"].size(), 2u);
}

TEST(TsServices, ProgramByNumberOrNameFromTheCommandLineOrTheConfiguration) {
  for (const auto& extra : std::vector<std::vector<std::string>>{{"--program", "2"}, {"--program", "sport"}}) {
    Analysis a = analyse(two_services(), extra, "svc-" + extra[1]);
    ASSERT_EQ(a.exit_status, 0) << a.err;
    EXPECT_EQ(a.summary["transport"]["service"]["program_number"], 2);
    EXPECT_TRUE(defects(a.events, "black").empty()) << "Sport is not black";
    EXPECT_NEAR(a.summary["duration_s"].get<double>(), 8.0, 0.1);
  }
  auto dir = scratch_dir("svc-config");
  {
    std::ofstream(dir / "c.yaml") << "input:\n  program: News\n";
  }
  Analysis a = analyse(two_services(), {"--config", (dir / "c.yaml").string()}, "svc-config-run");
  ASSERT_EQ(a.exit_status, 0) << a.err;
  EXPECT_EQ(a.summary["transport"]["service"]["program_number"], 1);
}

TEST(TsServices, AServiceThatIsNotThereExitsThreeNamingTheOnesThatAre) {
  Analysis a = analyse(two_services(), {"--program", "Weather"}, "svc-missing");
  EXPECT_EQ(a.exit_status, 3);
  EXPECT_NE(a.err.find("no service 'Weather'"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("1 (News), 2 (Sport)"), std::string::npos) << a.err;
}

// Video and its audio start 3 s into the file; another audio PID of the
// service starts at 0 and a third 2 s later than the video (as subtitle and
// data PIDs often do). Black from 1 s to 3 s of the programme.
TEST(TsServices, PidsStartingEarlierOrLaterDoNotMoveMediaTime) {
  auto dir = scratch_dir("svc-early");
  ffmpeg({"-itsoffset", "3", "-f", "lavfi", "-i",
          "testsrc2=size=320x240:rate=25:duration=6,drawbox=color=black:t=fill:enable='between(t,1,3)'", "-itsoffset",
          "3", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6", "-f", "lavfi", "-i",
          "sine=frequency=660:sample_rate=48000:duration=8", "-itsoffset", "5", "-f", "lavfi", "-i",
          "sine=frequency=990:sample_rate=48000:duration=4", "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:a",
          "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-f", "mpegts",
          (dir / "early.ts").string()});
  Analysis a = analyse(dir / "early.ts", {}, "svc-early-run");
  ASSERT_EQ(a.exit_status, 0) << a.err;
  auto black = defects(a.events, "black");
  ASSERT_EQ(black.size(), 1u);
  EXPECT_NEAR(black[0].start_s, 1.0, 0.1);
  EXPECT_NEAR(black[0].end_s, 3.0, 0.1);
  EXPECT_NEAR(a.summary["duration_s"].get<double>(), 6.0, 0.15);
  for (const auto& e : a.events)
    if (e.contains("media_time")) {
      EXPECT_LE(e["media_time"].get<double>(), 6.2) << e.dump();
    }
}

// Subtitle PIDs on clocks of their own, as a multiplexer may carry them: a
// teletext PID from the start stamped an hour before the pictures, another
// from 6 s stamped two hours after them.
TEST(TsServices, SubtitlePidsOnOtherClocksDoNotMoveMediaTime) {
  auto dir = scratch_dir("svc-teletext");
  ts_impair({cbr_clip().string(), (dir / "tt.ts").string(), "--add-teletext", "0x300:0:12:-3600", "--add-teletext",
             "0x301:6:6:7200", "--expect", (dir / "x.json").string()});
  EXPECT_EQ(expected_counts(dir / "x.json"), (std::map<std::string, long>{}));
  Analysis a = analyse(dir / "tt.ts", {}, "svc-teletext-run");
  ASSERT_EQ(a.exit_status, 0) << a.err;
  const auto& streams = a.summary["transport"]["service"]["streams"];
  ASSERT_EQ(streams.size(), 4u) << streams.dump();
  EXPECT_EQ(streams[2]["pid"], 0x300);
  EXPECT_EQ(streams[2]["type"], "teletext");
  EXPECT_EQ(streams[3]["pid"], 0x301);
  EXPECT_NEAR(a.summary["duration_s"].get<double>(), 12.0, 0.15);
  EXPECT_EQ(nonzero_counts(a.summary), (std::map<std::string, long>{}));
  for (const auto& e : a.events)
    if (e.contains("media_time")) {
      EXPECT_LE(e["media_time"].get<double>(), 12.2) << e.dump();
    }
}

// Timestamps start 0.7 s before the 33-bit PTS/PCR clock wraps (26.5 h).
TEST(TsServices, MediaTimeIsContinuousAcrossThe33BitWrap) {
  auto dir = scratch_dir("svc-wrap");
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25,drawbox=color=black:t=fill:enable='between(t,2,4)'",
          "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6", "-c:v", "libx264", "-preset",
          "ultrafast", "-g", "25", "-c:a", "aac", "-output_ts_offset", "95443", "-f", "mpegts",
          (dir / "wrap.ts").string()});
  Analysis a = analyse(dir / "wrap.ts", {}, "svc-wrap-run");
  ASSERT_EQ(a.exit_status, 0) << a.err;
  auto black = defects(a.events, "black");
  ASSERT_EQ(black.size(), 1u);
  EXPECT_NEAR(black[0].start_s, 2.0, 0.1);
  EXPECT_NEAR(black[0].end_s, 4.0, 0.1);
  EXPECT_NEAR(a.summary["duration_s"].get<double>(), 6.0, 0.15);
  // Nor is the wrap a transport error.
  EXPECT_EQ(nonzero_counts(a.summary), (std::map<std::string, long>{}));
}

}  // namespace
}  // namespace avmon::test
