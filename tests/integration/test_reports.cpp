// Reports end to end: the loudness log of a generated clip against FFmpeg's
// ebur128 filter on the same segments, the availability of a clip with black
// at known times, and `avmon report` rebuilding the tables from the events.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

constexpr double kSegmentS = 4;

// FFmpeg's integrated loudness of [start, end) of `clip`.
double ffmpeg_integrated(const fs::path& clip, double start_s, double end_s) {
  char af[128];
  std::snprintf(af, sizeof af, "atrim=start=%g:end=%g,ebur128", start_s, end_s);
  RunResult r = run_process({"ffmpeg", "-hide_banner", "-nostats", "-i", clip.string(), "-af", af, "-f", "null", "-"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  std::regex integrated(R"(I:\s+(-?[0-9.]+) LUFS)");
  double last = NAN;
  for (std::sregex_iterator it(r.err.begin(), r.err.end(), integrated), end; it != end; ++it) last = std::stod((*it)[1]);
  return last;
}

fs::path write_config(const fs::path& dir, const std::string& yaml) {
  const fs::path cfg = dir / "reports.yaml";
  std::ofstream(cfg) << yaml;
  return cfg;
}

std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& events, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e.value("kind", "") == kind) out.push_back(e);
  return out;
}

// Pink noise (programme-like: it has a loudness range) stepping through
// three levels, 4 s each: about -30, -23 and -17 LUFS.
TEST(Reports, SegmentLoudnessAgreesWithFfmpegAndIsJudged) {
  const fs::path dir = scratch_dir("reports_loudness"), clip = dir / "steps.wav";
  ffmpeg({"-f", "lavfi", "-i",
          "anoisesrc=color=pink:amplitude=1:sample_rate=48000:seed=7:d=12,"
          "volume='if(lt(t,4),0.17,if(lt(t,8),0.38,0.76))':eval=frame,aformat=channel_layouts=stereo",
          "-c:a", "pcm_s16le", clip.string()});
  const fs::path events = dir / "events.jsonl";
  RunResult r = run_avmon(clip.string(), events,
                          {"--config", write_config(dir, "reports:\n  enabled: true\n  segment_s: 4\n").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto all = read_events(events);
  const auto segments = of_kind(all, "report.loudness");
  ASSERT_EQ(segments.size(), 3u);
  const bool expected_pass[] = {false, true, false};
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& d = segments[i]["details"];
    const double start = d["start_media_time"].get<double>(), end = d["end_media_time"].get<double>();
    EXPECT_DOUBLE_EQ(start, kSegmentS * static_cast<double>(i));
    EXPECT_DOUBLE_EQ(end, kSegmentS * static_cast<double>(i + 1));
    const double ours = d["integrated_lufs"].get<double>(), theirs = ffmpeg_integrated(clip, start, end);
    std::cout << "segment " << i << " [" << start << ", " << end << ") avmon " << ours << " LUFS, ffmpeg ebur128 "
              << theirs << " LUFS, difference " << ours - theirs << " LU\n";
    EXPECT_NEAR(ours, theirs, 0.2) << "segment " << i;
    EXPECT_EQ(d["pass"], expected_pass[i]) << d.dump();
  }
  // The segment lines come before the summary, in media-time order with the rest.
  EXPECT_EQ(all.back().value("kind", ""), "stream.summary");

  // The same tables from the events file alone.
  const fs::path out = dir / "report";
  RunResult rep = run_process({avmon_binary(), "report", events.string(), "--out", out.string()});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  const std::string csv = read_file(out / "loudness.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "segment,start_media_time,end_media_time,start_wall_time,end_wall_time,duration_s,integrated_lufs,range_lu,"
            "max_momentary_lufs,max_short_term_lufs,true_peak_dbtp,preset,target_lufs,result,why");
  EXPECT_NE(csv.find("\n0,0.000,4.000,,,4.000,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",ebu_r128,-23.00,pass,\n"), std::string::npos) << csv;
  const std::string html = read_file(out / "report.html");
  EXPECT_NE(html.find("<svg id=\"loudness\""), std::string::npos);
  EXPECT_NE(html.find("<polyline class=\"short_term_lufs\""), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "availability.csv"));
  EXPECT_TRUE(fs::exists(out / "report.json"));
}

// Black from 5 s to 17 s of a 30 s clip: 13 severely errored seconds in a
// row, all unavailable (G.826: 10 in a row start unavailable time).
TEST(Reports, AvailabilityCountsTheSecondsOfAKnownBlack) {
  const fs::path dir = scratch_dir("reports_black"), clip = dir / "black.mp4";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=30", "-vf",
          "drawbox=enable='between(t,5,17)':color=black:t=fill", "-c:v", "libx264", "-preset", "ultrafast", "-g",
          "50", "-pix_fmt", "yuv420p", clip.string()});
  const fs::path events = dir / "events.jsonl";
  ASSERT_EQ(run_avmon(clip.string(), events).exit_status, 0);
  const auto black = defects(read_events(events), "black");
  ASSERT_EQ(black.size(), 1u);
  EXPECT_DOUBLE_EQ(black[0].start_s, 5.0);
  EXPECT_DOUBLE_EQ(black[0].end_s, 17.04);
  const fs::path out = dir / "report";
  RunResult rep = run_process({avmon_binary(), "report", events.string(), "--out", out.string()});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  EXPECT_EQ(read_file(out / "availability.csv"),
            "period,start_media_time,end_media_time,start_wall_time,seconds,errored_s,severely_errored_s,"
            "unavailable_s,availability_pct,black_s\n"
            "hour,0.000,30.000,,30,0,0,13,56.667,12.040\n"
            "day,0.000,30.000,,30,0,0,13,56.667,12.040\n");
  EXPECT_NE(read_file(out / "report.html").find("class=\"sev-critical\""), std::string::npos);
}

TEST(Reports, ReportCommandSaysWhatIsWrong) {
  const fs::path dir = scratch_dir("reports_errors");
  RunResult missing = run_process({avmon_binary(), "report", (dir / "nope.jsonl").string(), "--out", (dir / "o").string()});
  EXPECT_EQ(missing.exit_status, 3);
  EXPECT_NE(missing.err.find("cannot open " + (dir / "nope.jsonl").string() + ": No such file or directory"), std::string::npos)
      << missing.err;
  std::ofstream(dir / "empty.jsonl") << "not json\n";
  RunResult empty = run_process({avmon_binary(), "report", (dir / "empty.jsonl").string(), "--out", (dir / "o").string()});
  EXPECT_EQ(empty.exit_status, 3);
  EXPECT_NE(empty.err.find("no event lines"), std::string::npos) << empty.err;
  std::ofstream(dir / "one.jsonl") << R"({"kind":"stream.summary","media_time":1,"duration_s":1})" << "\n";
  std::ofstream(dir / "file") << "x";
  RunResult blocked = run_process({avmon_binary(), "report", (dir / "one.jsonl").string(), "--out", (dir / "file").string()});
  EXPECT_EQ(blocked.exit_status, 4);
  EXPECT_NE(blocked.err.find("cannot create " + (dir / "file").string()), std::string::npos) << blocked.err;
}

}  // namespace
}  // namespace avmon::test
