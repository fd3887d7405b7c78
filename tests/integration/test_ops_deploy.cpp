// The container and fleet manifests: kustomize renders them (kubectl's
// built-in kustomize, as CI has it), they say what operators rely on, and the
// configuration and rules they ship are valid for avmon and Prometheus.
#include <set>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

const std::string kDeploy = std::string(AVMON_SOURCE_DIR) + "/deploy";

TEST(OpsDeploy, TheFleetExampleRendersOneRecreatedDeploymentPerStreamWithProbes) {
  AVMON_REQUIRE_PROGRAM(kubectl, "kubectl");
  RunResult r = run_process({kubectl, "kustomize", kDeploy + "/k8s/examples/fleet"}, 120);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<YAML::Node> docs = YAML::LoadAll(r.out);
  std::set<std::string> streams, configmaps;
  for (const auto& d : docs) {
    std::string kind = d["kind"].as<std::string>();
    if (kind == "ConfigMap") configmaps.insert(d["metadata"]["name"].as<std::string>());
    if (kind != "Deployment") continue;
    EXPECT_EQ(d["metadata"]["namespace"].as<std::string>(), "avmon");
    EXPECT_EQ(d["spec"]["replicas"].as<int>(), 1);
    EXPECT_EQ(d["spec"]["strategy"]["type"].as<std::string>(), "Recreate");
    auto pod = d["spec"]["template"];
    EXPECT_EQ(pod["metadata"]["annotations"]["prometheus.io/scrape"].as<std::string>(), "true");
    EXPECT_EQ(pod["metadata"]["annotations"]["prometheus.io/port"].as<std::string>(), "8080");
    auto c = pod["spec"]["containers"][0];
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
    EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
    EXPECT_TRUE(c["resources"]["limits"]["memory"]);
    EXPECT_TRUE(pod["spec"]["securityContext"]["runAsNonRoot"].as<bool>());
    for (const auto& e : c["env"])
      if (e["name"].as<std::string>() == "AVMON_STREAM__NAME") streams.insert(e["value"].as<std::string>());
    // Each Deployment selects its own pods only.
    EXPECT_TRUE(d["spec"]["selector"]["matchLabels"]["avmon/stream"]);
  }
  EXPECT_EQ(streams, (std::set<std::string>{"studio-a", "studio-b", "studio-c"}));
  EXPECT_TRUE(configmaps.count("avmon-prometheus-rules"));
  EXPECT_TRUE(configmaps.count("avmon-grafana-dashboard"));
}

TEST(OpsDeploy, ShippedConfigurationRulesAndDashboardAreValid) {
  std::vector<std::string> configs = {kDeploy + "/k8s/base/avmon.yaml"};
  for (const auto& e : std::filesystem::directory_iterator(std::string(AVMON_SOURCE_DIR) + "/configs/examples"))
    if (e.path().extension() == ".yaml") configs.push_back(e.path().string());
  for (const auto& c : configs) {
    RunResult cfg = run_process({avmon_binary(), "check-config", c}, 60);
    EXPECT_EQ(cfg.exit_status, 0) << c << ": " << cfg.err;
  }
  auto dash = nlohmann::json::parse(read_file(kDeploy + "/k8s/monitoring/dashboard/avmon-dashboard.json"), nullptr, false);
  ASSERT_TRUE(dash.is_object());
  EXPECT_GE(dash["panels"].size(), 8u);
  std::string promtool = find_program("promtool");
  if (promtool.empty()) GTEST_SKIP() << "\n\n*** SKIPPED (rules part): 'promtool' (package prometheus) is not installed ***\n\n";
  RunResult rules = run_process({promtool, "check", "rules", kDeploy + "/k8s/monitoring/rules/avmon-rules.yaml"}, 60);
  EXPECT_EQ(rules.exit_status, 0) << rules.out << rules.err;
}

}  // namespace
}  // namespace avmon::test
