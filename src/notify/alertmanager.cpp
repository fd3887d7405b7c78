// Alertmanager API v2. A defect is one alert whose labels are stable for its
// stream, type, detector and channel (so Alertmanager groups and
// deduplicates it); its start fires it, its end resolves it (endsAt). Alerts
// still firing are re-sent every resend_interval_s, as Prometheus does, so
// that an Alertmanager restart or its resolve_timeout loses nothing.
#include <chrono>
#include <map>

#include <spdlog/spdlog.h>

#include "notify/http_client.hpp"
#include "notify/notifier.hpp"
#include "util/text.hpp"

namespace avmon {

nlohmann::json alertmanager_alert(const nlohmann::json& event) {
  nlohmann::json labels = {{"alertname", "AvmonDefect"},
                           {"stream", event.value("stream", "")},
                           {"type", event.value("type", "")},
                           {"detector", event.value("detector", "")},
                           {"severity", event.value("severity", "")}};
  if (event.contains("channel")) labels["channel"] = to_json_text(event["channel"]);
  nlohmann::json details = event.value("details", nlohmann::json::object());
  nlohmann::json annotations = {
      {"summary", event.value("type", "") + " on stream " + event.value("stream", "")},
      {"defect_id", event.value("id", "")},
      {"media_time_s", to_json_text(event.value("media_time", 0.0))},
      {"details", to_json_text(details)}};
  if (details.contains("thumbnail") && details["thumbnail"].is_string())
    annotations["thumbnail"] = details["thumbnail"];
  nlohmann::json alert = {{"labels", labels}, {"annotations", annotations}};
  if (event.value("kind", "") == "defect.end") alert["endsAt"] = event.value("wall_time", "");
  else alert["startsAt"] = event.value("wall_time", "");
  return alert;
}

namespace {

class Alertmanager final : public Transport {
 public:
  Alertmanager(const std::string& url, double resend_interval_s, double timeout_s, const std::string& ca_file)
      : url_(parse_http_url(trim(url) + "/api/v2/alerts")), resend_s_(resend_interval_s), timeout_s_(timeout_s),
        ca_file_(ca_file) {}
  std::string name() const override { return "alertmanager"; }
  void cancel() override { cancel_.cancel(); }

  SendResult send(const Delivery& d) override {
    std::string kind = d.event.value("kind", "");
    if (kind != "defect.start" && kind != "defect.end") return SendResult::ok();
    nlohmann::json alert = alertmanager_alert(d.event);
    std::string key = to_json_text(alert["labels"]);
    if (kind == "defect.end") {
      auto it = firing_.find(key);
      if (it != firing_.end()) alert["startsAt"] = it->second["startsAt"];
    }
    SendResult r = post(nlohmann::json::array({alert}));
    if (r.outcome == SendResult::Outcome::Delivered) {
      if (kind == "defect.start") firing_[key] = alert;
      else firing_.erase(key);
    }
    return r;
  }

  void idle() override {
    auto now = std::chrono::steady_clock::now();
    if (firing_.empty() || now - last_resend_ < std::chrono::duration<double>(resend_s_)) return;
    last_resend_ = now;
    nlohmann::json alerts = nlohmann::json::array();
    for (const auto& [key, alert] : firing_) alerts.push_back(alert);
    SendResult r = post(alerts);
    if (r.outcome != SendResult::Outcome::Delivered)
      spdlog::warn("notifier alertmanager: re-sending {} firing alert(s) failed: {}", alerts.size(), r.detail);
  }

 private:
  static std::string trim(std::string u) {
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }

  SendResult post(const nlohmann::json& alerts) {
    HttpReply r = http_post(url_, {}, to_json_text(alerts), timeout_s_, ca_file_, &cancel_);
    if (r.status == 0) return SendResult::retry(r.error);
    if (r.status >= 200 && r.status < 300) return SendResult::ok();
    std::string what = "alertmanager answered " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
    if (r.status == 429 || r.status >= 500) return SendResult::retry(what, r.retry_after_s);
    return {SendResult::Outcome::Reject, -1, what};
  }

  HttpUrl url_;
  double resend_s_, timeout_s_;
  std::string ca_file_;
  HttpCancel cancel_;
  std::map<std::string, nlohmann::json> firing_;  // by labels
  std::chrono::steady_clock::time_point last_resend_{};
};

}  // namespace

std::unique_ptr<Transport> make_alertmanager_transport(const std::string& url, double resend_interval_s,
                                                       double timeout_s, const std::string& ca_file) {
  return std::make_unique<Alertmanager>(url, resend_interval_s, timeout_s, ca_file);
}

}  // namespace avmon
