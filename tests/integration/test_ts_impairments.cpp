// Every TR 101 290 indicator against the impairment generator: a clean
// constant-rate multiplex damaged in known ways (avmon_ts_impair), whose
// counts avmon must report exactly, in stream.summary.transport.tr101290 and
// as tr101290.<indicator> defects; from a file, and sent live over UDP.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "integration/live_support.hpp"
#include "integration/ts_support.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::vector<std::string> impairments;
  std::string config;  // YAML
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"loss", {"--drop", "0x100:50", "--drop", "0x101:30:3"}, ""},
      {"duplicates_reorder", {"--duplicate", "0x100:60:1", "--duplicate", "0x101:40:2", "--reorder", "0x101:80"}, ""},
      {"transport_error", {"--tei", "5"}, ""},
      {"sync", {"--sync", "3:1", "--sync", "6:2"}, ""},
      {"crc", {"--break-crc", "0:10", "--break-crc", "0x1000:20", "--break-crc", "0x11:3"}, ""},
      {"pat", {"--withhold", "0:2.05:1.3"}, ""},
      {"pmt", {"--withhold", "0x1000:4.05:0.8"}, ""},
      {"sdt", {"--withhold", "0x11:3.2:3"}, ""},
      {"pid_pts", {"--withhold", "0x101:2.02:6.3"}, ""},
      {"pcr_late", {"--delay-pcr", "3.01:0.15", "--delay-pcr", "6.01:2.5"}, ""},
      {"pcr_dvb_legacy", {"--pcr-repetition-s", "0.04", "--delay-pcr", "3.01:0.06"}, "transport:\n  pcr_profile: dvb_legacy\n"},
      {"pcr_jump", {"--pcr-jump", "5:3"}, ""},
      {"pcr_accuracy", {"--jitter-pcr", "40:2000", "--jitter-pcr", "80:-1500"}, "transport:\n  pcr_accuracy: always\n"},
      {"cat", {"--scramble", "0x101:3.02:2.5"}, ""},
      {"si_tables",
       {"--inject-table", "0x10:0x50:2", "--inject-table", "0x11:0x70:3", "--inject-table", "0x12:0x40:4",
        "--inject-table", "0x13:0x4E:5", "--inject-table", "0x14:0x42:6", "--repeat-sdt", "8"},
       ""},
      {"unreferenced", {"--inject-pid", "0x300:2:3"}, ""},
  };
  return c;
}

// Impairs the clip; returns the file and its expected counts.
std::pair<fs::path, std::map<std::string, long>> impaired(const Case& c, const fs::path& dir) {
  std::vector<std::string> args = {cbr_clip().string(), (dir / (c.name + ".ts")).string()};
  args.insert(args.end(), c.impairments.begin(), c.impairments.end());
  args.insert(args.end(), {"--expect", (dir / (c.name + ".json")).string()});
  ts_impair(args);
  return {dir / (c.name + ".ts"), expected_counts(dir / (c.name + ".json"))};
}

// Each counted indicator is reported as defects whose counts add up to it.
void expect_defects_match(const std::vector<nlohmann::json>& events, const std::map<std::string, long>& counts) {
  std::map<std::string, long> from_defects;
  for (const auto& e : events)
    if (e.value("kind", "") == "defect.end" && e.value("type", "").rfind("tr101290.", 0) == 0)
      from_defects[e["type"].get<std::string>().substr(9)] += e["details"]["count"].get<long>();
  EXPECT_EQ(from_defects, counts);
}

TEST(TsImpairments, TheCleanClipHasNoError) {
  auto dir = scratch_dir("impair-clean");
  RunResult r = run_avmon(cbr_clip().string(), dir / "e.jsonl");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(dir / "e.jsonl");
  EXPECT_EQ(nonzero_counts(summary_of(events)), (std::map<std::string, long>{}));
}

// A packet sent twice (legal) is discarded as a decoder does: the PAT, PMT
// and SDT sent twice are neither a repetition (3.2) nor, when a section
// spans packets, a broken CRC.
TEST(TsImpairments, LegalDuplicatesOfTablesAreNoError) {
  auto dir = scratch_dir("impair-dup-tables");
  Case c{"dup_tables", {"--duplicate", "0:7:1", "--duplicate", "0x1000:9:1", "--duplicate", "0x11:3:1"}, ""};
  auto [file, expected] = impaired(c, dir);
  EXPECT_TRUE(expected.empty());
  RunResult r = run_avmon(file.string(), dir / "e.jsonl");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(nonzero_counts(summary_of(read_events(dir / "e.jsonl"))), (std::map<std::string, long>{}));
}

class TsImpairmentFiles : public ::testing::TestWithParam<Case> {};

TEST_P(TsImpairmentFiles, CountsAreExactlyTheGeneratorsAndEveryOneIsADefect) {
  const Case& c = GetParam();
  auto dir = scratch_dir("impair-" + c.name);
  auto [file, expected] = impaired(c, dir);
  ASSERT_FALSE(expected.empty()) << "the impairment must be counted somewhere";
  std::vector<std::string> extra;
  if (!c.config.empty()) {
    std::ofstream(dir / "c.yaml") << c.config;
    extra = {"--config", (dir / "c.yaml").string()};
  }
  RunResult r = run_avmon(file.string(), dir / "e.jsonl", extra);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(dir / "e.jsonl");
  EXPECT_EQ(nonzero_counts(summary_of(events)), expected);
  expect_defects_match(events, expected);
  // Analysing a file is deterministic.
  RunResult again = run_avmon(file.string(), dir / "e2.jsonl", extra);
  ASSERT_EQ(again.exit_status, 0);
  auto strip = [](std::vector<nlohmann::json> ev) {
    for (auto& e : ev) e.erase("wall_time");
    for (auto& e : ev)
      if (e.value("kind", "") == "stream.summary") e.erase("detectors");  // CPU seconds
    return ev;
  };
  EXPECT_EQ(strip(read_events(dir / "e2.jsonl")), strip(events));
}

INSTANTIATE_TEST_SUITE_P(Indicators, TsImpairmentFiles, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return p.param.name; });

TEST(TsImpairments, TheSameCountsOnALiveUdpFeed) {
  auto dir = scratch_dir("impair-live");
  // Impairments that keep every packet in its place (so that 2.4, checked
  // on live inputs, sees only the PCRs moved on purpose).
  Case c{"live",
         {"--tei", "3", "--break-crc", "0:50", "--withhold", "0:2.05:1.3", "--delay-pcr", "5.01:0.15",
          "--jitter-pcr", "180:2000", "--scramble", "0x101:8.02:1.5", "--inject-table", "0x10:0x50:9.5",
          "--inject-pid", "0x300:9.6:1.5"},
         ""};
  auto [file, expected] = impaired(c, dir);
  const int port = 23190;
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run("udp://127.0.0.1:" + std::to_string(port), dir / "events.jsonl",
                        write_config(dir, "input:\n  options:\n    fifo_size: \"100000\"\n    overrun_nonfatal: \"1\"\n")),
              dir / "avmon.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Child sender({ts_impair_binary(), "--send", "udp://127.0.0.1:" + std::to_string(port), file.string()},
               dir / "sender.log");
  ASSERT_EQ(sender.wait(30), 0) << sender.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  avmon.signal(SIGTERM);
  ASSERT_EQ(avmon.wait(10), 0) << avmon.log();
  watch.poll();
  auto summary = summary_of(watch.events());
  EXPECT_EQ(nonzero_counts(summary), expected) << avmon.log();
  expect_defects_match(watch.events(), expected);
  EXPECT_TRUE(summary["transport"]["tr101290"].contains("pcr_accuracy_error"));
}

}  // namespace
}  // namespace avmon::test
