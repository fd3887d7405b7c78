// A small fleet on one machine: three avmon processes on three generated
// streams, a real Prometheus scraping them (with the fleet alert rules from
// deploy/) and a real Alertmanager receiving their alerts. Alerts must fire
// and resolve for the right stream, and only for it.
#include <signal.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

nlohmann::json prom_query(int port, const std::string& expr) {
  std::string q;
  for (unsigned char c : expr) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') q += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      q += buf;
    }
  }
  auto r = http_get(port, "/api/v1/query?query=" + q);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.value("status", "") == "success" ? j["data"]["result"] : nlohmann::json::array();
}

// stream label -> value of an instant query's result.
std::map<std::string, double> by_stream(const nlohmann::json& result) {
  std::map<std::string, double> m;
  for (const auto& r : result) m[r["metric"].value("stream", "")] = std::stod(r["value"][1].get<std::string>());
  return m;
}

TEST(OpsFleet, PrometheusScrapesThreeStreamsAndAlertsFireAndResolveForTheRightOne) {
  AVMON_REQUIRE_PROGRAM(prometheus, "prometheus");
  AVMON_REQUIRE_PROGRAM(alertmanager, "prometheus-alertmanager");
  auto dir = scratch_dir("fleet");
  struct Stream {
    std::string name, vfilter, afilter, defect;
  };
  const std::vector<Stream> streams = {
      {"alpha", "drawbox=enable='between(t,4,9.999)':color=black:t=fill", "", "black"},
      {"bravo", "", "volume=enable='between(t,4,9.999)':volume=0", "silence"},
      {"charlie", "", "", ""}};
  std::vector<fs::path> clips;
  for (const auto& s : streams) clips.push_back(make_clip(dir, s.name + ".mp4", 16, s.vfilter, s.afilter));

  // Alertmanager, forwarding to a receiver that logs firing and resolved notifications.
  int am_port = free_port(), hook_port = free_port(), prom_port = free_port();
  Process hook(receiver_argv(hook_port, dir / "am-notifications.jsonl"), dir, "hook");
  std::ofstream(dir / "alertmanager.yml")
      << "route:\n  receiver: hook\n  group_by: [alertname, stream, type]\n  group_wait: 1s\n  group_interval: 1s\n"
         "  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:"
      << hook_port << "/am\n        send_resolved: true\n";
  fs::create_directories(dir / "am-data");
  Process am({alertmanager, "--config.file=" + (dir / "alertmanager.yml").string(),
              "--storage.path=" + (dir / "am-data").string(), "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
              "--cluster.listen-address=", "--log.level=warn"},
             dir, "alertmanager");
  ASSERT_TRUE(wait_for_port(am_port, 30)) << am.err();

  // The three monitors, each with its HTTP surface and the Alertmanager notifier.
  std::vector<int> http_ports;
  std::vector<std::unique_ptr<Process>> monitors;
  std::string targets;
  for (size_t i = 0; i < streams.size(); ++i) {
    int port = free_port();
    http_ports.push_back(port);
    targets += std::string(targets.empty() ? "" : ", ") + "'127.0.0.1:" + std::to_string(port) + "'";
  }

  // Prometheus scrapes every second and evaluates the fleet rules shipped in deploy/.
  std::string rules = std::string(AVMON_SOURCE_DIR) + "/deploy/k8s/monitoring/rules/avmon-rules.yaml";
  std::ofstream(dir / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['" << rules
      << "']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:" << am_port
      << "']\nscrape_configs:\n  - job_name: avmon\n    static_configs:\n      - targets: [" << targets << "]\n";
  Process prom({prometheus, "--config.file=" + (dir / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (dir / "prom-data").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
               dir, "prometheus");
  ASSERT_TRUE(wait_for_port(prom_port, 30)) << prom.err();
  // The rules file from deploy/ loaded and is healthy.
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = http_get(prom_port, "/api/v1/rules");
        return r.status == 200 && r.body.find("AvmonInputDown") != std::string::npos;
      },
      20))
      << prom.err();

  for (size_t i = 0; i < streams.size(); ++i) {
    std::ofstream(dir / (streams[i].name + ".yaml"))
        << "stream:\n  name: " << streams[i].name << "\nnotifiers:\n  alertmanager:\n    url: http://127.0.0.1:"
        << am_port << "\n    resend_interval_s: 2\n";
    monitors.push_back(std::make_unique<Process>(
        std::vector<std::string>{avmon_binary(), "run", "--realtime", "--input", clips[i].string(), "--events",
                                 (dir / (streams[i].name + ".jsonl")).string(), "--config",
                                 (dir / (streams[i].name + ".yaml")).string(), "--http",
                                 "127.0.0.1:" + std::to_string(http_ports[i])},
        dir, streams[i].name));
  }

  // All three are scraped and up.
  EXPECT_TRUE(wait_until([&] { return by_stream(prom_query(prom_port, "avmon_input_up == 1")).size() == 3; }, 20))
      << prom.err();
  // In the middle of the defects, Prometheus sees each defect on its own stream only.
  ASSERT_TRUE(wait_until(
      [&] {
        auto black = by_stream(prom_query(prom_port, "avmon_active_defects{type=\"black\"} == 1"));
        auto silence = by_stream(prom_query(prom_port, "avmon_active_defects{type=\"silence\"} == 1"));
        return black.size() == 1 && black.count("alpha") && silence.size() == 1 && silence.count("bravo");
      },
      30));

  for (auto& m : monitors) EXPECT_EQ(m->wait(60), 0) << m->err();

  // Alertmanager notified firing, then resolved, for exactly those streams.
  auto notified = [&](const std::string& status, const std::string& stream, const std::string& type) {
    for (const auto& n : read_json_lines(dir / "am-notifications.jsonl"))
      if (n["body"].is_object())
        for (const auto& a : n["body"]["alerts"])
          if (a.value("status", "") == status && a["labels"].value("alertname", "") == "AvmonDefect" &&
              a["labels"].value("stream", "") == stream && a["labels"].value("type", "") == type)
            return true;
    return false;
  };
  for (const auto& s : streams) {
    if (s.defect.empty()) continue;
    EXPECT_TRUE(wait_until([&] { return notified("firing", s.name, s.defect); }, 15)) << s.name;
    EXPECT_TRUE(wait_until([&] { return notified("resolved", s.name, s.defect); }, 15)) << s.name;
  }
  for (const auto& n : read_json_lines(dir / "am-notifications.jsonl"))
    if (n["body"].is_object())
      for (const auto& a : n["body"]["alerts"])
        if (a["labels"].value("alertname", "") == "AvmonDefect") {
          // (testsrc2 may rightly count as a line-up pattern; black and silence are what differ.)
          std::string stream = a["labels"].value("stream", ""), type = a["labels"].value("type", "");
          if (type == "black") {
            EXPECT_EQ(stream, "alpha") << a.dump();
          }
          if (type == "silence") {
            EXPECT_EQ(stream, "bravo") << a.dump();
          }
        }
  // Over the run, Prometheus recorded the black defect for alpha only.
  auto peak = by_stream(prom_query(prom_port, "max_over_time(avmon_active_defects{type=\"black\"}[2m])"));
  EXPECT_EQ(peak["alpha"], 1);
  EXPECT_EQ(peak["bravo"], 0);
  EXPECT_EQ(peak["charlie"], 0);
}

}  // namespace
}  // namespace avmon::test
