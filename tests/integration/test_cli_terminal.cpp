// The command line as a person meets it: `avmon run FILE`, the progress line
// on a terminal (and nowhere else), machine-readable --progress, --version,
// suggestions for typos, the health check the container image runs.
#include <signal.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// 8 s with a black picture from 2 to 4 s: exactly one defect.
const fs::path& black_clip() {
  static const fs::path clip =
      make_clip(scratch_dir("terminal-clip"), "black.mp4", 8, "drawbox=enable='between(t,2,3.999)':color=black:t=fill");
  return clip;
}

// Runs a shell command line under `script`, so that avmon's stdout and
// stderr are a terminal; returns what the terminal received.
RunResult on_terminal(const std::string& command) {
  std::string script = find_program("script");
  if (script.empty()) return {-1, "", "script(1) is not installed"};
  return run_process({script, "-qec", command, "/dev/null"});
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

TEST(CliTerminal, RunTakesTheFileAsItsArgument) {
  auto dir = scratch_dir("run-file");
  RunResult r = run_process({avmon_binary(), "run", black_clip().string(), "--events", (dir / "e.jsonl").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto found = defects(read_events(dir / "e.jsonl"), "black");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0].start_s, 2.0, 0.05);
  // Both forms at once is one input too many.
  EXPECT_EQ(run_process({avmon_binary(), "run", black_clip().string(), "--input", "x.ts"}).exit_status, 2);
}

TEST(CliTerminal, ProgressLineOnATerminalEndsAtTheFullDurationWithTheDefectCount) {
  auto dir = scratch_dir("progress-tty");
  RunResult r = on_terminal(avmon_binary() + " run --realtime " + quoted(black_clip().string()) + " --events " +
                            quoted((dir / "e.jsonl").string()));
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  // Redrawn in place twice a second with carriage returns; the last one
  // stays, then a newline.
  size_t redraws = 0;
  for (size_t at = 0; (at = r.out.find("\rtime=", at)) != std::string::npos; ++at) ++redraws;
  EXPECT_GE(redraws, 12u) << r.out;
  EXPECT_NE(r.out.find("\rtime=00:00:03."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("defects=1 (1 active)"), std::string::npos) << "during the black picture: " << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"(\rtime=00:00:0[78]\.\d\d / 00:00:08\.\d\d  100%  speed=[0-9.]+x  defects=1\r?\n)")))
      << r.out;
  // The log lines after it start on a line of their own.
  EXPECT_NE(r.out.find("avmon info: finished: end of input"), std::string::npos) << r.out;
}

TEST(CliTerminal, NoProgressLineWhenStderrIsNotATerminalOrWithQuiet) {
  auto dir = scratch_dir("progress-none");
  RunResult piped = run_process({avmon_binary(), "run", black_clip().string(), "--events", (dir / "a.jsonl").string()});
  ASSERT_EQ(piped.exit_status, 0) << piped.err;
  EXPECT_EQ(piped.err.find("time="), std::string::npos) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos);

  RunResult quiet = on_terminal(avmon_binary() + " run --quiet " + quoted(black_clip().string()) + " --events " +
                                quoted((dir / "b.jsonl").string()));
  ASSERT_EQ(quiet.exit_status, 0) << quiet.out;
  EXPECT_EQ(quiet.out, "") << "--quiet: no progress and no info lines on the terminal";
  EXPECT_EQ(defects(read_events(dir / "b.jsonl"), "black").size(), 1u);
}

// Key=value blocks, as `ffmpeg -progress` writes them.
std::vector<std::map<std::string, std::string>> read_blocks(const fs::path& path) {
  std::vector<std::map<std::string, std::string>> blocks(1);
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    EXPECT_NE(eq, std::string::npos) << "not key=value: " << line;
    if (eq == std::string::npos) continue;
    blocks.back()[line.substr(0, eq)] = line.substr(eq + 1);
    if (line.rfind("progress=", 0) == 0) blocks.emplace_back();
  }
  blocks.pop_back();  // the empty one after the last progress=
  return blocks;
}

TEST(CliTerminal, ProgressFileHasBlocksAndALastOneThatAgreesWithTheSummary) {
  auto dir = scratch_dir("progress-file");
  RunResult r = run_process({avmon_binary(), "run", "--realtime", black_clip().string(), "--events",
                             (dir / "e.jsonl").string(), "--progress", (dir / "progress.txt").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto blocks = read_blocks(dir / "progress.txt");
  // 8 s in real time, a block every half second, then the last one.
  ASSERT_GE(blocks.size(), 12u);
  for (size_t i = 0; i + 1 < blocks.size(); ++i) EXPECT_EQ(blocks[i]["progress"], "continue");
  auto last = blocks.back();
  EXPECT_EQ(last["progress"], "end");
  auto events = read_events(dir / "e.jsonl");
  const auto& summary = events.back();
  ASSERT_EQ(summary["kind"], "stream.summary");
  EXPECT_EQ(last["defects"], "1");
  EXPECT_EQ(last["active_defects"], "0");
  EXPECT_EQ(last["video_frames"], std::to_string(summary["frames"]["video"].get<int>()));
  EXPECT_EQ(last["audio_blocks"], std::to_string(summary["frames"]["audio_blocks"].get<int>()));
  EXPECT_NEAR(std::stod(last["media_time_s"]), summary["media_time"].get<double>(), 0.001);
  EXPECT_NEAR(std::stod(last["duration_s"]), 8.0, 0.05);
  EXPECT_TRUE(std::regex_match(last["speed"], std::regex(R"(0\.9\d*x|1(\.\d+)?x)"))) << last["speed"];
  EXPECT_TRUE(std::regex_match(last["media_time"], std::regex(R"(00:00:0[78]\.\d{3})"))) << last["media_time"];
}

TEST(CliTerminal, ProgressToStdoutNeedsTheEventsElsewhere) {
  RunResult r = run_process({avmon_binary(), "run", black_clip().string(), "--progress", "-"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("avmon run: --progress - and the events would both go to stdout; give --events a file"),
            std::string::npos)
      << r.err;
  r = run_process({avmon_binary(), "run", black_clip().string(), "--progress", "/nonexistent/dir/p.txt"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("cannot write progress to /nonexistent/dir/p.txt: No such file or directory"),
            std::string::npos)
      << r.err;
}

TEST(CliTerminal, VersionNamesTheLibavLibrariesItRunsWith) {
  RunResult r = run_process({avmon_binary(), "--version"});
  ASSERT_EQ(r.exit_status, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^avmon \d+\.\d+\.\d+ \(revision \S+\)\n)"))) << r.out;
  for (const char* lib : {"libavutil", "libavcodec", "libavformat", "libswscale", "libswresample"})
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string(lib) + R"( +\d+\. *\d+\. *\d+ / +\d+\. *\d+\. *\d+\n)")))
        << lib << " in " << r.out;
}

TEST(CliTerminal, AMistypedCommandOrOptionIsNamedWithTheNearestOne) {
  RunResult r = run_process({avmon_binary(), "dmeo", "--fast"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("avmon: 'dmeo' is not an avmon command; did you mean 'demo'?"), std::string::npos) << r.err;
  r = run_process({avmon_binary(), "run", "--inptu", "x.ts"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("avmon run: unknown option '--inptu'; did you mean '--input'?"), std::string::npos) << r.err;
}

TEST(CliTerminal, NumbersInMessagesAsPeopleWriteThem) {
  auto dir = scratch_dir("numbers");
  std::ofstream(dir / "range.yaml") << "input:\n  open_timeout_s: 0.25\ndetectors:\n  freeze:\n    min_duration_s: -1\n";
  RunResult r = run_process({avmon_binary(), "check-config", (dir / "range.yaml").string()});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("detectors.freeze.min_duration_s: value -1 out of range [0, 3600]"), std::string::npos) << r.err;
}

TEST(CliTerminal, HealthcheckFollowsTheConfiguredPort) {
  auto dir = scratch_dir("healthcheck");
  int port = free_port();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  // The demo in real time stays up for a minute; its port comes from the environment.
  Process demo({avmon_binary(), "demo"}, dir, "demo", {{"AVMON_HTTP__LISTEN", listen}});
  ASSERT_TRUE(wait_for_port(port, 15)) << demo.err();
  Process check({avmon_binary(), "healthcheck"}, dir, "check", {{"AVMON_HTTP__LISTEN", listen}});
  ASSERT_EQ(check.wait(10), 0) << check.err();
  EXPECT_EQ(check.out(), listen + ": HTTP/1.1 200 OK\n");
  demo.signal(SIGTERM);
  ASSERT_EQ(demo.wait(10), 0);
  RunResult down = run_process({avmon_binary(), "healthcheck", "--http", listen});
  EXPECT_EQ(down.exit_status, 1);
  EXPECT_EQ(down.err, "avmon healthcheck: " + listen + ": cannot connect to " + listen + ": Connection refused\n");
  RunResult none = run_process({avmon_binary(), "healthcheck"});
  EXPECT_EQ(none.exit_status, 2);
}

}  // namespace
}  // namespace avmon::test
