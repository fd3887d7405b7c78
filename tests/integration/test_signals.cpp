// Signals to a running avmon: every signal that would end the process
// without a fault stops it cleanly (the open defect ended, the summary
// written, exit 0); SIGHUP re-opens the events file for logrotate and the
// run goes on.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "integration/live_support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// 30 s at 10 fps with noise, black from 1 s to the end; analysed at its own pace
// (--realtime), so that a signal finds a defect open.
const fs::path& black_from_one_second() {
  static const fs::path p = [] {
    auto path = scratch_dir("signals-clip") / "black.mkv";
    ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=30", "-f", "lavfi", "-i",
            "anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=7:d=30", "-vf",
            "drawbox=enable='gte(t,1)':color=black:t=fill", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", path.string()});
    return path;
  }();
  return p;
}

struct Running {
  int sig;
  fs::path events;
  std::unique_ptr<EventWatch> watch;
  std::unique_ptr<Child> avmon;
};

TEST(Signals, EverySignalThatWouldEndTheProcessStopsItCleanlyWithTheDefectEndedAndTheSummary) {
  auto dir = scratch_dir("signals-stop");
  const auto& clip = black_from_one_second();
  const std::vector<int> signals = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
                                    SIGPROF, SIGIO,  SIGPWR, SIGXCPU, SIGSTKFLT, SIGRTMIN, SIGRTMAX - 1};
  // All at once: each paces its clip at real time, so they cost little.
  std::vector<Running> runs;
  for (int sig : signals) {
    Running r{sig, dir / ("events-" + std::to_string(sig) + ".jsonl"), nullptr, nullptr};
    r.watch = std::make_unique<EventWatch>(r.events);
    r.avmon = std::make_unique<Child>(
        std::vector<std::string>{avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                                 r.events.string()},
        dir / ("avmon-" + std::to_string(sig) + ".log"));
    runs.push_back(std::move(r));
  }
  for (auto& r : runs) {
    ASSERT_GE(r.watch->wait_nth("defect.start", "black", 0, 20), 0) << strsignal(r.sig) << "\n" << r.avmon->log();
    r.avmon->signal(r.sig);
  }
  for (auto& r : runs) {
    const std::string name = strsignal(r.sig);
    EXPECT_EQ(r.avmon->wait(10), 0) << name << "\n" << r.avmon->log();
    auto events = read_events(r.events);
    ASSERT_FALSE(events.empty()) << name;
    EXPECT_EQ(events.back().value("kind", ""), "stream.summary") << name;
    EXPECT_EQ(events.back().value("end_reason", ""), "stopped") << name;
    auto black = defects(events, "black");
    ASSERT_EQ(black.size(), 1u) << name;
    EXPECT_NEAR(black[0].start_s, 1.0, 0.05) << name;  // (AAC priming shifts the origin by 21 ms)
    EXPECT_TRUE(std::isfinite(black[0].end_s)) << name << ": the open defect was never ended";
  }
}

TEST(Signals, SighupReopensTheEventsFileAndTheRunGoesOn) {
  auto dir = scratch_dir("signals-hup");
  const fs::path events = dir / "events.jsonl", rotated = dir / "events.jsonl.1";
  EventWatch watch(events);
  Child avmon({avmon_binary(), "run", "--realtime", "--input", black_from_one_second().string(), "--events",
               events.string()},
              dir / "avmon.log");
  ASSERT_GE(watch.wait_nth("defect.start", "black", 0, 20), 0) << avmon.log();
  // What logrotate does: move the file away, then SIGHUP.
  fs::rename(events, rotated);
  avmon.signal(SIGHUP);
  ASSERT_TRUE([&] {
    for (int i = 0; i < 250 && !fs::exists(events); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return fs::exists(events);
  }()) << "no new events file after SIGHUP\n" << avmon.log();
  EXPECT_TRUE(avmon.running()) << "SIGHUP must not end the run";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(10), 0) << avmon.log();
  auto before = read_events(rotated), after = read_events(events);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].value("kind", ""), "defect.start");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].value("kind", ""), "defect.end");
  EXPECT_EQ(after[0].value("id", ""), before[0].value("id", "?"));
  EXPECT_EQ(after[1].value("kind", ""), "stream.summary");
  EXPECT_NE(avmon.log().find("SIGHUP: re-opening the events file"), std::string::npos) << avmon.log();
}

}  // namespace
}  // namespace avmon::test
