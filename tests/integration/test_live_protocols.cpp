// Live inputs over the other protocols libavformat speaks, all on loopback
// with the ffmpeg CLI (and python3) as the other end: SRT caller and
// listener with a reconnect, RTMP and RTSP (TCP and UDP transport) with avmon
// as the server via input.options, HLS from a local HTTP server, a hung HTTP
// server and SIGTERM, and inputs that cannot be opened.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "integration/live_support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

const std::string kBase = "";

// SIGTERM, exit 0 within 5 s, a summary at the end; returns the events.
std::vector<nlohmann::json> stop_avmon(Child& avmon, EventWatch& watch) {
  auto t0 = SteadyClock::now();
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(10), 0) << avmon.log();
  EXPECT_LT(seconds_between(t0, SteadyClock::now()), 5.0);
  watch.poll();
  auto ev = watch.events();
  EXPECT_FALSE(ev.empty());
  if (!ev.empty()) {
    EXPECT_EQ(ev.back().value("kind", ""), "stream.summary");
  }
  for (const auto& d : defects(ev)) {
    EXPECT_TRUE(std::isfinite(d.end_s)) << "left open: " << d.start_event.dump();
  }
  return ev;
}

int video_frames(const std::vector<nlohmann::json>& events) {
  return events.empty() ? 0 : events.back()["frames"]["video"].get<int>();
}

TEST(LiveSrt, CallerReconnectsWithBackoffWhenTheListenerGoesAway) {
  auto dir = scratch_dir("live-srt-caller");
  const std::string url = "srt://127.0.0.1:23210";
  auto cfg = write_config(dir, kBase + "input:\n  reconnect_initial_delay_s: 0.2\n  reconnect_max_delay_s: 1\n");
  auto sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), url + "?mode=listener"), dir / "ffmpeg1.log");
  sleep_s(0.5);
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(url + "?mode=caller", dir / "events.jsonl", cfg), dir / "avmon.log");
  sleep_s(3);
  sender->signal(SIGTERM);  // the listener closes the connection
  EXPECT_NE(sender->wait(5), -1) << sender->log();
  int start = watch.wait_nth("defect.start", "signal_loss", 0, 6);
  ASSERT_GE(start, 0) << avmon.log();
  sleep_s(2);  // a few attempts fail (connection refused) meanwhile
  sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), url + "?mode=listener"), dir / "ffmpeg2.log");
  int end = watch.wait_nth("defect.end", "signal_loss", 0, 8);
  ASSERT_GE(end, 0) << avmon.log();
  sleep_s(1);
  auto events = stop_avmon(avmon, watch);
  EXPECT_EQ(events[static_cast<size_t>(start)]["details"]["reason"], "input closed");
  EXPECT_GE(events[static_cast<size_t>(end)]["details"]["reconnect_attempts"].get<int>(), 1);
  const auto& live = events.back()["live"];
  EXPECT_GE(live["reconnects"].get<int>(), 1);
  EXPECT_GT(live["reconnect_attempts"].get<int>(), live["reconnects"].get<int>());
  // Each attempt and its outcome is logged.
  EXPECT_NE(avmon.log().find("reconnect attempt 1 failed"), std::string::npos) << avmon.log();
  EXPECT_NE(avmon.log().find("succeeded"), std::string::npos);
}

TEST(LiveSrt, ListenerAcceptsACaller) {
  auto dir = scratch_dir("live-srt-listener");
  const std::string url = "srt://127.0.0.1:23220";
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(url + "?mode=listener", dir / "events.jsonl", write_config(dir, kBase)), dir / "avmon.log");
  sleep_s(0.5);
  Child sender(ffmpeg_sender(live_clip(), url + "?mode=caller"), dir / "ffmpeg.log");
  sleep_s(4);
  auto events = stop_avmon(avmon, watch);
  EXPECT_GT(video_frames(events), 40) << avmon.log();
  EXPECT_TRUE(defects(events, "signal_loss").empty());
}

TEST(LiveUdpMulticast, ReceivesAGroupOnTheLoopbackInterface) {
  auto dir = scratch_dir("live-multicast");
  const std::string group = "udp://239.255.10.1:23300";
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(group + "?localaddr=127.0.0.1", dir / "events.jsonl", write_config(dir, kBase)),
              dir / "avmon.log");
  sleep_s(0.5);
  Child sender(ffmpeg_sender(live_clip(), group + "?pkt_size=1316&localaddr=127.0.0.1&ttl=1"), dir / "ffmpeg.log");
  sleep_s(4);
  auto events = stop_avmon(avmon, watch);
  EXPECT_GT(video_frames(events), 40) << avmon.log();
  EXPECT_TRUE(defects(events, "signal_loss").empty());
}

TEST(LiveRtmp, ListensForAPublisherWhenInputOptionsSaySo) {
  auto dir = scratch_dir("live-rtmp");
  const std::string url = "rtmp://127.0.0.1:23230/live/test";
  auto cfg = write_config(dir, kBase + "input:\n  options:\n    listen: \"1\"\n");
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run(url, dir / "events.jsonl", cfg), dir / "avmon.log");
  sleep_s(0.5);
  Child sender(ffmpeg_sender(live_clip(), url, "flv"), dir / "ffmpeg.log");
  sleep_s(5);
  auto events = stop_avmon(avmon, watch);
  EXPECT_GT(video_frames(events), 40) << avmon.log() << sender.log();
}

TEST(LiveRtsp, ServesAnnouncedStreamsOverTcpAndUdpTransport) {
  int port = 23240;
  for (const std::string transport : {"tcp", "udp"}) {
    SCOPED_TRACE(transport);
    auto dir = scratch_dir("live-rtsp-" + transport);
    const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/live";
    port += 10;
    auto cfg = write_config(dir, kBase + "input:\n  options:\n    rtsp_flags: listen\n");
    EventWatch watch(dir / "events.jsonl");
    Child avmon(avmon_run(url, dir / "events.jsonl", cfg), dir / "avmon.log");
    sleep_s(0.5);
    Child sender(ffmpeg_sender(live_clip(), url, "rtsp", true, {"-c:a", "aac", "-rtsp_transport", transport}), dir / "ffmpeg.log");
    sleep_s(5);
    auto events = stop_avmon(avmon, watch);
    EXPECT_GT(video_frames(events), 40) << avmon.log() << sender.log();
  }
}

TEST(LiveHls, FollowsALivePlaylistFromAnHttpServer) {
  auto dir = scratch_dir("live-hls");
  fs::create_directories(dir / "www");
  const int port = 23260;
  Child segmenter(ffmpeg_sender(live_clip(), (dir / "www" / "live.m3u8").string(), "hls", true,
                                {"-hls_time", "1", "-hls_list_size", "5", "-hls_flags", "delete_segments"}),
                  dir / "ffmpeg.log");
  Child server({"python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1", "--directory",
                (dir / "www").string()},
               dir / "http.log");
  for (int i = 0; i < 100 && !fs::exists(dir / "www" / "live.m3u8"); ++i) sleep_s(0.1);
  sleep_s(1);
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run("http://127.0.0.1:" + std::to_string(port) + "/live.m3u8", dir / "events.jsonl",
                        write_config(dir, kBase)),
              dir / "avmon.log");
  sleep_s(6);
  auto events = stop_avmon(avmon, watch);
  EXPECT_GT(video_frames(events), 40) << avmon.log();
}

// An HTTP server that sends a few seconds of the clip at once and then goes
// quiet without closing: the read blocks, as with a hung encoder.
std::vector<std::string> hung_http_server(int port, const fs::path& clip, long bytes) {
  return {"python3", "-c",
          "import socket,sys,time\n"
          "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
          "s.bind(('127.0.0.1'," + std::to_string(port) + ")); s.listen(1)\n"
          "c,_=s.accept(); c.recv(65536)\n"
          "c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Type: video/mp2t\\r\\n\\r\\n')\n"
          "c.sendall(open('" + clip.string() + "','rb').read(" + std::to_string(bytes) + "))\n"
          "time.sleep(3600)\n"};
}

TEST(LiveHttp, SigtermWhileTheInputIsHungExitsZeroWithinFiveSeconds) {
  auto dir = scratch_dir("live-http-hung");
  const int port = 23270;
  Child server(hung_http_server(port, live_clip(), static_cast<long>(fs::file_size(live_clip()) / 3)),
               dir / "server.log");
  sleep_s(0.5);
  EventWatch watch(dir / "events.jsonl");
  Child avmon(avmon_run("http://127.0.0.1:" + std::to_string(port) + "/feed.ts", dir / "events.jsonl",
                        write_config(dir, kBase)),
              dir / "avmon.log");
  int start = watch.wait_nth("defect.start", "signal_loss", 0, 8);
  ASSERT_GE(start, 0) << avmon.log();
  EXPECT_EQ(watch.events()[static_cast<size_t>(start)]["details"]["reason"], "no data");
  auto events = stop_avmon(avmon, watch);
  EXPECT_GT(video_frames(events), 25);
  EXPECT_EQ(defects(events, "signal_loss").size(), 1u);
  EXPECT_TRUE(server.running()) << "the server never closed the connection";
}

TEST(LiveHttp, SigtermWhileOpeningAHungInputExitsZero) {
  auto dir = scratch_dir("live-http-hung-open");
  const int port = 23280;
  // Accepts and never answers.
  Child server({"python3", "-c",
                "import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                "s.bind(('127.0.0.1'," + std::to_string(port) + ")); s.listen(1)\nc,_=s.accept(); time.sleep(3600)\n"},
               dir / "server.log");
  sleep_s(0.5);
  Child avmon(avmon_run("http://127.0.0.1:" + std::to_string(port) + "/feed.ts", dir / "events.jsonl",
                        write_config(dir, kBase)),
              dir / "avmon.log");
  sleep_s(1.5);
  auto t0 = SteadyClock::now();
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(10), 0) << avmon.log();
  EXPECT_LT(seconds_between(t0, SteadyClock::now()), 5.0);
  auto events = read_events(dir / "events.jsonl");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["kind"], "stream.summary");
}

TEST(LiveInput, ALiveInputThatCannotBeOpenedWithReconnectNeverExitsThree) {
  auto dir = scratch_dir("live-never");
  auto cfg = write_config(dir, kBase + "input:\n  reconnect: never\n");
  RunResult r = run_process(avmon_run("rtmp://127.0.0.1:23290/live/x", dir / "events.jsonl", cfg), 30);
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_NE(r.err.find("cannot open rtmp://127.0.0.1:23290/live/x"), std::string::npos) << r.err;
}

TEST(LiveInput, GivingUpAfterTheConfiguredAttemptsExitsThreeAfterReportingTheLoss) {
  auto dir = scratch_dir("live-give-up");
  auto cfg = write_config(dir, kBase + "input:\n  reconnect_max_attempts: 4\n  reconnect_initial_delay_s: 0.1\n"
                                       "  reconnect_max_delay_s: 0.5\n  signal_loss_timeout_s: 0.5\n");
  RunResult r = run_process(avmon_run("rtmp://127.0.0.1:23291/live/x", dir / "events.jsonl", cfg), 30);
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_NE(r.err.find("gave up after 4 reconnect attempts"), std::string::npos) << r.err;
  auto events = read_events(dir / "events.jsonl");
  auto losses = defects(events, "signal_loss");
  ASSERT_EQ(losses.size(), 1u);
  EXPECT_EQ(losses[0].start_event["details"]["reason"], "input closed");
  EXPECT_EQ(events.back()["live"]["reconnect_attempts"], 4);
}

TEST(LiveInput, AnUnknownProtocolIsNotRetried) {
  auto dir = scratch_dir("live-bad-proto");
  RunResult r = run_process(avmon_run("nosuchproto://127.0.0.1:1/x", dir / "e.jsonl", write_config(dir, kBase)), 30);
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_NE(r.err.find("Protocol not found"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace avmon::test
