#include "notify/factory.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace avmon {

void add_configured_notifiers(NotifierHub& hub, const NotifiersConfig& cfg, const std::string& stream) {
  QueueOptions q;
  q.capacity = static_cast<std::size_t>(cfg.queue_size);
  q.initial_backoff_s = cfg.initial_backoff_s;
  q.max_backoff_s = cfg.max_backoff_s;
  q.drain_timeout_s = cfg.drain_timeout_s;
  q.spool_dir = cfg.spool_dir;
  auto add = [&](const char* key, double attempt_timeout_s, auto make) {
    try {
      q.attempt_timeout_s = attempt_timeout_s;
      hub.add(make_queued_notifier(make(), q));
      spdlog::info("notifier {} enabled{}", key, q.spool_dir.empty() ? "" : " (spool " + q.spool_dir + ")");
    } catch (const std::exception& e) {
      throw ConfigError(std::string("notifiers.") + key + ": " + e.what());
    }
  };
  if (!cfg.webhook.url.empty())
    add("webhook", cfg.webhook.timeout_s, [&] { return make_webhook_transport(cfg.webhook.url, cfg.webhook.secret, cfg.webhook.timeout_s, cfg.ca_file,
                                                                              cfg.webhook.paging); });
  if (!cfg.alertmanager.url.empty())
    add("alertmanager", cfg.alertmanager.timeout_s, [&] {
      return make_alertmanager_transport(cfg.alertmanager.url, cfg.alertmanager.resend_interval_s,
                                         cfg.alertmanager.timeout_s, cfg.ca_file);
    });
  if (!cfg.mqtt.host.empty())
    add("mqtt", MqttOptions{}.timeout_s, [&] {
      MqttOptions m;
      m.host = cfg.mqtt.host;
      m.port = cfg.mqtt.port;
      m.topic_prefix = cfg.mqtt.topic_prefix;
      m.client_id = cfg.mqtt.client_id;
      m.username = cfg.mqtt.username;
      m.password = cfg.mqtt.password;
      m.keepalive_s = cfg.mqtt.keepalive_s;
      return make_mqtt_transport(m, stream);
    });
}

}  // namespace avmon
