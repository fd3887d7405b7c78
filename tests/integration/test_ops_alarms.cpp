// The alarm layer end to end: avmon with a mask from its configuration, its
// alarm API acknowledging an alarm while it fires, a real Alertmanager and a
// real Mosquitto. A masked alarm never reaches Alertmanager but is published
// on MQTT (masked: true); the acknowledged alarm reaches Alertmanager with
// who acknowledged it, and the acknowledgement is an event line everywhere.
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

TEST(OpsAlarms, MaskedAlarmsStayOffAlertmanagerAndAcknowledgementsReachIt) {
  AVMON_REQUIRE_PROGRAM(am_binary, "prometheus-alertmanager");
  AVMON_REQUIRE_PROGRAM(broker, "mosquitto");
  AVMON_REQUIRE_PROGRAM(sub, "mosquitto_sub");
  auto dir = scratch_dir("alarms");
  // Black (masked) from 1 s to 4 s; silence (paged, then acknowledged) from 6 s to 14 s.
  auto clip = make_clip(dir, "alarms.mp4", 17, "drawbox=enable='between(t,1,3.999)':color=black:t=fill",
                        "volume=enable='between(t,6,13.999)':volume=0");
  AlertmanagerServer am;
  ASSERT_TRUE(am.start(am_binary, dir)) << am.am->err();
  int mqtt_port = free_port();
  std::ofstream(dir / "mosquitto.conf") << "listener " << mqtt_port << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
  Process mosquitto({broker, "-c", (dir / "mosquitto.conf").string()}, dir, "mosquitto");
  ASSERT_TRUE(wait_for_port(mqtt_port, 10)) << mosquitto.err();
  Process subscriber({sub, "-h", "127.0.0.1", "-p", std::to_string(mqtt_port), "-q", "1", "-t", "avmon/#", "-F", "%t|%p"},
                     dir, "sub");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int http_port = free_port();
  std::ofstream(dir / "avmon.yaml") << "stream:\n  name: studio-c\n"
                                    << "http:\n  listen: 127.0.0.1:" << http_port << "\n"
                                    << "alarms:\n  masks:\n    maintenance: {types: [black]}\n"
                                    << "notifiers:\n  alertmanager:\n    url: http://127.0.0.1:" << am.port
                                    << "\n    resend_interval_s: 1\n  mqtt:\n    host: 127.0.0.1\n    port: " << mqtt_port
                                    << "\n    keepalive_s: 5\n";
  const std::string token = "e2e-token-5b1d";
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", (dir / "avmon.yaml").string()},
                dir, "avmon", {{"AVMON_HTTP__API_TOKEN", token}});
  ASSERT_TRUE(wait_for_port(http_port, 10)) << avmon.err();

  // The silence alarm, once it fires; Alertmanager never holds a black one.
  std::string silence_id;
  bool black_seen_in_am = false;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& a : am.alerts()) black_seen_in_am |= a["labels"].value("type", "") == "black";
        HttpResult r = http_get(http_port, "/api/v1/alarms");
        if (r.status != 200) return false;
        for (const auto& a : nlohmann::json::parse(r.body))
          if (a["type"] == "silence" && a["state"] == "active") silence_id = a["id"];
        return !silence_id.empty();
      },
      30))
      << avmon.err();
  HttpResult listed = http_get(http_port, "/api/v1/alarms");
  bool black_listed_masked = false;
  for (const auto& a : nlohmann::json::parse(listed.body))
    if (a["type"] == "black") black_listed_masked = a["masked"] == true;
  EXPECT_TRUE(black_listed_masked) << listed.body;

  // Without the token: refused; with it: acknowledged.
  const std::string ack_path = "/api/v1/alarms/" + silence_id + "/ack";
  EXPECT_EQ(http_call(http_port, "POST", ack_path, R"({"by":"jo"})").status, 401);
  HttpResult acked = http_call(http_port, "POST", ack_path, R"({"by":"jo","comment":"studio informed"})",
                               "Authorization: Bearer " + token + "\r\n");
  ASSERT_EQ(acked.status, 200) << acked.body;

  // Alertmanager's silence alert now says who acknowledged it.
  nlohmann::json held;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& a : am.alerts()) {
          black_seen_in_am |= a["labels"].value("type", "") == "black";
          if (a["labels"].value("type", "") == "silence" && a["annotations"].value("acked_by", "") == "jo") held = a;
        }
        return held.is_object();
      },
      10))
      << avmon.err();
  EXPECT_EQ(held["annotations"]["ack_comment"], "studio informed");
  EXPECT_EQ(held["annotations"]["alarm_id"], silence_id);
  ASSERT_EQ(avmon.wait(60), 0) << avmon.err();
  EXPECT_TRUE(wait_until([&] { return am.notified("resolved", "studio-c", "silence"); }, 15));
  EXPECT_FALSE(black_seen_in_am);
  EXPECT_FALSE(am.notified("firing", "studio-c", "black"));

  // The JSON lines: black masked, silence acknowledged, the ack a line.
  auto lines = read_json_lines(dir / "events.jsonl");
  int black_starts = 0, acks = 0;
  for (const auto& l : lines) {
    if (l["kind"] == "defect.start" && l["type"] == "black") {
      ++black_starts;
      EXPECT_EQ(l["masked"], true);
      EXPECT_EQ(l["alarm"]["masked_by"], nlohmann::json::array({"maintenance"}));
    }
    if (l["kind"] == "defect.end" && l["type"] == "silence") {
      EXPECT_EQ(l["alarm"]["acked"]["by"], "jo");
    }
    if (l["kind"] == "alarm.ack") {
      ++acks;
      EXPECT_EQ(l["id"], silence_id);
      EXPECT_EQ(l["details"]["comment"], "studio informed");
    }
  }
  EXPECT_EQ(black_starts, 1);
  EXPECT_EQ(acks, 1);

  // MQTT is not a paging output: it got the masked alarm and the ack.
  ASSERT_TRUE(wait_until([&] { return subscriber.out().find("\"alarm.ack\"") != std::string::npos; }, 10))
      << subscriber.out();
  std::string out = subscriber.out();
  EXPECT_NE(out.find("avmon/studio-c/events|{\"kind\":\"defect.start\""), std::string::npos) << out;
  bool masked_black_published = false;
  std::istringstream published(out);
  for (std::string line; std::getline(published, line);) {
    auto bar = line.find('|');
    if (bar == std::string::npos || line.compare(0, bar, "avmon/studio-c/events") != 0) continue;
    auto e = nlohmann::json::parse(line.substr(bar + 1), nullptr, false);
    if (e.is_object() && e["kind"] == "defect.start" && e["type"] == "black") masked_black_published = e["masked"] == true;
  }
  EXPECT_TRUE(masked_black_published) << out;
}

}  // namespace
}  // namespace avmon::test
