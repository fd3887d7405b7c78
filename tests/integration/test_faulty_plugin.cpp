// An out-of-tree detector that throws (tests/plugin/unruly_plugin.cpp): an
// int or a std::exception, from any call the host makes. Caught at the
// boundary, counted, and after pipeline.detector_max_failures failures in a
// row the detector is disabled with a detector_failed event; the other
// detectors' events are unchanged. A crash (SIGSEGV) cannot be caught: the
// process ends, naming the detector.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// 6 s 320x240 25 fps, black 2-4 s.
const fs::path& clip() {
  static const fs::path p = [] {
    auto path = scratch_dir("faulty-plugin-clip") / "black.mkv";
    ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=6", "-vf",
            "drawbox=enable='between(t,2,3.999)':color=black:t=fill", "-c:v", "libx264", "-preset", "veryfast",
            "-g", "25", "-pix_fmt", "yuv420p", path.string()});
    return path;
  }();
  return p;
}

fs::path config(const fs::path& dir, const std::string& unruly) {
  fs::path p = dir / "avmon.yaml";
  std::ofstream(p) << "plugins: [" << AVMON_UNRULY_PLUGIN_PATH << "]\ndetectors:\n  unruly:\n" << unruly;
  return p;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> other_defects(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (const auto& d : defects(events))
    if (d.start_event.value("detector", "") != "unruly")
      out.push_back(d.type + " " + std::to_string(d.start_s) + "-" + std::to_string(d.end_s));
  return out;
}

TEST(FaultyPlugin, ThrowingAnythingFromEveryPictureDisablesTheDetectorAfterTheBoundAndTheRestGoesOn) {
  auto dir = scratch_dir("faulty-plugin-throw");
  RunResult reference = run_avmon(clip().string(), dir / "reference.jsonl");
  ASSERT_EQ(reference.exit_status, 0) << reference.err;
  const auto expected = other_defects(read_events(dir / "reference.jsonl"));
  ASSERT_EQ(expected.size(), 1u);  // black

  for (const std::string fault : {"throw_int", "throw_std"}) {
    SCOPED_TRACE(fault);
    auto events_path = dir / (fault + ".jsonl");
    RunResult r = run_avmon(clip().string(), events_path,
                            {"--config", config(dir, "    fault: " + fault + "\n").string()});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    auto events = read_events(events_path);
    ASSERT_FALSE(events.empty());
    const auto& summary = events.back();
    ASSERT_EQ(summary.value("kind", ""), "stream.summary");
    EXPECT_EQ(summary.value("/detectors/unruly/state"_json_pointer, ""), "disabled");
    // Ten failed pictures, then called no more.
    EXPECT_EQ(summary.value("/detectors/unruly/errors"_json_pointer, 0), 10);
    EXPECT_EQ(count(r.err, "detector unruly failed in on_video"), 1u) << r.err;
    EXPECT_EQ(count(r.err, "detector unruly disabled after 10 failed calls in a row"), 1u) << r.err;
    auto failed = defects(events, "detector_failed");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].start_event.value("detector", ""), "unruly");
    EXPECT_EQ(failed[0].start_event.value("severity", ""), "major");
    EXPECT_DOUBLE_EQ(failed[0].start_s, 0.36);  // the tenth picture
    EXPECT_DOUBLE_EQ(failed[0].end_s, 6.0);
    EXPECT_EQ(failed[0].start_event.value("/details/error"_json_pointer, ""),
              fault == "throw_int" ? "an exception that is not a std::exception" : "unruly fails in video");
    EXPECT_EQ(other_defects(events), expected);
  }
}

TEST(FaultyPlugin, ThrowsFromConfigureFinishSummaryAndLevelsAreCaughtAndCounted) {
  auto dir = scratch_dir("faulty-plugin-calls");
  for (const std::string where : {"configure", "finish", "summary", "levels"}) {
    SCOPED_TRACE(where);
    auto events_path = dir / (where + ".jsonl");
    std::vector<std::string> extra = {"--config", config(dir, "    fault: throw_int\n    fault_in: " + where + "\n").string()};
    // levels() is asked for only while the HTTP surface is on.
    if (where == "levels") extra.insert(extra.end(), {"--http", "127.0.0.1:0"});
    RunResult r = run_avmon(clip().string(), events_path, extra);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    auto events = read_events(events_path);
    ASSERT_FALSE(events.empty());
    const auto& summary = events.back();
    ASSERT_EQ(summary.value("kind", ""), "stream.summary");
    EXPECT_GE(summary.value("/detectors/unruly/errors"_json_pointer, 0), where == "summary" ? 0 : 1);
    EXPECT_EQ(summary.value("/detectors/unruly/state"_json_pointer, ""), "ok");
    EXPECT_NE(r.err.find("detector unruly failed in " + where), std::string::npos) << r.err;
    // It still reports what it sees: dark while the picture is black.
    auto dark = defects(events, "dark");
    ASSERT_EQ(dark.size(), 1u);
    EXPECT_DOUBLE_EQ(dark[0].start_s, 2.0);
    EXPECT_FALSE(summary.contains("unruly") && where == "summary") << "a summary that threw is left out";
  }
}

TEST(FaultyPlugin, ACrashEndsTheProcessAndTheMessageNamesTheDetector) {
  auto dir = scratch_dir("faulty-plugin-crash");
  RunResult r = run_avmon(clip().string(), dir / "events.jsonl",
                          {"--config", config(dir, "    fault: segv\n    fault_from_picture: 25\n").string()});
  EXPECT_EQ(r.exit_status, 128 + SIGSEGV) << r.err;
  EXPECT_NE(r.err.find("avmon: fatal signal SIGSEGV in detector 'unruly'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace avmon::test
