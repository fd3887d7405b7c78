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
