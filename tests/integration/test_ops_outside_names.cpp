// Names and paths from the outside on every output: bytes that are not
// UTF-8 (a Latin-1 file name, a stream name set from a shell) come out as
// valid UTF-8 on every output, never as a crash, a 500 or a receiver that
// refuses the event; and the secrets an input URL carries come out nowhere.
#include <signal.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"
#include "util/text.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

const std::string kFffd = "\xEF\xBF\xBD";
const std::string kBadStream = "studio-\xE9\xFF";                  // Latin-1 e-acute, then a byte no UTF-8 has
const std::string kGoodStream = "studio-" + kFffd + kFffd;         // what every output shows

TEST(OpsOutsideNames, NonUtf8StreamNameAndPathReachEveryOutputAsValidUtf8) {
  AVMON_REQUIRE_PROGRAM(am_binary, "prometheus-alertmanager");
  AVMON_REQUIRE_PROGRAM(broker, "mosquitto");
  AVMON_REQUIRE_PROGRAM(sub, "mosquitto_sub");
  AVMON_REQUIRE_PROGRAM(promtool, "promtool");
  auto dir = scratch_dir("outside-names");
  auto clip = make_clip(dir, "caf\xE9.mp4", 8, "drawbox=enable='between(t,1,3.999)':color=black:t=fill");
  AlertmanagerServer am;
  ASSERT_TRUE(am.start(am_binary, dir)) << am.am->err();
  int hook_port = free_port(), mqtt_port = free_port(), http_port = free_port();
  Process hook(receiver_argv(hook_port, dir / "hook.jsonl"), dir, "hook");
  std::ofstream(dir / "mosquitto.conf") << "listener " << mqtt_port << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
  Process mosquitto({broker, "-c", (dir / "mosquitto.conf").string()}, dir, "mosquitto");
  ASSERT_TRUE(wait_for_port(hook_port, 10) && wait_for_port(mqtt_port, 10)) << mosquitto.err();
  Process subscriber({sub, "-h", "127.0.0.1", "-p", std::to_string(mqtt_port), "-q", "1", "-t", "avmon/#", "-F", "%t|%p"},
                     dir, "sub");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::ofstream(dir / "avmon.yaml") << "notifiers:\n  spool_dir: " << (dir / "spool").string()
                                    << "\n  webhook:\n    url: http://127.0.0.1:" << hook_port
                                    << "/hook\n  alertmanager:\n    url: http://127.0.0.1:" << am.port
                                    << "\n    resend_interval_s: 1\n  mqtt:\n    host: 127.0.0.1\n    port: " << mqtt_port
                                    << "\n    keepalive_s: 5\n";
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", (dir / "avmon.yaml").string(), "--http",
                 "127.0.0.1:" + std::to_string(http_port)},
                dir, "avmon", {{"AVMON_STREAM__NAME", kBadStream}});
  ASSERT_TRUE(wait_for_port(http_port, 15)) << avmon.err();

  // /status answers (every time it is asked) with valid JSON naming the stream.
  nlohmann::json status;
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = http_get(http_port, "/status");
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_TRUE(is_valid_utf8(r.body));
        status = nlohmann::json::parse(r.body, nullptr, false);
        return status.is_object() && !status["active_defects"].empty();
      },
      15))
      << avmon.err();
  EXPECT_EQ(status["stream"], kGoodStream);
  EXPECT_TRUE(status["input"]["url"].get<std::string>().ends_with("caf" + kFffd + ".mp4")) << status["input"];
  // /metrics passes Prometheus's own parser.
  auto metrics = http_get(http_port, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::ofstream(dir / "metrics.txt") << metrics.body;
  RunResult check = run_process({"/bin/sh", "-c", promtool + " check metrics < '" + (dir / "metrics.txt").string() + "'"}, 30);
  EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
  EXPECT_NE(metrics.body.find("stream=\"" + kGoodStream + "\""), std::string::npos);
  EXPECT_NE(metrics.body.find("caf" + kFffd + ".mp4\""), std::string::npos);

  ASSERT_EQ(avmon.wait(60), 0) << avmon.err();
  EXPECT_TRUE(is_valid_utf8(avmon.err())) << avmon.err();
  // The event lines, the summary last.
  std::string lines = read_file(dir / "events.jsonl");
  EXPECT_TRUE(is_valid_utf8(lines));
  auto events = read_events(dir / "events.jsonl");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["kind"], "stream.summary");
  EXPECT_TRUE(events.back()["input"].get<std::string>().ends_with("caf" + kFffd + ".mp4"));
  for (const auto& e : events) EXPECT_EQ(e["stream"], kGoodStream) << e;
  ASSERT_EQ(defects(events, "black").size(), 1u);
  // The webhook got every event, summary included, each body valid UTF-8.
  ASSERT_TRUE(wait_until([&] { return read_json_lines(dir / "hook.jsonl").size() >= events.size(); }, 15));
  for (const auto& h : read_json_lines(dir / "hook.jsonl")) {
    EXPECT_EQ(h["utf8"], true) << h;
    EXPECT_EQ(h["body"]["stream"], kGoodStream) << h;
  }
  EXPECT_EQ(read_json_lines(dir / "hook.jsonl").back()["body"]["kind"], "stream.summary");
  // Alertmanager took the alert and resolved it.
  EXPECT_TRUE(wait_until([&] { return am.notified("firing", kGoodStream, "black"); }, 15));
  EXPECT_TRUE(wait_until([&] { return am.notified("resolved", kGoodStream, "black"); }, 15));
  // MQTT: the events under the stream's topic, which is valid UTF-8 too.
  std::string mqtt = subscriber.out();
  EXPECT_TRUE(is_valid_utf8(mqtt));
  EXPECT_NE(mqtt.find("avmon/" + kGoodStream + "/events|{\"kind\":\"defect.start\""), std::string::npos) << mqtt;
  EXPECT_NE(mqtt.find("avmon/" + kGoodStream + "/events|{\"kind\":\"stream.summary\""), std::string::npos) << mqtt;
  // Everything was delivered: nothing is left in the spool.
  for (const auto& f : fs::recursive_directory_iterator(dir / "spool"))
    EXPECT_FALSE(f.is_regular_file()) << f.path();
}

TEST(OpsOutsideNames, SpoolFilesOfANonUtf8StreamAreValidJson) {
  auto dir = scratch_dir("outside-names-spool");
  auto clip = make_clip(dir, "caf\xE9.mp4", 3, "drawbox=enable='between(t,1,1.999)':color=black:t=fill");
  // A receiver that is down: the events stay in the spool for the next start.
  std::ofstream(dir / "avmon.yaml") << "notifiers:\n  drain_timeout_s: 0\n  spool_dir: " << (dir / "spool").string()
                                    << "\n  webhook:\n    url: http://127.0.0.1:" << free_port() << "/hook\n";
  Process avmon({avmon_binary(), "run", "--input", clip.string(), "--events", (dir / "events.jsonl").string(),
                 "--config", (dir / "avmon.yaml").string()},
                dir, "avmon", {{"AVMON_STREAM__NAME", kBadStream}});
  ASSERT_EQ(avmon.wait(60), 0) << avmon.err();
  auto events = read_events(dir / "events.jsonl");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["kind"], "stream.summary");
  std::size_t spooled = 0;
  for (const auto& f : fs::directory_iterator(dir / "spool" / "webhook")) {
    std::string text = read_file(f.path());
    EXPECT_TRUE(is_valid_utf8(text)) << f.path();
    auto j = nlohmann::json::parse(text, nullptr, false);
    ASSERT_TRUE(j.is_object()) << text;
    EXPECT_EQ(j["event"]["stream"], kGoodStream);
    ++spooled;
  }
  EXPECT_EQ(spooled, events.size());
}

// Secrets in the input URL: the userinfo and the query's values appear in no
// output; the URL is used as given only to open the input.
const std::string kUser = "operator7", kPassword = "s3cretPW", kToken = "T0KEN42";

std::string secret_url(int port, const std::string& file) {
  return "http://" + kUser + ":" + kPassword + "@127.0.0.1:" + std::to_string(port) + "/" + file + "?token=" + kToken +
         "&quality=hd";
}

void expect_no_secret(const std::string& where, const std::string& text) {
  for (const auto& secret : {kUser, kPassword, kToken}) EXPECT_EQ(text.find(secret), std::string::npos) << where << ":\n" << text;
}

TEST(OpsSecrets, CredentialsAndTokensOfTheInputUrlAppearInNoOutput) {
  auto dir = scratch_dir("secrets");
  auto clip = make_clip(dir, "clip.ts", 5, "drawbox=enable='between(t,1,2.999)':color=black:t=fill");
  int port = free_port(), http_port = free_port(), hook_port = free_port();
  auto server = std::make_unique<Process>(
      std::vector<std::string>{"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir.string(),
                               std::to_string(port)},
      dir, "server");
  Process hook(receiver_argv(hook_port, dir / "hook.jsonl"), dir, "hook");
  ASSERT_TRUE(wait_for_port(port, 10) && wait_for_port(hook_port, 10));
  std::ofstream(dir / "avmon.yaml") << "input:\n  reconnect_initial_delay_s: 0.2\n  reconnect_max_delay_s: 0.5\n"
                                       "notifiers:\n  webhook:\n    url: http://127.0.0.1:"
                                    << hook_port << "/hook\n";
  Process avmon({avmon_binary(), "run", "--input", secret_url(port, "clip.ts"), "--events",
                 (dir / "events.jsonl").string(), "--config", (dir / "avmon.yaml").string(), "--http",
                 "127.0.0.1:" + std::to_string(http_port)},
                dir, "avmon");
  // The programme is read (an HTTP input is live: as fast as it comes), then
  // the server goes away and avmon keeps reconnecting, saying so.
  ASSERT_TRUE(wait_until([&] { return read_file(dir / "events.jsonl").find("\"black\"") != std::string::npos; }, 20))
      << avmon.err();
  server.reset();
  ASSERT_TRUE(wait_until([&] { return avmon.err().find("reconnect attempt 2 failed") != std::string::npos; }, 20))
      << avmon.err();
  const std::string shown = "http://***@127.0.0.1:" + std::to_string(port) + "/clip.ts?token=***&quality=***";
  auto status = http_get(http_port, "/status");
  ASSERT_EQ(status.status, 200);
  expect_no_secret("/status", status.body);
  EXPECT_EQ(nlohmann::json::parse(status.body)["input"]["url"], shown);
  auto metrics = http_get(http_port, "/metrics");
  expect_no_secret("/metrics", metrics.body);
  EXPECT_NE(metrics.body.find("avmon_input_up{input=\"" + shown + "\""), std::string::npos) << metrics.body;
  avmon.signal(SIGTERM);
  ASSERT_EQ(avmon.wait(30), 0) << avmon.err();

  // The stream's name comes from the host and path only.
  auto events = read_events(dir / "events.jsonl");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["stream"], "127.0.0.1-" + std::to_string(port) + "-clip.ts");
  EXPECT_EQ(events.back()["kind"], "stream.summary");
  EXPECT_EQ(events.back()["input"], shown);
  expect_no_secret("events", read_file(dir / "events.jsonl"));
  EXPECT_NE(avmon.err().find("cannot open " + shown + ": "), std::string::npos) << avmon.err();
  expect_no_secret("log", avmon.err());
  ASSERT_TRUE(wait_until([&] { return read_json_lines(dir / "hook.jsonl").size() >= events.size(); }, 10));
  expect_no_secret("webhook", read_file(dir / "hook.jsonl"));
}

TEST(OpsSecrets, ReconnectWarningsAndTheFinalErrorShowTheRedactedUrl) {
  auto dir = scratch_dir("secrets-down");
  int port = free_port();  // nothing listens there
  std::ofstream(dir / "avmon.yaml") << "input:\n  reconnect_max_attempts: 2\n  reconnect_initial_delay_s: 0.1\n";
  RunResult r = run_avmon(secret_url(port, "live.ts"), dir / "events.jsonl", {"--config", (dir / "avmon.yaml").string()}, 60);
  EXPECT_EQ(r.exit_status, 3) << r.err;
  const std::string shown = "http://***@127.0.0.1:" + std::to_string(port) + "/live.ts?token=***&quality=***";
  EXPECT_NE(r.err.find("cannot open " + shown + ": Connection refused; will keep trying"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("reconnect attempt 2 failed"), std::string::npos) << r.err;
  expect_no_secret("log", r.err);
  expect_no_secret("events", read_file(dir / "events.jsonl"));
}

}  // namespace
}  // namespace avmon::test
