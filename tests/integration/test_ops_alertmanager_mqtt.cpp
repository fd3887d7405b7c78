// Alertmanager and MQTT against the real servers from Debian, started here
// on free loopback ports in temporary directories.
#include <signal.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// A real Alertmanager that forwards its notifications (firing and resolved)
// to the test receiver, so the test sees what an on-call person would get.
struct AlertmanagerServer {
  int port = free_port();
  int hook_port = free_port();
  std::unique_ptr<Process> am, hook;
  fs::path hook_log;

  bool start(const std::string& binary, const fs::path& dir) {
    hook_log = dir / "am-notifications.jsonl";
    hook = std::make_unique<Process>(receiver_argv(hook_port, hook_log), dir, "am-hook");
    std::ofstream(dir / "alertmanager.yml")
        << "route:\n  receiver: hook\n  group_by: [stream, type]\n  group_wait: 1s\n  group_interval: 1s\n"
           "  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n"
           "      - url: http://127.0.0.1:" << hook_port << "/am\n        send_resolved: true\n";
    fs::create_directories(dir / "am-data");
    am = std::make_unique<Process>(
        std::vector<std::string>{binary, "--config.file=" + (dir / "alertmanager.yml").string(),
                                 "--storage.path=" + (dir / "am-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                 "--cluster.listen-address=", "--log.level=warn"},
        dir, "alertmanager");
    return wait_for_port(port, 30) && wait_for_port(hook_port, 10);
  }
  // Alerts Alertmanager holds now (firing ones; resolved ones leave the list).
  nlohmann::json alerts() {
    auto r = http_get(port, "/api/v2/alerts");
    return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json::array();
  }
  // Notifications Alertmanager sent, as (status, labels) pairs.
  std::vector<std::pair<std::string, nlohmann::json>> notifications() {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& n : read_json_lines(hook_log))
      if (n["body"].is_object())
        for (const auto& a : n["body"]["alerts"]) out.emplace_back(a.value("status", ""), a["labels"]);
    return out;
  }
  bool notified(const std::string& status, const std::string& stream, const std::string& type) {
    for (const auto& [s, labels] : notifications())
      if (s == status && labels.value("stream", "") == stream && labels.value("type", "") == type) return true;
    return false;
  }
};

TEST(OpsAlertmanager, ADefectFiresAnAlertAndItsEndResolvesIt) {
  AVMON_REQUIRE_PROGRAM(binary, "prometheus-alertmanager");
  auto dir = scratch_dir("alertmanager");
  auto clip = make_clip(dir, "am.mp4", 9, "drawbox=enable='between(t,1,5.999)':color=black:t=fill");
  AlertmanagerServer am;
  ASSERT_TRUE(am.start(binary, dir)) << am.am->err();
  std::ofstream(dir / "avmon.yaml") << "stream:\n  name: studio-a\nnotifiers:\n  alertmanager:\n    url: http://127.0.0.1:"
                                    << am.port << "\n    resend_interval_s: 1\n";
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", (dir / "avmon.yaml").string()},
                dir, "avmon");
  // While the picture is black, Alertmanager holds the alert with our labels.
  nlohmann::json held;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& a : am.alerts())
          if (a["labels"].value("type", "") == "black") held = a;
        return held.is_object();
      },
      20))
      << avmon.err();
  EXPECT_EQ(held["labels"]["alertname"], "AvmonDefect");
  EXPECT_EQ(held["labels"]["stream"], "studio-a");
  EXPECT_FALSE(held["labels"].value("severity", "").empty());
  EXPECT_FALSE(held["annotations"].value("defect_id", "").empty());
  EXPECT_EQ(held["status"]["state"], "active");
  ASSERT_EQ(avmon.wait(60), 0) << avmon.err();
  // Alertmanager told its receiver: firing, then resolved.
  EXPECT_TRUE(wait_until([&] { return am.notified("firing", "studio-a", "black"); }, 15));
  EXPECT_TRUE(wait_until([&] { return am.notified("resolved", "studio-a", "black"); }, 15));
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& a : am.alerts())
          if (a["labels"].value("type", "") == "black") return false;
        return true;
      },
      10));
}

TEST(OpsMqtt, EventsArriveWithQos1AndTheLastWillSaysOffline) {
  AVMON_REQUIRE_PROGRAM(broker, "mosquitto");
  AVMON_REQUIRE_PROGRAM(sub, "mosquitto_sub");
  auto dir = scratch_dir("mqtt");
  auto clip = make_clip(dir, "mqtt.mp4", 30, "drawbox=enable='between(t,1,3.999)':color=black:t=fill");
  int port = free_port();
  std::ofstream(dir / "mosquitto.conf") << "listener " << port << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
  Process mosquitto({broker, "-c", (dir / "mosquitto.conf").string()}, dir, "mosquitto");
  ASSERT_TRUE(wait_for_port(port, 10)) << mosquitto.err();
  // Topic, QoS of the delivery, retain flag, payload.
  Process subscriber({sub, "-h", "127.0.0.1", "-p", std::to_string(port), "-q", "1", "-t", "avmon/#", "-F", "%t|%q|%r|%p"},
                     dir, "sub");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::ofstream(dir / "avmon.yaml") << "stream:\n  name: studio-b\nnotifiers:\n  mqtt:\n    host: 127.0.0.1\n    port: "
                                    << port << "\n    keepalive_s: 5\n";
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", (dir / "avmon.yaml").string()},
                dir, "avmon");
  ASSERT_TRUE(wait_until([&] { return subscriber.out().find("avmon/studio-b/status|1|0|online") != std::string::npos; }, 15))
      << subscriber.out() << avmon.err();
  // The black defect's start and end, published with QoS 1.
  ASSERT_TRUE(wait_until([&] { return subscriber.out().find("\"defect.end\"") != std::string::npos; }, 20))
      << subscriber.out() << avmon.err();
  std::string out = subscriber.out();
  EXPECT_NE(out.find("avmon/studio-b/events|1|0|{\"kind\":\"defect.start\""), std::string::npos) << out;
  // Killed without a goodbye: the broker publishes the will.
  avmon.signal(SIGKILL);
  avmon.wait(10);
  EXPECT_TRUE(wait_until([&] { return subscriber.out().find("avmon/studio-b/status|1|0|offline") != std::string::npos; }, 20))
      << subscriber.out();
  // ... and keeps it for whoever subscribes later.
  RunResult retained = run_process({sub, "-h", "127.0.0.1", "-p", std::to_string(port), "-t", "avmon/studio-b/status",
                                    "-C", "1", "-W", "5", "-F", "%r|%p"},
                                   10);
  EXPECT_EQ(retained.out, "1|offline\n");
}

}  // namespace
}  // namespace avmon::test
