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

namespace {

// A defect's end, or a flapping alarm's (src/alarms).
bool is_resolution(const nlohmann::json& event) {
  const std::string kind = event.value("kind", "");
  if (kind == "defect.end") return true;
  if (kind != "alarm.flapping") return false;
  auto d = event.find("details");
  return d != event.end() && d->is_object() && d->value("state", "") == "end";
}

}  // namespace

nlohmann::json alertmanager_alert(const nlohmann::json& event) {
  nlohmann::json labels = {{"alertname", "AvmonDefect"},
                           {"stream", event.value("stream", "")},
                           {"type", event.value("type", "")},
                           {"detector", event.value("detector", "")},
                           {"severity", event.value("severity", "")}};
  if (event.contains("channel")) labels["channel"] = to_json_text(event["channel"]);
  if (event.value("flapping", false)) labels["flapping"] = "true";
  nlohmann::json details = event.value("details", nlohmann::json::object());
  nlohmann::json annotations = {
      {"summary", event.value("type", "") + " on stream " + event.value("stream", "")},
      {"defect_id", event.value("id", "")},
      {"media_time_s", to_json_text(event.value("media_time", 0.0))},
      {"details", to_json_text(details)}};
  if (details.contains("thumbnail") && details["thumbnail"].is_string())
    annotations["thumbnail"] = details["thumbnail"];
  // The alarm layer's record (src/alarms): its id, and who acknowledged it.
  std::string since;
  if (auto a = event.find("alarm"); a != event.end() && a->is_object()) {
    annotations["alarm_id"] = a->value("id", "");
    since = a->value("since", "");
    if (auto ack = a->find("acked"); ack != a->end() && ack->is_object()) {
      annotations["acked_by"] = ack->value("by", "");
      annotations["acked_at"] = ack->value("at", "");
      annotations["ack_comment"] = ack->value("comment", "");
    }
  }
  nlohmann::json alert = {{"labels", labels}, {"annotations", annotations}};
  if (is_resolution(event)) alert["endsAt"] = event.value("wall_time", "");
  // An alarm handed over by the previous instance started then, not now.
  else if (event.contains("continues") && !since.empty()) alert["startsAt"] = since;
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
    if (kind == "alarm.ack") return acknowledge(d.event);
    if (kind != "defect.start" && kind != "defect.end" && kind != "alarm.flapping") return SendResult::ok();
    if (paging_skips(d.event, true)) return SendResult::ok();
    nlohmann::json alert = alertmanager_alert(d.event);
    std::string key = to_json_text(alert["labels"]);
    const bool resolves = is_resolution(d.event);
    if (resolves) {
      auto it = firing_.find(key);
      if (it != firing_.end()) {
        alert["startsAt"] = it->second["startsAt"];
        // An acknowledgement seen while it fired stays on its resolution.
        for (const char* k : {"acked_by", "acked_at", "ack_comment"})
          if (!alert["annotations"].contains(k) && it->second["annotations"].contains(k))
            alert["annotations"][k] = it->second["annotations"][k];
      }
    }
    SendResult r = post(nlohmann::json::array({alert}));
    if (r.outcome == SendResult::Outcome::Delivered) {
      if (!resolves) firing_[key] = alert;
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
  // The firing alert of the acknowledged alarm is posted again with who
  // acknowledged it (Alertmanager keeps the latest annotations).
  SendResult acknowledge(const nlohmann::json& event) {
    if (paging_skips(event, true)) return SendResult::ok();
    const auto alarm = event.find("alarm");
    if (alarm == event.end() || !alarm->is_object()) return SendResult::ok();
    const std::string id = alarm->value("id", "");
    for (auto& [key, alert] : firing_) {
      if (alert["annotations"].value("alarm_id", "") != id) continue;
      nlohmann::json updated = alert;
      nlohmann::json details = event.value("details", nlohmann::json::object());
      updated["annotations"]["acked_by"] = details.value("by", "");
      updated["annotations"]["acked_at"] = details.value("at", "");
      updated["annotations"]["ack_comment"] = details.value("comment", "");
      SendResult r = post(nlohmann::json::array({updated}));
      if (r.outcome == SendResult::Outcome::Delivered) alert = updated;
      return r;
    }
    return SendResult::ok();
  }

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
