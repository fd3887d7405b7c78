// What the deploy/ folder promises a platform engineer, checked on what
// kubectl's kustomize renders (the built-in kustomize of the kubectl CI has),
// on the alert rules (promtool's unit tests) and on the example Alertmanager
// configuration (amtool, then a real Alertmanager's routing and inhibition).
#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

const std::string kDeploy = std::string(AVMON_SOURCE_DIR) + "/deploy";
const std::string kK8s = kDeploy + "/k8s";

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// `kubectl kustomize DIR`, parsed; fails the test when it does not render.
std::vector<YAML::Node> render(const std::string& dir) {
  std::string kubectl = find_program("kubectl");
  if (kubectl.empty()) ADD_FAILURE() << "kubectl is not installed (scripts/setup installs kubernetes-client)";
  if (kubectl.empty()) return {};
  RunResult r = run_process({kubectl, "kustomize", dir}, 120);
  EXPECT_EQ(r.exit_status, 0) << dir << ": " << r.err;
  return YAML::LoadAll(r.out);
}

std::vector<YAML::Node> of_kind(const std::vector<YAML::Node>& docs, const std::string& kind) {
  std::vector<YAML::Node> out;
  for (const auto& d : docs)
    if (d["kind"].as<std::string>() == kind) out.push_back(d);
  return out;
}

std::string str(const YAML::Node& n) { return n ? n.as<std::string>() : std::string("<missing>"); }

// A YAML tree as JSON, keys sorted: equal whatever order a renderer wrote them in.
nlohmann::json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& kv : n) o[kv.first.as<std::string>()] = to_json(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : n) a.push_back(to_json(v));
    return a;
  }
  return n.IsNull() ? nlohmann::json() : nlohmann::json(n.as<std::string>());
}

YAML::Node env_var(const YAML::Node& container, const std::string& name) {
  for (const auto& e : container["env"])
    if (e["name"].as<std::string>() == name) return e;
  return YAML::Node();
}

// The pod of every avmon Deployment, whatever the overlay: the security
// context, probes, secrets, scrape annotations and config checksum the
// base promises.
void expect_hardened_monitor(const YAML::Node& deployment, const std::vector<YAML::Node>& docs) {
  SCOPED_TRACE(str(deployment["metadata"]["name"]));
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(), 1);
  EXPECT_EQ(str(deployment["spec"]["strategy"]["type"]), "Recreate");
  const auto pod = deployment["spec"]["template"];
  const auto spec = pod["spec"];
  EXPECT_FALSE(spec["automountServiceAccountToken"].as<bool>());
  EXPECT_FALSE(spec["enableServiceLinks"].as<bool>());
  const auto psc = spec["securityContext"];
  EXPECT_TRUE(psc["runAsNonRoot"].as<bool>());
  EXPECT_EQ(psc["runAsUser"].as<int>(), 10001);
  EXPECT_EQ(psc["runAsGroup"].as<int>(), 10001);
  EXPECT_EQ(str(psc["seccompProfile"]["type"]), "RuntimeDefault");
  ASSERT_EQ(spec["containers"].size(), 1u);
  const auto c = spec["containers"][0];
  const auto csc = c["securityContext"];
  EXPECT_TRUE(csc["runAsNonRoot"].as<bool>());
  EXPECT_EQ(csc["runAsUser"].as<int>(), 10001);
  EXPECT_FALSE(csc["allowPrivilegeEscalation"].as<bool>());
  EXPECT_TRUE(csc["readOnlyRootFilesystem"].as<bool>());
  ASSERT_EQ(csc["capabilities"]["drop"].size(), 1u);
  EXPECT_EQ(str(csc["capabilities"]["drop"][0]), "ALL");
  EXPECT_EQ(str(csc["seccompProfile"]["type"]), "RuntimeDefault");

  // Startup, liveness and readiness all on /healthz: readiness must not take
  // the status page away while the input is down (that is an alert).
  for (const char* probe : {"startupProbe", "livenessProbe", "readinessProbe"}) {
    EXPECT_EQ(str(c[probe]["httpGet"]["path"]), "/healthz") << probe;
    EXPECT_EQ(str(c[probe]["httpGet"]["port"]), "http") << probe;
  }
  EXPECT_GE(c["startupProbe"]["failureThreshold"].as<int>() * c["startupProbe"]["periodSeconds"].as<int>(), 30);
  EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
  EXPECT_TRUE(c["resources"]["requests"]["memory"]);
  EXPECT_TRUE(c["resources"]["limits"]["memory"]);

  // The port served, the port declared and the port scraped are one.
  std::string listen = str(env_var(c, "AVMON_HTTP__LISTEN")["value"]);
  std::string port = listen.substr(listen.rfind(':') + 1);
  EXPECT_EQ(std::to_string(c["ports"][0]["containerPort"].as<int>()), port);
  EXPECT_EQ(str(c["ports"][0]["name"]), "http");
  const auto ann = pod["metadata"]["annotations"];
  EXPECT_EQ(str(ann["prometheus.io/scrape"]), "true");
  EXPECT_EQ(str(ann["prometheus.io/port"]), port);
  EXPECT_EQ(str(ann["prometheus.io/path"]), "/metrics");

  // Secrets from the Secret, never as values.
  for (const auto& e : c["env"]) {
    std::string name = e["name"].as<std::string>();
    if (name.find("SECRET") != std::string::npos || name.find("PASSWORD") != std::string::npos ||
        name.find("TOKEN") != std::string::npos) {
      EXPECT_FALSE(e["value"]) << name << " has a literal value";
      EXPECT_EQ(str(e["valueFrom"]["secretKeyRef"]["name"]), "avmon-secrets") << name;
    }
  }
  for (const char* name : {"AVMON_NOTIFIERS__WEBHOOK__SECRET", "AVMON_NOTIFIERS__MQTT__PASSWORD"})
    EXPECT_TRUE(env_var(c, name)["valueFrom"]["secretKeyRef"]) << name;

  // The configuration: mounted read-only from the generated ConfigMap, whose
  // sha256 is the checksum/config annotation (a change rolls the pod).
  std::string configmap;
  for (const auto& v : spec["volumes"])
    if (v["configMap"]) configmap = str(v["configMap"]["name"]);
  const YAML::Node* cm = nullptr;
  for (const auto& d : docs)
    if (str(d["kind"]) == "ConfigMap" && str(d["metadata"]["name"]) == configmap) cm = &d;
  ASSERT_NE(cm, nullptr) << "no ConfigMap " << configmap;
  EXPECT_EQ(str(ann["checksum/config"]), sha256_hex(str((*cm)["data"]["avmon.yaml"])))
      << "stale checksum/config: run deploy/k8s/update-config-checksum";
  bool mounted = false;
  for (const auto& m : c["volumeMounts"])
    if (str(m["mountPath"]) == "/etc/avmon") mounted = m["readOnly"].as<bool>();
  EXPECT_TRUE(mounted);
}

TEST(OpsDeploy, TheFleetRendersHardenedMonitorsWithSecretsChecksumsPoliciesAndRules) {
  auto docs = render(kK8s + "/examples/fleet");
  ASSERT_FALSE(docs.empty());
  std::set<std::string> streams;
  auto deployments = of_kind(docs, "Deployment");
  ASSERT_EQ(deployments.size(), 3u);
  for (const auto& d : deployments) {
    EXPECT_EQ(str(d["metadata"]["namespace"]), "avmon");
    expect_hardened_monitor(d, docs);
    const auto c = d["spec"]["template"]["spec"]["containers"][0];
    streams.insert(str(env_var(c, "AVMON_STREAM__NAME")["value"]));
    // Each Deployment selects its own stream's pods only.
    EXPECT_TRUE(d["spec"]["selector"]["matchLabels"]["avmon/stream"]);
  }
  EXPECT_EQ(streams, (std::set<std::string>{"studio-a", "studio-b", "studio-c"}));
  // studio-c's RTMP URL carries its stream key: it comes from the Secret.
  for (const auto& d : deployments)
    if (str(d["metadata"]["name"]) == "avmon-studio-c") {
      auto url = env_var(d["spec"]["template"]["spec"]["containers"][0], "AVMON_INPUT__URL");
      EXPECT_FALSE(url["value"]);
      EXPECT_EQ(str(url["valueFrom"]["secretKeyRef"]["key"]), "studio-c-input-url");
    }

  // No secret in any ConfigMap.
  for (const auto& cm : of_kind(docs, "ConfigMap"))
    for (const auto& kv : cm["data"]) {
      std::string text = kv.second.as<std::string>();
      for (const char* key : {"secret:", "password:"}) {
        auto at = text.find(key);
        if (at == std::string::npos) continue;
        std::string rest = text.substr(at + std::strlen(key), text.find('\n', at) - at - std::strlen(key));
        EXPECT_EQ(rest.find_first_not_of(" \"'"), std::string::npos) << "a value for " << key << " in a ConfigMap";
      }
    }

  // One Service and one NetworkPolicy per stream, each selecting that stream's pods.
  auto services = of_kind(docs, "Service");
  auto policies = of_kind(docs, "NetworkPolicy");
  ASSERT_EQ(services.size(), 3u);
  ASSERT_EQ(policies.size(), 3u);
  for (const auto& p : policies) {
    SCOPED_TRACE(str(p["metadata"]["name"]));
    std::string stream = str(p["spec"]["podSelector"]["matchLabels"]["avmon/stream"]);
    EXPECT_EQ("avmon-" + stream, str(p["metadata"]["name"]));
    EXPECT_EQ(p["spec"]["policyTypes"].size(), 2u);
    // Scrapes (TCP 8080) from the monitoring namespace.
    bool scrape = false;
    for (const auto& rule : p["spec"]["ingress"])
      for (const auto& from : rule["from"])
        if (str(from["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]) == "monitoring")
          scrape = rule["ports"][0]["port"].as<int>() == 8080;
    EXPECT_TRUE(scrape);
    // Name resolution and Alertmanager are reachable.
    std::set<int> egress;
    for (const auto& rule : p["spec"]["egress"])
      for (const auto& port : rule["ports"]) egress.insert(port["port"].as<int>());
    EXPECT_TRUE(egress.count(53) && egress.count(9093) && egress.count(443));
  }
  for (const auto& s : services) EXPECT_TRUE(s["spec"]["selector"]["avmon/stream"]);

  std::set<std::string> configmaps;
  for (const auto& cm : of_kind(docs, "ConfigMap")) configmaps.insert(str(cm["metadata"]["name"]));
  EXPECT_TRUE(configmaps.count("avmon-prometheus-rules"));
  EXPECT_TRUE(configmaps.count("avmon-grafana-dashboard"));
  EXPECT_EQ(of_kind(docs, "Namespace").size(), 1u);
}

TEST(OpsDeploy, TheMulticastVariantUsesTheHostNetworkOnItsOwnPort) {
  auto docs = render(kK8s + "/examples/multicast");
  auto deployments = of_kind(docs, "Deployment");
  ASSERT_EQ(deployments.size(), 1u);
  const auto& d = deployments[0];
  expect_hardened_monitor(d, docs);
  const auto spec = d["spec"]["template"]["spec"];
  EXPECT_TRUE(spec["hostNetwork"].as<bool>());
  EXPECT_EQ(str(spec["dnsPolicy"]), "ClusterFirstWithHostNet");
  EXPECT_EQ(str(spec["nodeSelector"]["avmon/multicast"]), "true");
  const auto c = spec["containers"][0];
  EXPECT_EQ(c["ports"][0]["containerPort"].as<int>(), 18081);
  // $(NODE_IP) in the input URL is defined before it (Kubernetes expands only earlier variables).
  int node_ip = -1, url = -1, i = 0;
  for (const auto& e : c["env"]) {
    if (str(e["name"]) == "NODE_IP") node_ip = i;
    if (str(e["name"]) == "AVMON_INPUT__URL") url = i;
    ++i;
  }
  ASSERT_GE(node_ip, 0);
  ASSERT_GT(url, node_ip);
  EXPECT_EQ(str(c["env"][url]["value"]).rfind("udp://@239.", 0), 0u);
  EXPECT_NE(str(c["env"][url]["value"]).find("localaddr=$(NODE_IP)"), std::string::npos);
}

TEST(OpsDeploy, PrometheusOperatorObjectsMatchThePodsAndTheRulesFile) {
  auto docs = render(kK8s + "/monitoring/prometheus-operator");
  auto monitors = of_kind(docs, "PodMonitor");
  ASSERT_EQ(monitors.size(), 1u);
  const auto& pm = monitors[0];
  EXPECT_EQ(str(pm["apiVersion"]), "monitoring.coreos.com/v1");
  EXPECT_EQ(str(pm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]), "avmon");
  EXPECT_EQ(str(pm["spec"]["jobLabel"]), "app.kubernetes.io/name");
  EXPECT_EQ(str(pm["spec"]["podMetricsEndpoints"][0]["port"]), "http");
  EXPECT_EQ(str(pm["spec"]["podMetricsEndpoints"][0]["path"]), "/metrics");
  std::set<std::string> target_labels;
  for (const auto& l : pm["spec"]["podTargetLabels"]) target_labels.insert(l.as<std::string>());
  EXPECT_TRUE(target_labels.count("app.kubernetes.io/name") && target_labels.count("avmon/stream"));

  auto rules = of_kind(docs, "PrometheusRule");
  ASSERT_EQ(rules.size(), 1u);
  YAML::Node file = YAML::LoadFile(kK8s + "/monitoring/rules/avmon-rules.yaml");
  EXPECT_EQ(to_json(rules[0]["spec"]["groups"]), to_json(file["groups"]))
      << "prometheusrule.yaml is stale: run deploy/k8s/monitoring/prometheus-operator/generate-prometheusrule";
}

TEST(OpsDeploy, EveryAlertRuleHasPromtoolTestsThatPass) {
  AVMON_REQUIRE_PROGRAM(promtool, "promtool");
  const std::string rules = kK8s + "/monitoring/rules/";
  RunResult check = run_process({promtool, "check", "rules", rules + "avmon-rules.yaml"}, 60);
  EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
  RunResult test = run_process({promtool, "test", "rules", rules + "avmon-rules.test.yaml"}, 120);
  EXPECT_EQ(test.exit_status, 0) << test.out << test.err;
  // Every rule is the subject of at least one firing expectation.
  YAML::Node tests = YAML::LoadFile(rules + "avmon-rules.test.yaml");
  std::set<std::string> fired;
  for (const auto& t : tests["tests"])
    for (const auto& a : t["alert_rule_test"])
      if (a["exp_alerts"].size() > 0) fired.insert(a["alertname"].as<std::string>());
  for (const auto& g : YAML::LoadFile(rules + "avmon-rules.yaml")["groups"])
    for (const auto& r : g["rules"]) EXPECT_TRUE(fired.count(r["alert"].as<std::string>())) << r["alert"];
}

TEST(OpsDeploy, ShippedConfigurationAndDashboardAreValid) {
  std::vector<std::string> configs = {kK8s + "/base/avmon.yaml"};
  for (const auto& e : fs::directory_iterator(std::string(AVMON_SOURCE_DIR) + "/configs/examples"))
    if (e.path().extension() == ".yaml") configs.push_back(e.path().string());
  for (const auto& c : configs) {
    RunResult cfg = run_process({avmon_binary(), "check-config", c}, 60);
    EXPECT_EQ(cfg.exit_status, 0) << c << ": " << cfg.err;
  }
  auto dash = nlohmann::json::parse(read_file(kK8s + "/monitoring/dashboard/avmon-dashboard.json"), nullptr, false);
  ASSERT_TRUE(dash.is_object());
  EXPECT_GE(dash["panels"].size(), 8u);
}

// ---- the example Alertmanager configuration

const std::string kAlertmanagerConfig = kK8s + "/monitoring/alertmanager/alertmanager.yml";

TEST(OpsDeploy, AlertmanagerExampleIsValidAndRoutesAsDocumented) {
  AVMON_REQUIRE_PROGRAM(amtool, "amtool");
  RunResult check = run_process({amtool, "check-config", kAlertmanagerConfig}, 60);
  ASSERT_EQ(check.exit_status, 0) << check.out << check.err;
  auto route = [&](std::vector<std::string> labels) {
    std::vector<std::string> argv = {amtool, "config", "routes", "test", "--config.file=" + kAlertmanagerConfig};
    argv.insert(argv.end(), labels.begin(), labels.end());
    RunResult r = run_process(argv, 60);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  EXPECT_EQ(route({"alertname=AvmonDefect", "severity=critical", "stream=studio-a", "type=signal_loss"}), "noc-pager");
  EXPECT_EQ(route({"alertname=AvmonDefect", "severity=minor", "stream=studio-a", "type=clipping"}), "noc-chat");
  EXPECT_EQ(route({"alertname=AvmonMediaStale", "severity=critical", "stream=studio-a"}), "noc-pager");
  EXPECT_EQ(route({"alertname=AvmonInputDown", "severity=major", "stream=studio-a"}), "noc-chat");
  EXPECT_EQ(route({"alertname=AvmonMonitorDown", "severity=critical", "instance=x"}), "platform");
  EXPECT_EQ(route({"alertname=AvmonNotifierDisabled", "severity=warning", "stream=studio-a"}), "platform");
}

// The inhibitions on a real Alertmanager: while studio-a's input is down,
// its per-defect alerts (but signal_loss) and lasting-defect alerts are
// muted; studio-b's are not.
TEST(OpsDeploy, AlertmanagerExampleMutesPerDefectAlertsOfAStreamWhoseInputIsDown) {
  AVMON_REQUIRE_PROGRAM(binary, "prometheus-alertmanager");
  auto dir = scratch_dir("am-inhibit");
  fs::create_directories(dir / "data");
  int port = free_port();
  Process am({binary, "--config.file=" + kAlertmanagerConfig, "--storage.path=" + (dir / "data").string(),
              "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address=", "--log.level=warn"},
             dir, "alertmanager");
  ASSERT_TRUE(wait_for_port(port, 30)) << am.err();
  auto alert = [](std::map<std::string, std::string> labels) {
    return nlohmann::json{{"labels", labels}, {"annotations", {{"summary", "test"}}}};
  };
  nlohmann::json alerts = nlohmann::json::array({
      alert({{"alertname", "AvmonInputDown"}, {"stream", "studio-a"}, {"severity", "major"}, {"input", "udp://x"}}),
      alert({{"alertname", "AvmonDefect"}, {"stream", "studio-a"}, {"type", "signal_loss"}, {"severity", "critical"}}),
      alert({{"alertname", "AvmonDefect"}, {"stream", "studio-a"}, {"type", "black"}, {"severity", "critical"}}),
      alert({{"alertname", "AvmonDefectLasting"}, {"stream", "studio-a"}, {"type", "freeze"}, {"severity", "major"}}),
      alert({{"alertname", "AvmonDefect"}, {"stream", "studio-b"}, {"type", "black"}, {"severity", "critical"}}),
  });
  ASSERT_EQ(http_post_json(port, "/api/v2/alerts", alerts.dump()).status, 200);
  auto state = [&](const std::string& name, const std::string& stream, const std::string& type) {
    auto r = http_get(port, "/api/v2/alerts");
    for (const auto& a : nlohmann::json::parse(r.body, nullptr, false))
      if (a["labels"].value("alertname", "") == name && a["labels"].value("stream", "") == stream &&
          a["labels"].value("type", "") == type)
        return a["status"].value("state", "");
    return std::string("absent");
  };
  // Inhibition is applied as each group is flushed (group_wait up to 10 s).
  ASSERT_TRUE(wait_until(
      [&] {
        return state("AvmonDefect", "studio-a", "black") == "suppressed" &&
               state("AvmonDefectLasting", "studio-a", "freeze") == "suppressed";
      },
      40))
      << http_get(port, "/api/v2/alerts").body;
  EXPECT_EQ(state("AvmonDefect", "studio-a", "signal_loss"), "active");
  EXPECT_EQ(state("AvmonInputDown", "studio-a", ""), "active");
  EXPECT_EQ(state("AvmonDefect", "studio-b", "black"), "active");
}

}  // namespace
}  // namespace avmon::test
