// A slow or hanging out-of-tree detector (tests/plugin/unruly_plugin.cpp) on
// a live MPEG-TS input over UDP from the ffmpeg CLI: the other detectors'
// events come on time and exactly as from the file, the laggard is reported
// and isolated, what it held back survives the signal loss, and SIGTERM ends
// the run within a bound whatever the detector is doing.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "integration/live_support.hpp"
#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

std::string udp_in(int port) { return "udp://127.0.0.1:" + std::to_string(port); }
std::string udp_out(int port) { return "udp://127.0.0.1:" + std::to_string(port) + "?pkt_size=1316"; }
void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

std::string live_config(const std::string& unruly_options, const std::string& extra = "") {
  return std::string("input:\n  signal_loss_timeout_s: 2\n  options:\n    fifo_size: \"100000\"\n"
                     "    overrun_nonfatal: \"1\"\n") +
         "plugins: [" + AVMON_UNRULY_PLUGIN_PATH + "]\n" + extra + "detectors:\n  unruly:\n" + unruly_options;
}

// SIGTERM: exit 0 within 5 s (generous: the bound is the pipeline's 2 s
// drain, not a benchmark), nothing left open, the summary last.
std::vector<nlohmann::json> stop_within_bound(Child& avmon, EventWatch& watch) {
  auto t0 = SteadyClock::now();
  avmon.signal(SIGTERM);
  int status = avmon.wait(60);
  double took = seconds_between(t0, SteadyClock::now());
  std::printf("SIGTERM to exit: %.2f s\n", took);
  EXPECT_EQ(status, 0) << avmon.log();
  EXPECT_LT(took, 5.0) << "SIGTERM must end avmon within 5 s whatever a detector does";
  watch.poll();
  const auto& ev = watch.events();
  EXPECT_FALSE(ev.empty());
  if (!ev.empty()) {
    EXPECT_EQ(ev.back().value("kind", ""), "stream.summary");
  }
  for (const auto& d : defects(ev)) EXPECT_TRUE(std::isfinite(d.end_s)) << "left open: " << d.start_event.dump();
  return ev;
}

TEST(SlowDetector, OtherDetectorsEventsAreOnTimeExactAndShownWhileAPluginTakesTwoSecondsAPicture) {
  auto dir = scratch_dir("slow-detector-live");
  const int port = 23610;
  const int http = free_port();
  const auto& clip = live_defect_clip();  // black 2-4 s, frozen 5-8.5 s, silent 10-12.5 s
  // The reference: the file itself, without the plugin.
  RunResult direct = run_process({avmon_binary(), "run", "--input", clip.string(), "--events",
                                  (dir / "direct.jsonl").string()});
  ASSERT_EQ(direct.exit_status, 0) << direct.err;
  auto file = read_events(dir / "direct.jsonl");

  // A queue deep enough that the fast detectors never drop a picture on a
  // loaded machine: their events are compared with the file's to the frame.
  // The plugin's lag is measured in media time, whatever the queue's depth.
  auto cfg = write_config(dir, live_config("    delay_ms: 2000\n", "pipeline:\n  queue_frames: 1000\n"));
  EventWatch watch(dir / "live.jsonl");
  std::vector<std::string> argv = avmon_run(udp_in(port), dir / "live.jsonl", cfg);
  argv.insert(argv.end(), {"--http", "127.0.0.1:" + std::to_string(http)});
  Child avmon(argv, dir / "avmon.log");
  ASSERT_TRUE(wait_for_port(http, 10)) << avmon.log();
  Child sender(ffmpeg_sender(clip, udp_out(port), "mpegts", false), dir / "ffmpeg.log");

  // While the freeze lasts, /status shows it active and the plugin behind.
  int freeze_start = watch.wait_nth("defect.start", "freeze", 0, 15);
  ASSERT_GE(freeze_start, 0) << avmon.log();
  nlohmann::json status;
  bool shown = wait_until([&] {
    auto r = http_get(http, "/status");
    if (r.status != 200) return false;
    status = nlohmann::json::parse(r.body, nullptr, false);
    if (!status.is_object()) return false;
    bool freeze_active = false;
    for (const auto& a : status.value("active_defects", nlohmann::json::array()))
      freeze_active = freeze_active || a.value("type", "") == "freeze";
    return freeze_active;
  }, 3, 0.05);
  EXPECT_TRUE(shown) << status.dump();
  const auto unruly = status.value("/detectors/unruly"_json_pointer, nlohmann::json::object());
  const std::string state = unruly.value("state", "");
  EXPECT_TRUE(state == "lagging" || state == "isolated") << unruly.dump();
  EXPECT_GT(unruly.value("lag_s", 0.0), 2.0) << unruly.dump();
  EXPECT_EQ(status.value("/detectors/freeze/state"_json_pointer, ""), "ok");

  EXPECT_EQ(sender.wait(30), 0) << sender.log();
  int loss = watch.wait_nth("defect.start", "signal_loss", 0, 6);
  ASSERT_GE(loss, 0) << avmon.log();
  // Every defect of the other detectors was written before the feed ended.
  for (const char* type : {"black", "freeze", "silence"}) {
    int end = watch.wait_nth("defect.end", type, 0, 0);
    EXPECT_GE(end, 0) << type << " not reported";
    EXPECT_LT(end, loss) << type << " held back until the signal loss";
  }
  auto live = stop_within_bound(avmon, watch);

  // The same events as the file, to the frame.
  for (const char* type : {"black", "freeze", "silence"}) {
    auto a = defects(file, type), b = defects(live, type);
    ASSERT_EQ(a.size(), 1u) << type;
    ASSERT_EQ(b.size(), 1u) << type;
    EXPECT_NEAR(b[0].start_s, a[0].start_s, 0.05) << type;
    EXPECT_NEAR(b[0].end_s, a[0].end_s, 0.05) << type;
  }
  // The laggard was reported, isolated past the bound, and counted.
  auto lagging = defects(live, "detector_lagging");
  ASSERT_GE(lagging.size(), 1u);
  EXPECT_EQ(lagging[0].start_event.value("detector", ""), "unruly");
  EXPECT_EQ(lagging[0].start_event.value("severity", ""), "warning");
  EXPECT_GE(lagging[0].start_event.value("/details/lag_s"_json_pointer, 0.0), 2.0);
  bool isolated = false;
  for (const auto& e : live)
    if (e.value("type", "") == "detector_lagging" && e.contains("details"))
      isolated = isolated || e["details"].value("isolated", false);
  EXPECT_TRUE(isolated) << "a detector 10 s behind is isolated";
  const auto& summary = live.back();
  EXPECT_GT(summary.value("/detectors/unruly/dropped"_json_pointer, 0), 100);
  EXPECT_EQ(summary.value("/detectors/black/dropped"_json_pointer, -1), 0);
  EXPECT_EQ(summary.value("/detectors/black/state"_json_pointer, ""), "ok");
}

TEST(SlowDetector, SigtermEndsTheRunWithinTheBoundWhileADetectorHangsAndReportsIt) {
  auto dir = scratch_dir("slow-detector-hang");
  const int port = 23620;
  // Ten minutes on its fifth picture.
  auto cfg = write_config(dir, live_config("    stall_ms: 600000\n    stall_at_picture: 5\n"));
  EventWatch watch(dir / "live.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "live.jsonl", cfg), dir / "avmon.log");
  sleep_s(0.5);
  Child sender(ffmpeg_sender(live_defect_clip(), udp_out(port)), dir / "ffmpeg.log");
  // Black 2-4 s is reported while the plugin hangs.
  ASSERT_GE(watch.wait_nth("defect.end", "black", 0, 15), 0) << avmon.log();
  auto live = stop_within_bound(avmon, watch);
  const auto unruly = live.back().value("/detectors/unruly"_json_pointer, nlohmann::json::object());
  EXPECT_EQ(unruly.value("state", ""), "stuck") << unruly.dump();
  EXPECT_GT(unruly.value("in_call_s", 0.0), 3.0) << unruly.dump();
  EXPECT_EQ(live.back().value("/detectors/black/state"_json_pointer, ""), "ok");
  EXPECT_NE(avmon.log().find("detector unruly still busy"), std::string::npos) << avmon.log();
}

TEST(SlowDetector, WhatALaggingDetectorHeldBackIsReportedAfterTheSignalLossExactly) {
  auto dir = scratch_dir("slow-detector-held");
  const int port = 23630;
  const auto& clip = live_defect_clip();
  // The plugin's own view of the file: dark while the picture is black.
  auto file_cfg = write_config(dir, std::string("plugins: [") + AVMON_UNRULY_PLUGIN_PATH + "]\n");
  RunResult direct = run_process({avmon_binary(), "run", "--input", clip.string(), "--events",
                                  (dir / "direct.jsonl").string(), "--config", file_cfg.string()});
  ASSERT_EQ(direct.exit_status, 0) << direct.err;
  auto dark_file = defects(read_events(dir / "direct.jsonl"), "dark");
  ASSERT_EQ(dark_file.size(), 1u);

  // Live, the plugin stalls 20 s on its first picture: everything after it
  // waits in its queue (deep enough, and isolation far enough) until the
  // feed has ended and the signal loss has begun.
  fs::remove(dir / "avmon.yaml");
  auto cfg = write_config(dir, live_config("    stall_ms: 20000\n    stall_at_picture: 1\n",
                                           "pipeline:\n  queue_frames: 1000\n  max_lag_s: 120\n"));
  EventWatch watch(dir / "live.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "live.jsonl", cfg), dir / "avmon.log");
  sleep_s(0.5);
  Child sender(ffmpeg_sender(clip, udp_out(port), "mpegts", false), dir / "ffmpeg.log");
  EXPECT_EQ(sender.wait(30), 0) << sender.log();
  int loss = watch.wait_nth("defect.start", "signal_loss", 0, 6);
  ASSERT_GE(loss, 0) << avmon.log();
  int dark = watch.wait_nth("defect.end", "dark", 0, 30);
  ASSERT_GE(dark, 0) << "the held-back defect was lost\n" << avmon.log();
  EXPECT_GT(dark, loss);
  auto live = stop_within_bound(avmon, watch);
  auto dark_live = defects(live, "dark");
  ASSERT_EQ(dark_live.size(), 1u);
  EXPECT_NEAR(dark_live[0].start_s, dark_file[0].start_s, 0.05);
  EXPECT_NEAR(dark_live[0].end_s, dark_file[0].end_s, 0.05);
  EXPECT_EQ(live.back().value("/detectors/unruly/dropped"_json_pointer, -1), 0);
  auto lagging = defects(live, "detector_lagging");
  ASSERT_EQ(lagging.size(), 1u);
  EXPECT_EQ(lagging[0].start_event.value("/details/isolated"_json_pointer, true), false);
}

}  // namespace
}  // namespace avmon::test
