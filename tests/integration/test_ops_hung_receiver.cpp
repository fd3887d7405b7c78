// A receiver that accepts the connection and never answers (a loopback TCP
// server that holds every socket): the exit is bounded by
// notifiers.drain_timeout_s whatever is in flight, and /healthz stays 200
// while a delivery attempt waits for its (long) timeout.
#include <signal.h>

#include <fstream>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> hung_server(int port) {
  return {"python3", "-c",
          "import socket\n"
          "s = socket.socket()\n"
          "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind(('127.0.0.1', " + std::to_string(port) + "))\n"
          "s.listen(64)\n"
          "held = []\n"
          "while True:\n"
          "    held.append(s.accept())\n"};
}

fs::path hung_config(const fs::path& dir, int port, double timeout_s) {
  fs::path p = dir / "avmon.yaml";
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  std::ofstream(p) << "notifiers:\n  drain_timeout_s: 1\n  webhook:\n    url: " << url << "/hook\n    timeout_s: "
                   << timeout_s << "\n  alertmanager:\n    url: " << url << "\n    timeout_s: " << timeout_s << "\n";
  return p;
}

TEST(OpsHungReceiver, ExitIsBoundedByTheDrainTimeoutWhateverIsInFlight) {
  auto dir = scratch_dir("hung-receiver-exit");
  auto clip = make_clip(dir, "black.mp4", 4, "drawbox=enable='between(t,1,2.999)':color=black:t=fill");
  int port = free_port();
  Process server(hung_server(port), dir, "server");
  ASSERT_TRUE(wait_for_port(port, 10)) << server.err();
  // Ten minutes per attempt, one second to drain at exit.
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = run_avmon(clip.string(), dir / "events.jsonl", {"--config", hung_config(dir, port, 600).string()}, 60);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("4 s file, receivers hung: avmon took %.2f s\n", took);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_LT(took, 10.0) << "the drain must be bounded by drain_timeout_s (1 s), not by the 600 s attempt";
  // Nothing is silently lost: the undelivered events (black start and end,
  // the summary, behind the hung first attempt) are counted and said.
  EXPECT_NE(r.err.find("notifier webhook: 3 event(s) not delivered before exit"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("notifier alertmanager: 3 event(s) not delivered before exit"), std::string::npos) << r.err;
  auto events = read_events(dir / "events.jsonl");
  ASSERT_EQ(events.size(), 3u);  // black start, end, summary
  EXPECT_EQ(events.back().value("kind", ""), "stream.summary");
}

TEST(OpsHungReceiver, LivenessStaysOkDuringALongDeliveryAttemptAndSigtermIsStillBounded) {
  auto dir = scratch_dir("hung-receiver-health");
  // Black from 0.5 s: the first delivery starts at about 1.5 s and hangs.
  auto clip = make_clip(dir, "black.mp4", 60, "drawbox=enable='gte(t,0.5)':color=black:t=fill");
  int port = free_port(), http = free_port();
  Process server(hung_server(port), dir, "server");
  ASSERT_TRUE(wait_for_port(port, 10)) << server.err();
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", hung_config(dir, port, 120).string(), "--http",
                 "127.0.0.1:" + std::to_string(http)},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(http, 10)) << avmon.err();
  // Past the 30 s after which a silent notifier worker counts as wedged.
  auto start = std::chrono::steady_clock::now();
  int polls = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(36)) {
    auto h = http_get(http, "/healthz");
    ASSERT_EQ(h.status, 200) << "after " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                             << " s: " << h.body;
    ++polls;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  EXPECT_GE(polls, 30);
  auto t0 = std::chrono::steady_clock::now();
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(60), 0) << avmon.err();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("SIGTERM to exit with an attempt in flight: %.2f s\n", took);
  EXPECT_LT(took, 5.0);
}

}  // namespace
}  // namespace avmon::test
