// Reports end to end: the loudness log of a generated clip against FFmpeg's
// ebur128 filter on the same segments, the AC-3 dialnorm and SCTE-35 splice
// points of a generated MPEG-TS in the segments, the availability of a clip
// with black at known times, and `avmon report` rebuilding the tables from
// the events.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "ancillary/scte35.hpp"
#include "integration/ops/browser.hpp"
#include "integration/ops/support.hpp"
#include "support/run.hpp"
#include "support/ts_sections.hpp"

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
            "max_momentary_lufs,max_short_term_lufs,true_peak_dbtp,preset,target_lufs,result,why,dialnorm_db,"
            "dialnorm_offset_lu,start_reason,splice_event_id,part");
  EXPECT_NE(csv.find("\n0,0.000,4.000,,,4.000,"), std::string::npos) << csv;
  // PCM declares no dialnorm; fixed segments start at the start and on the interval.
  EXPECT_NE(csv.find(",ebu_r128,-23.00,pass,,,,interval,,programme\n"), std::string::npos) << csv;
  const std::string html = read_file(out / "report.html");
  EXPECT_NE(html.find("<svg id=\"loudness\""), std::string::npos);
  EXPECT_NE(html.find("<polyline class=\"short_term_lufs\""), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "availability.csv"));
  EXPECT_TRUE(fs::exists(out / "report.json"));
}

// 20 s of H.264 and AC-3 in MPEG-TS, declared -23 dB: pink noise near
// -23 LUFS, 6 dB louder from 7 s to 12 s (the break), black pictures from
// 14 s to 17 s; a splice_insert out (event 1234) for media time ~7 s and its
// return for ~12 s carried on PID 500 five seconds ahead; 10 s segments that
// also end at splice points. The report page is then opened in Chromium
// (docs/report.png and docs/report-sample/ come from here, kept with
// AVMON_KEEP_TEST_FILES=1).
TEST(Reports, DialnormAndSplicePointsInTheSegments) {
  const fs::path dir = scratch_dir("reports_ac3_splices"), clip = dir / "ac3.ts";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=20", "-f", "lavfi", "-i",
          "anoisesrc=color=pink:amplitude=0.38:sample_rate=48000:seed=3:d=20,"
          "volume='if(between(t,7,12),2,1)':eval=frame",
          "-vf", "drawbox=enable='between(t,14,16.999)':color=black:t=fill", "-c:v", "libx264", "-preset",
          "ultrafast", "-g", "25", "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "ac3", "-ac", "2", "-b:a", "192k",
          "-dialnorm", "-23", "-f", "mpegts", clip.string()});
  const auto ts = test::read_file_bytes(clip.string());
  const auto video = test::pes_of_pid(ts, 0x100);
  ASSERT_FALSE(video.empty());
  ASSERT_TRUE(video.front().pts);
  const std::int64_t first_pts = *video.front().pts;
  // The packet where the video reaches `s` seconds past its first picture.
  auto packet_at = [&](double s) {
    for (const auto& p : video)
      if (p.pts && *p.pts >= first_pts + static_cast<std::int64_t>(s * 90000)) return p.first_packet;
    return video.back().first_packet;
  };
  auto cue = [&](bool out, double splice_s) {
    scte35::SpliceInfoSection sec;
    scte35::SpliceInsert i;
    i.event_id = 1234;
    i.out_of_network = out;
    i.program_splice = true;
    i.time = {true, static_cast<std::uint64_t>(first_pts + static_cast<std::int64_t>(splice_s * 90000))};
    sec.command = i;
    return scte35::write(sec);
  };
  const auto injected = test::insert_sections(ts, {{packet_at(2), cue(true, 7)}, {packet_at(7), cue(false, 12)}}, 500);
  const fs::path cued = dir / "cued.ts";
  std::ofstream(cued, std::ios::binary).write(reinterpret_cast<const char*>(injected.data()), static_cast<long>(injected.size()));
  const fs::path events = dir / "events.jsonl";
  RunResult r = run_avmon(cued.string(), events,
                          {"--config", write_config(dir, "input:\n  scte35_pid: 500\nreports:\n  enabled: true\n  "
                                                         "segment_s: 10\n  segment_on: [interval, scte35]\n").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto all = read_events(events);
  const auto cues = of_kind(all, "scte35.cue");
  ASSERT_EQ(cues.size(), 2u);
  const double out_s = cues[0]["details"]["splice_media_time"].get<double>();
  const double in_s = cues[1]["details"]["splice_media_time"].get<double>();
  const auto segments = of_kind(all, "report.loudness");
  ASSERT_EQ(segments.size(), 4u);
  // Segments end at the 100 ms step nearest each splice point.
  const double ends[] = {out_s, 10.0, in_s};
  const char* reasons[] = {"start", "splice_out", "interval", "splice_in"};
  const char* parts[] = {"programme", "break", "break", "programme"};
  const bool pass[] = {true, false, false, true};
  // The clip's audio alone, from its first sample, for ffmpeg to measure.
  const fs::path wav = dir / "audio.wav";
  ffmpeg({"-i", clip.string(), "-vn", "-c:a", "pcm_s16le", wav.string()});
  for (size_t k = 0; k < segments.size(); ++k) {
    const auto& d = segments[k]["details"];
    SCOPED_TRACE(d.dump());
    if (k < 3) {
      EXPECT_NEAR(d["end_media_time"].get<double>(), ends[k], 0.051);
    }
    EXPECT_EQ(d["start_reason"], reasons[k]);
    EXPECT_EQ(d["part"], parts[k]);
    EXPECT_EQ(d["splice_event_id"], k == 1 || k == 3 ? nlohmann::json(1234) : nlohmann::json(nullptr));
    // What the encoder was told, and how far the programme is from it: the
    // programme matches it, the louder break does not.
    EXPECT_EQ(d["dialnorm_db"], -23);
    const double integrated = d["integrated_lufs"].get<double>();
    EXPECT_NEAR(d["dialnorm_offset_lu"].get<double>(), integrated + 23, 0.011);
    EXPECT_EQ(d["pass"], pass[k]);
    bool named = false;
    for (const auto& w : d["why"]) named = named || w.get<std::string>().find("above dialnorm -23 dB") != std::string::npos;
    EXPECT_EQ(named, !pass[k]);
    const double start = d["start_media_time"].get<double>(), end = d["end_media_time"].get<double>();
    const double theirs = ffmpeg_integrated(wav, start, end);
    std::cout << "segment " << k << " [" << start << ", " << end << ") " << d["start_reason"].get<std::string>()
              << ": avmon " << integrated << " LUFS, ffmpeg ebur128 " << theirs << " LUFS; dialnorm -23, offset "
              << d["dialnorm_offset_lu"] << " LU\n";
    EXPECT_NEAR(integrated, theirs, 0.3);
  }
  const fs::path out = dir / "report";
  RunResult rep = run_process({avmon_binary(), "report", events.string(), "--out", out.string()});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  const std::string csv = read_file(out / "loudness.csv");
  EXPECT_NE(csv.find(",-23,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",splice_out,1234,break\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",splice_in,1234,programme\n"), std::string::npos) << csv;
  const std::string html = read_file(out / "report.html");
  EXPECT_NE(html.find("<td>-23 ("), std::string::npos);
  const auto json = nlohmann::json::parse(read_file(out / "report.json"));
  EXPECT_EQ(json["loudness"][1]["splice_event_id"], 1234);
  EXPECT_EQ(json["loudness"][1]["dialnorm_db"], -23);

  // The page as a browser draws it: both splice points marked, the break
  // shaded, every segment's integrated level, the black on the timeline.
  AVMON_REQUIRE_PROGRAM(chromium, "chromium");
  Browser browser(chromium, dir / "chromium", 1100, 900);
  browser.open("file://" + (out / "report.html").string());
  EXPECT_EQ(browser.eval("document.querySelectorAll('#loudness line.splice').length"), 2);
  EXPECT_EQ(browser.eval("document.querySelectorAll('#loudness rect.break').length"), 2);
  EXPECT_EQ(browser.eval("document.querySelectorAll('#loudness line.integrated.fail').length"), 2);
  EXPECT_EQ(browser.eval("document.querySelectorAll('#timeline rect.sev-critical').length"), 1);
  EXPECT_GT(browser.eval("document.getElementById('loudness').getBoundingClientRect().width").get<double>(), 900);
  browser.screenshot(dir / "report.png");
  EXPECT_GT(fs::file_size(dir / "report.png"), 10000u);
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
