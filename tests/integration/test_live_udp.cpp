// Live MPEG-TS over UDP on loopback, fed by the ffmpeg CLI: outages and
// returns, stalls, garbage, a format change, SIGTERM, and the same results
// as the file itself. Each test uses its own ports.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "integration/live_support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Every detector runs, corruption included: a clean feed on loopback must
// give no corruption event, across outages and format changes too.
const char* kLiveConfig =
    "input:\n  signal_loss_timeout_s: 2\n  options:\n    fifo_size: \"100000\"\n    overrun_nonfatal: \"1\"\n";

std::string udp_in(int port) { return "udp://127.0.0.1:" + std::to_string(port); }
std::string udp_out(int port) { return "udp://127.0.0.1:" + std::to_string(port) + "?pkt_size=1316"; }

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Picture and sound defects other than signal_loss: the gap must not be
// blamed on anything else. (What the transport layer sees of a gap - a
// sender restarting without discontinuity_indicator, garbage instead of
// packets - is its own finding, tr101290.*.)
std::vector<std::string> other_defects(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    const std::string type = e.value("type", "");
    if (e.value("kind", "") == "defect.start" && type != "signal_loss" && type.rfind("tr101290.", 0) != 0)
      out.push_back(type + "@" + e["media_time"].dump());
  }
  return out;
}

std::vector<std::string> transport_defects(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    if (e.value("kind", "") == "defect.start" && e.value("type", "").rfind("tr101290.", 0) == 0)
      out.push_back(e.value("type", ""));
  return out;
}

void expect_monotonic_media_time(const std::vector<nlohmann::json>& events) {
  double last = -1;
  for (const auto& e : events) {
    if (e.value("kind", "") != "defect.start" && e.value("kind", "") != "defect.end") continue;
    double t = e["media_time"].get<double>();
    EXPECT_GE(t, last - 1e-9) << e.dump();
    last = t;
  }
}

// Stops avmon with SIGTERM and checks the contract: exit 0 within 5 s,
// nothing left open, one summary at the end.
std::vector<nlohmann::json> stop_and_check(Child& avmon, EventWatch& watch, double* exit_s = nullptr) {
  auto t0 = SteadyClock::now();
  avmon.signal(SIGTERM);
  int status = avmon.wait(10);
  double took = seconds_between(t0, SteadyClock::now());
  if (exit_s) *exit_s = took;
  EXPECT_EQ(status, 0) << avmon.log();
  EXPECT_LT(took, 5.0) << "SIGTERM must end avmon within 5 s";
  watch.poll();
  const auto& ev = watch.events();
  EXPECT_FALSE(ev.empty());
  if (!ev.empty()) {
    EXPECT_EQ(ev.back().value("kind", ""), "stream.summary");
  }
  auto intervals = defects(ev);
  for (const auto& d : intervals) {
    EXPECT_TRUE(std::isfinite(d.end_s)) << "left open: " << d.start_event.dump();
  }
  return ev;
}

TEST(LiveUdp, OutageAndReturnAreReportedWithinTheirDeadlines) {
  auto dir = scratch_dir("live-udp-outage");
  const int port = 23110;
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "events.jsonl", write_config(dir, kLiveConfig)), dir / "avmon.log");
  sleep_s(0.5);
  auto sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)), dir / "ffmpeg1.log");
  sleep_s(4);
  ASSERT_EQ(watch.wait_nth("defect.start", "signal_loss", 0, 0), -1) << "no loss while the feed flows";

  sender.reset();  // killed: the feed stops
  auto stopped = SteadyClock::now();
  int start = watch.wait_nth("defect.start", "signal_loss", 0, 6);
  ASSERT_GE(start, 0) << avmon.log();
  double start_latency_s = seconds_between(stopped, watch.seen_at(static_cast<size_t>(start)));

  sleep_s(8 - seconds_between(stopped, SteadyClock::now()));
  sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)), dir / "ffmpeg2.log");
  auto returned = SteadyClock::now();
  int end = watch.wait_nth("defect.end", "signal_loss", 0, 6);
  ASSERT_GE(end, 0) << avmon.log();
  double end_latency_s = seconds_between(returned, watch.seen_at(static_cast<size_t>(end)));
  std::printf("8 s UDP outage: signal_loss start %.2f s after the stop, end %.2f s after the return\n",
              start_latency_s, end_latency_s);
  RecordProperty("start_latency_ms", static_cast<int>(start_latency_s * 1000));
  RecordProperty("end_latency_ms", static_cast<int>(end_latency_s * 1000));
  // The last datagram left a little before the kill (ffmpeg -re sends in bursts).
  EXPECT_GE(start_latency_s, 1.5) << "not long before the 2 s timeout";
  EXPECT_LE(start_latency_s, 3.0);
  EXPECT_LE(end_latency_s, 2.0);

  sleep_s(2);
  EXPECT_TRUE(avmon.running()) << "the process keeps running";
  double exit_s = 0;
  auto events = stop_and_check(avmon, watch, &exit_s);
  std::printf("SIGTERM to exit: %.2f s\n", exit_s);
  const auto& s = events[static_cast<size_t>(start)];
  EXPECT_EQ(s["details"]["reason"], "no data");
  EXPECT_EQ(s["severity"], "critical");
  const auto& e = events[static_cast<size_t>(end)];
  // Media time follows the wall clock across the gap: the outage keeps its length.
  double media_gap_s = e["media_time"].get<double>() - s["media_time"].get<double>();
  EXPECT_NEAR(media_gap_s, 8.0, 1.0) << e.dump();
  EXPECT_NEAR(e["details"]["outage_s"].get<double>(), 8.0, 1.0);
  EXPECT_EQ(other_defects(events), std::vector<std::string>{});
  expect_monotonic_media_time(events);
  EXPECT_EQ(events.back()["live"]["signal_losses"], 1);
}

TEST(LiveUdp, EveryOutageOfASeriesIsReportedAndRecovered) {
  auto dir = scratch_dir("live-udp-series");
  const int port = 23120;
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "events.jsonl", write_config(dir, kLiveConfig)), dir / "avmon.log");
  sleep_s(0.5);
  const int outages = 4;
  auto sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)), dir / "ffmpeg0.log");
  for (int i = 0; i < outages; ++i) {
    sleep_s(3);
    // Alternate the two ways a feed goes away: the sender dies (and comes
    // back from the start of its clip), or it stalls and resumes its clock.
    bool restart = i % 2 == 0;
    if (restart) sender.reset();
    else sender->signal(SIGSTOP);
    ASSERT_GE(watch.wait_nth("defect.start", "signal_loss", static_cast<size_t>(i), 6), 0) << "outage " << i;
    sleep_s(0.5);
    if (restart) sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)),
                                                  dir / ("ffmpeg" + std::to_string(i + 1) + ".log"));
    else sender->signal(SIGCONT);
    ASSERT_GE(watch.wait_nth("defect.end", "signal_loss", static_cast<size_t>(i), 6), 0) << "return " << i;
  }
  sleep_s(1);
  auto events = stop_and_check(avmon, watch);
  EXPECT_EQ(defects(events, "signal_loss").size(), static_cast<size_t>(outages));
  EXPECT_EQ(other_defects(events), std::vector<std::string>{});
  expect_monotonic_media_time(events);
}

TEST(LiveUdp, GarbageDatagramsAreNoDecodableFramesAndTheFeedRecovers) {
  auto dir = scratch_dir("live-udp-garbage");
  const int port = 23130;
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "events.jsonl", write_config(dir, kLiveConfig)), dir / "avmon.log");
  sleep_s(0.5);
  auto sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)), dir / "ffmpeg1.log");
  sleep_s(3);
  sender.reset();
  // 5 s of random 1316-byte datagrams at about 200 a second.
  Child garbage({"python3", "-c",
                 "import os,socket,time\n"
                 "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                 "end=time.time()+5\n"
                 "while time.time()<end:\n"
                 "  s.sendto(os.urandom(1316),('127.0.0.1'," + std::to_string(port) + "))\n"
                 "  time.sleep(0.005)\n"},
                dir / "garbage.log");
  int start = watch.wait_nth("defect.start", "signal_loss", 0, 6);
  ASSERT_GE(start, 0) << avmon.log();
  EXPECT_EQ(garbage.wait(10), 0) << garbage.log();
  sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)), dir / "ffmpeg2.log");
  ASSERT_GE(watch.wait_nth("defect.end", "signal_loss", 0, 6), 0) << avmon.log();
  sleep_s(1);
  auto events = stop_and_check(avmon, watch);
  EXPECT_EQ(events[static_cast<size_t>(start)]["details"]["reason"], "no decodable frames");
  EXPECT_EQ(other_defects(events), std::vector<std::string>{});
  // The transport layer saw random bytes where packets should be.
  auto transport = transport_defects(events);
  EXPECT_NE(std::find(transport.begin(), transport.end(), "tr101290.ts_sync_loss"), transport.end());
}

TEST(LiveUdp, AResolutionAndSampleRateChangeMidStreamIsAFormatChange) {
  auto dir = scratch_dir("live-udp-format");
  const int port = 23140;
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "events.jsonl", write_config(dir, kLiveConfig)), dir / "avmon.log");
  sleep_s(0.5);
  auto sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), udp_out(port)), dir / "ffmpeg1.log");
  sleep_s(3);
  sender.reset();
  sender = std::make_unique<Child>(ffmpeg_sender(live_clip_hd(), udp_out(port)), dir / "ffmpeg2.log");
  int change = watch.wait_for(
      [](const nlohmann::json& e) { return e.value("kind", "") == "stream.format_change" && e["details"]["width"] == 640; },
      8);
  ASSERT_GE(change, 0) << avmon.log();
  watch.wait_for(
      [](const nlohmann::json& e) {
        return e.value("kind", "") == "stream.format_change" && e["details"]["sample_rate"] == 44100;
      },
      4);
  sleep_s(2);
  auto events = stop_and_check(avmon, watch);
  const auto& summary = events.back();
  EXPECT_EQ(summary["format"]["width"], 640);
  EXPECT_EQ(summary["format"]["height"], 360);
  EXPECT_EQ(summary["format"]["sample_rate"], 44100);
  EXPECT_GT(summary["frames"]["video"].get<int>(), 100);
  EXPECT_EQ(other_defects(events), std::vector<std::string>{});
}

TEST(LiveUdp, StreamingAFileLiveFindsWhatAnalysingItDirectlyFinds) {
  auto dir = scratch_dir("live-udp-parity");
  const int port = 23150;
  const auto& clip = live_defect_clip();  // black 2-4 s, frozen 5-8.5 s, silent 10-12.5 s
  // Live analysis drops frames for a detector that falls behind; on a shared
  // test machine a burst of audio could overflow the usual queue. Make it
  // deep enough that both runs see every frame.
  auto cfg = write_config(dir, std::string(kLiveConfig) + "pipeline:\n  queue_frames: 1000\n");
  RunResult direct = run_process({avmon_binary(), "run", "--input", clip.string(), "--events",
                                  (dir / "direct.jsonl").string(), "--config", cfg.string()});
  ASSERT_EQ(direct.exit_status, 0) << direct.err;

  EventWatch watch(dir / "live.jsonl");
  Child avmon(avmon_run(udp_in(port), dir / "live.jsonl", cfg), dir / "avmon.log");
  sleep_s(0.5);
  Child sender(ffmpeg_sender(clip, udp_out(port), "mpegts", false), dir / "ffmpeg.log");
  EXPECT_EQ(sender.wait(30), 0) << sender.log();
  // The end of the feed is a signal loss; once it is reported, everything
  // before it has been analysed.
  ASSERT_GE(watch.wait_nth("defect.start", "signal_loss", 0, 6), 0) << avmon.log();
  auto live = stop_and_check(avmon, watch);

  auto file = read_events(dir / "direct.jsonl");
  for (const char* type : {"black", "freeze", "silence"}) {
    auto a = defects(file, type), b = defects(live, type);
    ASSERT_EQ(a.size(), 1u) << type;
    ASSERT_EQ(b.size(), a.size()) << type;
    EXPECT_NEAR(b[0].start_s, a[0].start_s, 0.05) << type;
    EXPECT_NEAR(b[0].end_s, a[0].end_s, 0.05) << type;
  }
  std::vector<std::string> file_types, live_types;
  for (const auto& d : defects(file)) file_types.push_back(d.type);
  for (const auto& d : defects(live))
    if (d.type != "signal_loss") live_types.push_back(d.type);
  EXPECT_EQ(live_types, file_types);
}

}  // namespace
}  // namespace avmon::test
