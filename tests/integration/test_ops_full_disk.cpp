// Output that cannot be written: the events file on a full device
// (/dev/full) and a spool past the process's file-size limit (prlimit
// --fsize: every file the process writes past that size fails with EFBIG,
// as on a full disk, and needs no root). Nothing is lost silently: each
// failure is logged and counted, reported as an output.error event and in
// the summary, and a run that lost events exits with status 4.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> parse_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(OpsFullDisk, EventsToAFullDeviceAreReportedAndTheRunExitsWithStatus4) {
  auto dir = scratch_dir("full-events");
  auto clip = make_clip(dir, "clip.mp4", 4, "drawbox=enable='between(t,1,2.999)':color=black:t=fill");
  RunResult r = run_avmon(clip.string(), "/dev/full", {}, 120);
  EXPECT_EQ(r.exit_status, 4) << r.err;
  EXPECT_NE(r.err.find("events: write failed: cannot write events to /dev/full: No space left on device"),
            std::string::npos)
      << r.err;
  // Every line failed: black start and end, and the summary at least.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(but (\d+) event\(s\) could not be written)"))) << r.err;
  EXPECT_GE(std::stoi(m[1]), 3);
}

// The receiver is up, the spool cannot be written: events are delivered from
// memory, and the failure is reported on the other outputs.
TEST(OpsFullDisk, ASpoolThatCannotBeWrittenKeepsEventsInMemoryAndSaysSo) {
  auto dir = scratch_dir("full-spool-up");
  auto clip = make_clip(dir, "clip.mp4", 4, "drawbox=enable='between(t,1,2.999)':color=black:t=fill");
  int port = free_port();
  Process receiver(receiver_argv(port, dir / "hook.jsonl"), dir, "receiver");
  ASSERT_TRUE(wait_for_port(port, 10));
  std::ofstream(dir / "avmon.yaml") << "notifiers:\n  spool_dir: " << (dir / "spool").string()
                                    << "\n  webhook:\n    url: http://127.0.0.1:" << port << "/hook\n";
  // Events go to stdout, a pipe: the limit is for files.
  RunResult r = run_process({"prlimit", "--fsize=100", "--", avmon_binary(), "run", "--input", clip.string(), "--events",
                             "-", "--config", (dir / "avmon.yaml").string()},
                            120);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("spool/webhook: write failed: cannot write"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  auto events = parse_lines(r.out);
  ASSERT_GE(events.size(), 4u);
  // The first failure is an event on every output ...
  nlohmann::json error;
  for (const auto& e : events)
    if (e["kind"] == "output.error") error = e;
  ASSERT_TRUE(error.is_object()) << r.out;
  EXPECT_EQ(error["details"]["output"], "spool/webhook");
  EXPECT_EQ(error["details"]["events_lost"], 0);
  // ... and the summary counts every failed write.
  const auto& summary = events.back();
  ASSERT_EQ(summary["kind"], "stream.summary");
  const auto& spool = summary["output_errors"]["spool/webhook"];
  EXPECT_EQ(spool["events_lost"], 0);
  EXPECT_GE(spool["write_errors"].get<int>(), 3);
  // Everything reached the receiver, and no torn file was left in the spool.
  EXPECT_TRUE(wait_until([&] { return read_json_lines(dir / "hook.jsonl").size() >= events.size(); }, 10));
  EXPECT_EQ(files_in(dir / "spool"), 0u);
}

// The receiver is down, the spool cannot be written: the events are lost,
// and the run says so instead of claiming they wait in the spool.
TEST(OpsFullDisk, ASpoolThatCannotBeWrittenWithTheReceiverDownLosesEventsLoudly) {
  auto dir = scratch_dir("full-spool-down");
  auto clip = make_clip(dir, "clip.mp4", 4, "drawbox=enable='between(t,1,2.999)':color=black:t=fill");
  std::ofstream(dir / "avmon.yaml") << "notifiers:\n  drain_timeout_s: 0\n  spool_dir: " << (dir / "spool").string()
                                    << "\n  webhook:\n    url: http://127.0.0.1:" << free_port() << "/hook\n";
  RunResult r = run_process({"prlimit", "--fsize=100", "--", avmon_binary(), "run", "--input", clip.string(), "--events",
                             "-", "--config", (dir / "avmon.yaml").string()},
                            120);
  EXPECT_EQ(r.exit_status, 4) << r.err;
  auto events = parse_lines(r.out);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back()["kind"], "stream.summary");
  // Every event of the run was for the webhook, and none of them is kept.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(spool/webhook: (\d+) event\(s\) lost: not delivered before exit)")))
      << r.err;
  EXPECT_EQ(std::stoul(m[1]), events.size());
  EXPECT_EQ(r.err.find("left in the spool"), std::string::npos) << r.err;
  EXPECT_EQ(files_in(dir / "spool"), 0u);
}

}  // namespace
}  // namespace avmon::test
