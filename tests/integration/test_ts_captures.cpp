// Every capture of TSDuck's test suite that avmon vendors (tests/data/tsduck)
// opens: exit 0 with events inside the capture, or exit 3 saying it holds no
// service. The scrambled France 2 is an operator's alarm, not an input error.
#include <gtest/gtest.h>

#include <fstream>

#include "integration/ts_support.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

fs::path capture(const std::string& name) { return fs::path(AVMON_SOURCE_DIR) / "tests/data/tsduck" / name; }

struct Outcome {
  RunResult run;
  std::vector<nlohmann::json> events;
  nlohmann::json summary;
};

Outcome analyse(const std::string& name, const std::vector<std::string>& extra = {}) {
  auto dir = scratch_dir("capture-" + name);
  Outcome o{run_avmon(capture(name).string(), dir / "e.jsonl", extra), {}, nullptr};
  if (o.run.exit_status == 0) {
    o.events = read_events(dir / "e.jsonl");
    o.summary = summary_of(o.events);
  }
  return o;
}

void expect_events_within_capture(const Outcome& o) {
  const double duration = o.summary["duration_s"].get<double>();
  EXPECT_GT(duration, 0.0);
  for (const auto& e : o.events) {
    if (!e.contains("media_time")) continue;
    EXPECT_GE(e["media_time"].get<double>(), 0.0) << e.dump();
    EXPECT_LE(e["media_time"].get<double>(), duration + 1e-6) << e.dump();
  }
}

TEST(TsCaptures, CapturesWithAServiceExitZeroWithEventsInsideThem) {
  for (const std::string name : {"test-012.ts", "test-026.ts", "test-026.csa.ts", "test-064.ts"}) {
    SCOPED_TRACE(name);
    Outcome o = analyse(name);
    ASSERT_EQ(o.run.exit_status, 0) << o.run.err;
    ASSERT_TRUE(o.summary.contains("transport"));
    expect_events_within_capture(o);
  }
}

TEST(TsCaptures, CapturesWithoutAServiceExitThreeSayingSo) {
  for (const std::string name : {"test-024.ts", "test-041.ts", "test-049.in.ts", "test-091.ts"}) {
    SCOPED_TRACE(name);
    Outcome o = analyse(name);
    EXPECT_EQ(o.run.exit_status, 3);
    EXPECT_NE(o.run.err.find(name + " holds no service"), std::string::npos) << o.run.err;
    EXPECT_NE(o.run.err.find("without a PAT and PMT"), std::string::npos) << o.run.err;
  }
}

TEST(TsCaptures, AScrambledServiceIsAScrambledDefectNotBlackFreezeOrSilence) {
  Outcome o = analyse("test-026.csa.ts");
  ASSERT_EQ(o.run.exit_status, 0) << o.run.err;
  auto scrambled = defects(o.events, "scrambled");
  ASSERT_EQ(scrambled.size(), 1u);
  EXPECT_EQ(scrambled[0].start_s, 0.0);
  EXPECT_NEAR(scrambled[0].end_s, o.summary["duration_s"].get<double>(), 1e-6);
  EXPECT_EQ(scrambled[0].start_event["severity"], "critical");
  EXPECT_EQ(scrambled[0].start_event["details"]["program_number"], 257);
  for (const std::string t : {"black", "freeze", "silence", "signal_loss", "corruption"})
    EXPECT_TRUE(defects(o.events, t).empty()) << t;
  const auto& service = o.summary["transport"]["service"];
  EXPECT_EQ(service["name"], "France 2");
  EXPECT_EQ(service["scrambled"], true);
  EXPECT_GT(o.summary["transport"]["tr101290"]["cat_error"].get<long>(), 0);  // scrambled, and no CAT

  Outcome clear = analyse("test-026.ts");
  ASSERT_EQ(clear.run.exit_status, 0) << clear.run.err;
  EXPECT_TRUE(defects(clear.events, "scrambled").empty());
  EXPECT_EQ(clear.summary["transport"]["service"]["scrambled"], false);
  EXPECT_EQ(clear.summary["transport"]["tr101290"]["cat_error"], 0);
  EXPECT_GT(clear.summary["frames"]["video"].get<long>(), 0);
}

TEST(TsCaptures, Test064IsCleanUnderTheStandardProfileAndLateUnderDvbLegacy) {
  Outcome standard = analyse("test-064.ts");
  ASSERT_EQ(standard.run.exit_status, 0) << standard.run.err;
  EXPECT_EQ(nonzero_counts(standard.summary), (std::map<std::string, long>{}));
  // Every checked indicator is listed, zero included (2.4 is for live inputs).
  EXPECT_EQ(standard.summary["transport"]["tr101290"].size(), 20u);
  EXPECT_FALSE(standard.summary["transport"]["tr101290"].contains("pcr_accuracy_error"));

  auto dir = scratch_dir("capture-064-legacy");
  {
    std::ofstream(dir / "c.yaml") << "transport:\n  pcr_profile: dvb_legacy\n";
  }
  Outcome legacy = analyse("test-064.ts", {"--config", (dir / "c.yaml").string()});
  ASSERT_EQ(legacy.run.exit_status, 0) << legacy.run.err;
  // 99 of test-064.pcr.csv's 100 PCR intervals exceed 40 ms (TsduckPcr).
  EXPECT_EQ(nonzero_counts(legacy.summary),
            (std::map<std::string, long>{{"pcr_error", 99}, {"pcr_repetition_error", 99}}));
  auto late = defects(legacy.events, "tr101290.pcr_repetition_error");
  ASSERT_EQ(late.size(), 1u);  // one lasting defect: errors closer than the hold-off
  EXPECT_EQ(late[0].start_event["detector"], "tr101290_p2");
  EXPECT_EQ(late[0].start_event["details"]["pid"], 256);
  EXPECT_EQ(late[0].start_event["details"]["indicator"], "2.3a");
}

TEST(TsCaptures, Test012ReportsItsMissingPidsAndTables) {
  auto dir = scratch_dir("capture-012-si");
  {
    std::ofstream(dir / "c.yaml") << "transport:\n  si_required: true\n";
  }
  Outcome o = analyse("test-012.ts", {"--config", (dir / "c.yaml").string()});
  ASSERT_EQ(o.run.exit_status, 0) << o.run.err;
  auto counts = nonzero_counts(o.summary);
  // tsanalyze: no SDT actual, no TDT, no PCR on 0x0424; and the video and
  // audio PIDs of its PMT never occur.
  EXPECT_GT(counts["sdt_error"], 0);
  EXPECT_GT(counts["tdt_error"], 0);
  EXPECT_GT(counts["pcr_repetition_error"], 0);
  EXPECT_GT(counts["pid_error"], 0);
  EXPECT_EQ(counts.count("pat_error") + counts.count("pmt_error") + counts.count("continuity_count_error"), 0u);
  expect_events_within_capture(o);
}

}  // namespace
}  // namespace avmon::test
