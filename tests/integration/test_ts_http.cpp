// The transport layer's figures where operators look while a stream runs:
// per-PID packets, continuity errors, scrambling and bit rate in /status and
// /metrics, after impairments whose counts are known exactly.
#include <signal.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "integration/live_support.hpp"
#include "integration/ops/support.hpp"
#include "integration/ts_support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// Packets of `pid` in a 188-byte-packet file.
long packets_of(const fs::path& file, unsigned pid) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 188> p{};
  long n = 0;
  while (in.read(p.data(), p.size()))
    if ((((static_cast<unsigned char>(p[1]) & 0x1F) << 8) | static_cast<unsigned char>(p[2])) == pid) ++n;
  return n;
}

// The value of one series of the exposition, or -1 when it is not there.
double series_value(const std::string& metrics, const std::string& series) {
  std::smatch m;
  std::regex re("\n" + std::regex_replace(series, std::regex(R"([{}"+.])"), R"(\$&)") + R"( ([-0-9.e+]+)\n)");
  return std::regex_search(metrics, m, re) ? std::stod(m[1]) : -1.0;
}

nlohmann::json pid_entry(const nlohmann::json& transport, unsigned pid) {
  for (const auto& p : transport.value("pids", nlohmann::json::array()))
    if (p.value("pid", 0u) == pid) return p;
  return nullptr;
}

// Video PID 0x100 loses one packet, audio PID 0x101 three in a row (one
// continuity error each); PID 0x300, which no PMT lists, comes and goes.
TEST(TsHttp, PerPidFiguresInStatusAndMetricsAfterKnownLosses) {
  AVMON_REQUIRE_PROGRAM(promtool, "promtool");
  auto dir = scratch_dir("ts-http");
  const fs::path file = dir / "lossy.ts";
  ts_impair({cbr_clip().string(), file.string(), "--drop", "0x100:50", "--drop", "0x101:30:3", "--inject-pid",
             "0x300:1:2", "--expect", (dir / "expect.json").string()});
  ASSERT_EQ(expected_counts(dir / "expect.json"),
            (std::map<std::string, long>{{"continuity_count_error", 2}, {"unreferenced_pid", 1}}));

  const int port = free_port();
  Process avmon({avmon_binary(), "run", "--realtime", "--input", file.string(), "--events",
                 (dir / "events.jsonl").string(), "--http", "127.0.0.1:" + std::to_string(port)},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(port, 15)) << avmon.err();
  // Both losses and the foreign PID are seen within the first 4 s of the clip.
  const std::string cc_total =
      R"(avmon_tr101290_errors_total{indicator="continuity_count_error",priority="1",stream="lossy.ts"})";
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        metrics = http_get(port, "/metrics").body;
        return series_value(metrics, cc_total) == 2 &&
               series_value(metrics, R"(avmon_tr101290_errors_total{indicator="unreferenced_pid",priority="3",stream="lossy.ts"})") == 1;
      },
      20))
      << metrics << avmon.err();
  auto status = nlohmann::json::parse(http_get(port, "/status").body, nullptr, false);

  // /metrics: a series per PID of the service and of the PSI, the rest summed.
  auto pid_series = [&](const char* name, const char* pid, const char* role) {
    return series_value(metrics, std::string(name) + "{pid=\"" + pid + "\",role=\"" + role + "\",stream=\"lossy.ts\"}");
  };
  EXPECT_EQ(pid_series("avmon_ts_pid_cc_errors_total", "0x0100", "video"), 1) << metrics;
  EXPECT_EQ(pid_series("avmon_ts_pid_cc_errors_total", "0x0101", "audio"), 1);
  EXPECT_EQ(pid_series("avmon_ts_pid_cc_errors_total", "0x0000", "pat"), 0);
  EXPECT_EQ(pid_series("avmon_ts_pid_scrambled", "0x0100", "video"), 0);
  EXPECT_GT(pid_series("avmon_ts_pid_packets_total", "0x0100", "video"), 100);
  EXPECT_GT(pid_series("avmon_ts_pid_packets_total", "0x1000", "pmt"), 10);
  EXPECT_GT(pid_series("avmon_ts_pid_bitrate_bps", "0x0100", "video"), 100e3);
  EXPECT_GT(pid_series("avmon_ts_pid_packets_total", "other", "other"), 0);
  EXPECT_EQ(metrics.find("pid=\"0x0300\""), std::string::npos) << "a PID outside the service has no series";
  const double mux_bps = series_value(metrics, R"(avmon_ts_bitrate_bps{stream="lossy.ts"})");
  EXPECT_NEAR(mux_bps, 2e6, 0.1e6);  // the clip's mux rate
  EXPECT_EQ(series_value(metrics, R"(avmon_ts_service_scrambled{program="1",stream="lossy.ts"})"), 0);

  std::ofstream(dir / "metrics.txt") << metrics;
  RunResult check = run_process({"/bin/sh", "-c", promtool + " check metrics < '" + (dir / "metrics.txt").string() + "'"}, 30);
  EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "");

  // /status: the same figures, per PID.
  ASSERT_TRUE(status.is_object() && status.contains("transport")) << status.dump();
  const auto& t = status["transport"];
  EXPECT_EQ(t["tr101290"]["continuity_count_error"], 2);
  EXPECT_EQ(t["service"]["program_number"], 1);
  EXPECT_EQ(pid_entry(t, 0x100).value("cc_errors", -1), 1) << t.dump();
  EXPECT_EQ(pid_entry(t, 0x101).value("cc_errors", -1), 1);
  EXPECT_EQ(pid_entry(t, 0x101).value("role", ""), "audio");
  EXPECT_EQ(pid_entry(t, 0x100).value("scrambled", true), false);

  ASSERT_EQ(avmon.wait(40), 0) << avmon.err();
  // At the end every packet of the file is counted, exactly.
  auto summary = summary_of(read_events(dir / "events.jsonl"));
  const auto& end = summary["transport"];
  for (unsigned pid : {0x0u, 0x11u, 0x100u, 0x101u, 0x1000u, 0x300u})
    EXPECT_EQ(pid_entry(end, pid).value("packets", -1L), packets_of(file, pid)) << "PID " << pid;
  EXPECT_EQ(pid_entry(end, 0x300).value("role", ""), "unreferenced");
  // Bit rates share one window of the multiplex clock: they add up to the
  // multiplex's, and a PID that stopped (0x300, after 3 s) has none.
  EXPECT_EQ(pid_entry(end, 0x300).value("bitrate_bps", -1.0), 0.0);
  EXPECT_NEAR(end.value("bitrate_bps", 0.0), 2e6, 0.02e6);
}

// The status page's transport panel in a real browser, on a live feed: the
// service, the indicators' counts and a row per PID, a PID with continuity
// errors marked.
TEST(TsHttp, StatusPageShowsTheServiceIndicatorsAndPidsInChromium) {
  AVMON_REQUIRE_PROGRAM(chromium, "chromium");
  auto dir = scratch_dir("ts-page");
  const fs::path file = dir / "lossy.ts";
  ts_impair({cbr_clip().string(), file.string(), "--drop", "0x100:50"});
  const int udp_port = free_port(), http_port = free_port();
  const std::string udp = "udp://127.0.0.1:" + std::to_string(udp_port);
  Process avmon({avmon_binary(), "run", "--input", udp, "--events", (dir / "events.jsonl").string(), "--http",
                 "127.0.0.1:" + std::to_string(http_port)},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(http_port, 15)) << avmon.err();
  // Sent as it is (ffmpeg would remultiplex it, and renumber the loss
  // away); once the feed ends, avmon waits for it and the page stays.
  Child sender({ts_impair_binary(), "--send", udp, file.string()}, dir / "sender.log");
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = nlohmann::json::parse(http_get(http_port, "/status").body, nullptr, false);
        return st.is_object() && st.contains("transport") &&
               st["transport"]["tr101290"].value("continuity_count_error", 0) > 0;
      },
      20))
      << avmon.err();
  RunResult dom = run_process({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--disable-dev-shm-usage",
                               "--user-data-dir=" + (dir / "profile").string(), "--virtual-time-budget=3000",
                               "--dump-dom", "http://127.0.0.1:" + std::to_string(http_port) + "/"},
                              60);
  ASSERT_EQ(dom.exit_status, 0) << dom.err;
  const std::string& html = dom.out;
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(<section id="transport">)"))) << "panel hidden:\n" << html;
  EXPECT_NE(html.find("service 1"), std::string::npos) << html;
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(<div data-indicator="continuity_count_error" data-count="[1-9][0-9]*" class="bad">)")))
      << html;
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(data-indicator="pat_error" data-count="0")"))) << html;
  // The video PID's row: role, codec, and its continuity errors marked.
  EXPECT_TRUE(std::regex_search(
      html, std::regex(R"(<tr data-pid="256"><td>0x0100</td><td class="l">video</td><td class="l">h264</td><td>[0-9.]+</td><td>[0-9]+</td><td class="bad">[1-9][0-9]*</td><td>no</td></tr>)")))
      << html;
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(<tr data-pid="8191"><td>0x1FFF</td><td class="l">null</td>)"))) << html;
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(30), 0) << avmon.err();
}

}  // namespace
}  // namespace avmon::test
