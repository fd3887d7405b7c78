// The command-line contract (ARCHITECTURE.md): exit statuses, messages on bad
// input, exact events on generated clips, determinism, the demo.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// 14 s of moving test picture and pink-noise programme sound with a black
// picture at 2-4 s, a frozen picture at 5-8.5 s and silence at 10-12.5 s.
const fs::path& defect_clip() {
  static const fs::path clip = [] {
    auto dir = scratch_dir("defect-clip");
    auto path = dir / "defects.mp4";
    ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=14", "-f", "lavfi", "-i",
            "anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=7:d=14", "-filter_complex",
            "[0:v]drawbox=enable='between(t,2,3.999)':color=black:t=fill,split[a][b];"
            "[a][b]freezeframes=first=125:last=212:replace=125[v];"
            "[1:a]volume=enable='between(t,10,12.499)':volume=0,aformat=channel_layouts=stereo[s]",
            "-map", "[v]", "-map", "[s]", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt",
            "yuv420p", "-c:a", "aac", "-b:a", "128k", path.string()});
    return path;
  }();
  return clip;
}

void expect_interval(const std::vector<Interval>& found, double start_s, double end_s, double tolerance_s) {
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].start_s, start_s, tolerance_s);
  EXPECT_NEAR(found[0].end_s, end_s, tolerance_s);
}

TEST(Cli, ReportsBlackFreezeAndSilenceAtTheirExactTimes) {
  auto events_path = scratch_dir("exact") / "events.jsonl";
  RunResult r = run_avmon(defect_clip().string(), events_path);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  expect_interval(defects(events, "black"), 2.0, 4.0, 0.05);
  expect_interval(defects(events, "freeze"), 5.0, 8.5, 0.05);
  expect_interval(defects(events, "silence"), 10.0, 12.5, 0.05);
  for (const auto& e : events) {
    if (e["kind"] == "defect.start" || e["kind"] == "defect.end") {
      for (const char* key : {"kind", "id", "stream", "type", "detector", "media_time", "wall_time", "severity",
                              "details"})
        EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
      EXPECT_EQ(e["stream"], "defects.mp4");
    }
  }
  ASSERT_FALSE(events.empty());
  const auto& summary = events.back();
  EXPECT_EQ(summary["kind"], "stream.summary");
  EXPECT_NEAR(summary["media_time"].get<double>(), 14.0, 0.05);
  EXPECT_EQ(summary["frames"]["video"], 350);
  EXPECT_EQ(summary["decode_errors"], 0);
  EXPECT_EQ(summary["end_reason"], "end of input");
}

TEST(Cli, TheSameFileGivesTheSameEventsEveryTime) {
  auto dir = scratch_dir("determinism");
  auto strip = [](std::vector<nlohmann::json> events) {
    for (auto& e : events) {
      e.erase("wall_time");
      e.erase("detectors");  // per-detector CPU time differs from run to run
    }
    return events;
  };
  ASSERT_EQ(run_avmon(defect_clip().string(), dir / "a.jsonl").exit_status, 0);
  ASSERT_EQ(run_avmon(defect_clip().string(), dir / "b.jsonl").exit_status, 0);
  auto a = strip(read_events(dir / "a.jsonl"));
  auto b = strip(read_events(dir / "b.jsonl"));
  EXPECT_GT(a.size(), 6u);
  EXPECT_EQ(a, b);
}

TEST(Cli, EventsGoToStdoutByDefault) {
  RunResult r = run_process({avmon_binary(), "run", "--input", defect_clip().string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("\"kind\":\"defect.start\""), std::string::npos);
  EXPECT_NE(r.out.find("\"kind\":\"stream.summary\""), std::string::npos);
  // Each line is one JSON object, "kind" first so that people can read it too.
  EXPECT_EQ(r.out.rfind("{\"kind\":", 0), 0u);
}

TEST(Cli, MissingFileExitsThreeAndSaysWhy) {
  auto events = scratch_dir("missing") / "e.jsonl";
  RunResult r = run_avmon("/nonexistent/clip.ts", events);
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_NE(r.err.find("cannot open /nonexistent/clip.ts: No such file or directory"), std::string::npos) << r.err;
}

TEST(Cli, GarbageBytesExitThreeAndSayWhy) {
  auto dir = scratch_dir("garbage");
  {
    std::ofstream out(dir / "garbage.ts", std::ios::binary);
    std::uint32_t x = 12345;
    for (int i = 0; i < 200000; ++i) {
      x = x * 1664525u + 1013904223u;
      out.put(static_cast<char>(x >> 24));
    }
  }
  RunResult r = run_avmon((dir / "garbage.ts").string(), dir / "e.jsonl");
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_NE(r.err.find("garbage.ts"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("Invalid data found") != std::string::npos ||
              r.err.find("not media") != std::string::npos ||
              r.err.find("no audio or video could be decoded") != std::string::npos)
      << r.err;
}

TEST(Cli, TruncatedFileKeepsWhatWasDetected) {
  auto dir = scratch_dir("truncated");
  auto cut = dir / "cut.mp4";
  // A transport stream survives truncation the way a recording does: mp4
  // needs its index, so cut a TS copy of the clip.
  ffmpeg({"-i", defect_clip().string(), "-c", "copy", (dir / "full.ts").string()});
  auto size = fs::file_size(dir / "full.ts");
  fs::copy_file(dir / "full.ts", dir / "cut.ts");
  fs::resize_file(dir / "cut.ts", size * 45 / 100);  // ends mid-packet, around 6 s
  RunResult r = run_avmon((dir / "cut.ts").string(), dir / "e.jsonl");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(dir / "e.jsonl");
  expect_interval(defects(events, "black"), 2.0, 4.0, 0.1);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["kind"], "stream.summary");
  double end = events.back()["media_time"].get<double>();
  EXPECT_GT(end, 4.5);
  EXPECT_LT(end, 9.0);
  // A defect open when the input broke off is closed at the last media time.
  for (const auto& d : defects(events)) EXPECT_LE(d.end_s, end + 1e-6);
}

TEST(Cli, UnknownConfigKeyExitsTwoAndNamesKeyAndPosition) {
  auto dir = scratch_dir("badconfig");
  std::ofstream(dir / "bad.yaml") << "detectors:\n  black:\n    min_duration_s: 1\n    treshold: 3\n";
  RunResult r = run_process({avmon_binary(), "run", "--input", defect_clip().string(), "--config",
                             (dir / "bad.yaml").string(), "--events", (dir / "e.jsonl").string()});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find((dir / "bad.yaml").string() + ":4:5: detectors.black.treshold: unknown option"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "e.jsonl")) << "nothing is analysed with a bad configuration";
}

TEST(Cli, CheckConfigAcceptsTheShippedConfigsAndRejectsBadOnes) {
  for (const auto& entry : fs::directory_iterator(fs::path(AVMON_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    RunResult r = run_process({avmon_binary(), "check-config", entry.path().string()});
    EXPECT_EQ(r.exit_status, 0) << entry.path() << ": " << r.err;
  }
  auto dir = scratch_dir("checkconfig");
  std::ofstream(dir / "range.yaml") << "detectors:\n  freeze:\n    min_duration_s: -1\n";
  RunResult r = run_process({avmon_binary(), "check-config", (dir / "range.yaml").string()});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("range.yaml:3:5: detectors.freeze.min_duration_s: value -1 out of range"), std::string::npos)
      << r.err;
}

// Once exit status 1 ("internal error", no position) for the first two.
TEST(Cli, ConfigurationsTheLoaderCannotTakeExitTwoWithAPlace) {
  auto dir = scratch_dir("config-edges");
  std::ofstream(dir / "complex-key.yaml") << "? [a, b] : 1\n";
  fs::create_directory(dir / "config.d");
  const std::vector<std::pair<fs::path, std::string>> cases = {
      {dir / "complex-key.yaml", ":1:3: a key must be a plain name, not a list, a mapping or empty"},
      {dir / "config.d", ": cannot read configuration file: it is a directory"},
  };
  for (const auto& [path, message] : cases) {
    RunResult r = run_process({avmon_binary(), "check-config", path.string()});
    EXPECT_EQ(r.exit_status, 2) << path << ": " << r.err;
    EXPECT_NE(r.err.find("configuration error: " + path.string() + message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  }
}

// Numbers in messages as people write them: a million is 1000000, not
// 1e+06, and ten seconds 10 s, not 10.000000 s (the range check once wrote
// "value 1e+07", the option tables "range 1 .. 1e+06").
TEST(Cli, NumbersInMessagesAreWrittenAsPeopleWriteThem) {
  auto dir = scratch_dir("numbers");
  std::ofstream(dir / "big.yaml") << "notifiers:\n  queue_size: 10000000\n";
  std::ofstream(dir / "small.yaml") << "input:\n  open_timeout_s: 0.0500001\n";
  RunResult big = run_process({avmon_binary(), "check-config", (dir / "big.yaml").string()});
  EXPECT_EQ(big.exit_status, 2);
  EXPECT_NE(big.err.find("big.yaml:2:3: notifiers.queue_size: value 10000000 out of range [1, 1000000] events"),
            std::string::npos)
      << big.err;
  RunResult small = run_process({avmon_binary(), "check-config", (dir / "small.yaml").string()});
  EXPECT_NE(small.err.find("small.yaml:2:3: input.open_timeout_s: value 0.05 out of range [0.1, 3600] s"),
            std::string::npos)
      << small.err;
  const std::regex unreadable(R"(\b\d+(\.\d+)?e[+-]\d+\b|\b\d+\.\d{6}\b)");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"detectors"}, {"check-config", "--print-defaults"}, {"check-config", "--print-reference"}}) {
    std::vector<std::string> argv = {avmon_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run_process(argv);
    ASSERT_EQ(r.exit_status, 0) << args[0];
    std::smatch m;
    EXPECT_FALSE(std::regex_search(r.out, m, unreadable)) << args.back() << ": " << m.str(0);
  }
}

TEST(Cli, DefaultYamlDocumentsEveryOptionWithItsDefault) {
  RunResult r = run_process({avmon_binary(), "check-config", "--print-defaults"});
  ASSERT_EQ(r.exit_status, 0);
  std::ifstream in(fs::path(AVMON_SOURCE_DIR) / "configs" / "default.yaml");
  std::string shipped((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(shipped, r.out) << "configs/default.yaml is stale: regenerate it with "
                               "`avmon check-config --print-defaults > configs/default.yaml`";
}

TEST(Cli, DetectorsListsEveryDetectorWithItsOptions) {
  RunResult r = run_process({avmon_binary(), "detectors"});
  ASSERT_EQ(r.exit_status, 0);
  for (const char* name : {"black (built-in)", "freeze (built-in)", "silence (built-in)", "min_duration_s (number"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
}

TEST(Cli, BadUsageExitsTwo) {
  EXPECT_EQ(run_process({avmon_binary(), "run", "--no-such-flag"}).exit_status, 2);
  EXPECT_EQ(run_process({avmon_binary()}).exit_status, 2);
  RunResult r = run_process({avmon_binary(), "run"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("no input"), std::string::npos);
}

TEST(Cli, AudioOnlyAndVideoOnlyInputsWork) {
  auto dir = scratch_dir("single-media");
  ffmpeg({"-i", defect_clip().string(), "-vn", "-c:a", "copy", (dir / "audio.m4a").string()});
  ffmpeg({"-i", defect_clip().string(), "-an", "-c:v", "copy", (dir / "video.mp4").string()});
  RunResult a = run_avmon((dir / "audio.m4a").string(), dir / "a.jsonl");
  ASSERT_EQ(a.exit_status, 0) << a.err;
  auto ea = read_events(dir / "a.jsonl");
  expect_interval(defects(ea, "silence"), 10.0, 12.5, 0.05);
  EXPECT_TRUE(defects(ea, "black").empty());
  RunResult v = run_avmon((dir / "video.mp4").string(), dir / "v.jsonl");
  ASSERT_EQ(v.exit_status, 0) << v.err;
  auto ev = read_events(dir / "v.jsonl");
  expect_interval(defects(ev, "black"), 2.0, 4.0, 0.05);
  EXPECT_TRUE(defects(ev, "silence").empty());
}

TEST(Cli, DemoFindsItsKnownDefectsAndExitsZero) {
  auto events_path = scratch_dir("demo") / "demo.jsonl";
  RunResult r = run_process({avmon_binary(), "demo", "--fast", "--events", events_path.string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  expect_interval(defects(events, "black"), 10.0, 14.0, 0.05);
  expect_interval(defects(events, "freeze"), 25.0, 29.0, 0.05);
  expect_interval(defects(events, "silence"), 40.0, 44.0, 0.05);
  EXPECT_EQ(defects(events).size(), 3u) << "the demo has exactly three defects";
  // Not a terminal: the events also go to stdout as JSON lines.
  EXPECT_NE(r.out.find("\"kind\":\"stream.summary\""), std::string::npos);
}

}  // namespace
}  // namespace avmon::test

namespace avmon::test {
namespace {

TEST(Cli, SummaryCarriesTheTransportLevelAudioVideoSkew) {
  auto dir = scratch_dir("transport-skew");
  auto clip = dir / "late_audio.ts";
  // The same programme with its audio timestamps 300 ms later than the video's.
  ffmpeg({"-i", defect_clip().string(), "-itsoffset", "0.3", "-i", defect_clip().string(), "-map", "0:v", "-map",
          "1:a", "-c", "copy", clip.string()});
  RunResult r = run_avmon(clip.string(), dir / "e.jsonl");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(dir / "e.jsonl");
  ASSERT_FALSE(events.empty());
  const auto& transport = events.back()["details"]["transport"];
  ASSERT_TRUE(transport.is_object()) << events.back().dump();
  // AAC priming moves the first audio timestamp by up to 1024 samples (21 ms).
  EXPECT_NEAR(transport["first_timestamp_skew_ms"].get<double>(), 300.0, 30.0);
  EXPECT_GE(transport["max_abs_skew_ms"].get<double>(), std::abs(transport["mean_skew_ms"].get<double>()));
}

}  // namespace
}  // namespace avmon::test
