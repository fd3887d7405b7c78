// MQTT with libmosquitto: events are published with QoS 1 and a delivery
// counts only once the broker's PUBACK arrived (otherwise the queue retries:
// at least once). A retained status topic says "online"; the broker
// publishes the last will "offline" there if the process dies, and a clean
// exit publishes "offline" itself.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>

#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include "notify/notifier.hpp"
#include "util/numbers.hpp"

namespace avmon {

namespace {

// The stream name as one topic level: '/' would add levels, '+' and '#' are
// wildcards that a publish must not carry, NUL is not allowed in a topic.
std::string topic_level(std::string s) {
  for (char& c : s)
    if (c == '/' || c == '+' || c == '#' || c == '\0') c = '_';
  return s.empty() ? "_" : s;
}

class Mqtt final : public Transport {
 public:
  Mqtt(const MqttOptions& o, const std::string& stream) : opts_(o) {
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    if (o.topic_prefix.find_first_of(std::string("+#\0", 3)) != std::string::npos)
      throw std::runtime_error("topic_prefix '" + o.topic_prefix + "': '+', '#' and NUL are not allowed in a topic");
    events_topic_ = o.topic_prefix + "/" + topic_level(stream) + "/events";
    status_topic_ = o.topic_prefix + "/" + topic_level(stream) + "/status";
    std::string id = o.client_id.empty() ? "avmon-" + stream + "-" + std::to_string(getpid()) : o.client_id;
    mosq_ = mosquitto_new(id.c_str(), true, this);
    if (!mosq_) throw std::runtime_error("mqtt: cannot create client");
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (!o.username.empty())
      mosquitto_username_pw_set(mosq_, o.username.c_str(), o.password.empty() ? nullptr : o.password.c_str());
    static const char offline[] = "offline";
    mosquitto_will_set(mosq_, status_topic_.c_str(), sizeof offline - 1, offline, 1, true);
    mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      static_cast<Mqtt*>(self)->on_connect(m, rc);
    });
    mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<Mqtt*>(self)->on_disconnect(rc);
    });
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int mid) {
      static_cast<Mqtt*>(self)->on_publish(mid);
    });
    // Asynchronous connect: a broker that is down at start is retried by the
    // network thread, never by the caller.
    int rc = mosquitto_connect_async(mosq_, o.host.c_str(), o.port, o.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO)
      spdlog::warn("mqtt: connect to {}:{}: {}", o.host, o.port, mosquitto_strerror(rc));
    if (mosquitto_loop_start(mosq_) != MOSQ_ERR_SUCCESS) throw std::runtime_error("mqtt: cannot start network thread");
  }
  ~Mqtt() override {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
  }

  std::string name() const override { return "mqtt"; }

  SendResult send(const Delivery& d) override {
    std::string body = event_line(d.event);
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(1), [&] { return connected_ || cancelled_; });
    if (cancelled_) return SendResult::retry("cancelled");
    if (!connected_) return SendResult::retry("not connected to " + opts_.host + ":" + std::to_string(opts_.port));
    lk.unlock();
    int mid = 0;
    int rc = mosquitto_publish(mosq_, &mid, events_topic_.c_str(), static_cast<int>(body.size()), body.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) return SendResult::retry(std::string("publish: ") + mosquitto_strerror(rc));
    lk.lock();
    cv_.wait_for(lk, std::chrono::duration<double>(opts_.timeout_s), [&] { return acked_.count(mid) > 0 || cancelled_; });
    const bool acked = acked_.erase(mid) > 0;
    if (!acked)
      return SendResult::retry(cancelled_ ? "cancelled" : "no PUBACK within " + human_number(opts_.timeout_s) + " s");
    return SendResult::ok();
  }

  void cancel() override {
    std::lock_guard lk(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

  void stop() override {
    int mid = 0;
    static const char offline[] = "offline";
    if (mosquitto_publish(mosq_, &mid, status_topic_.c_str(), sizeof offline - 1, offline, 1, true) ==
        MOSQ_ERR_SUCCESS) {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, std::chrono::seconds(2), [&] { return acked_.count(mid) > 0 || cancelled_; });
    }
    mosquitto_disconnect(mosq_);
  }

 private:
  void on_connect(mosquitto* m, int rc) {
    if (rc != 0) {
      spdlog::warn("mqtt: broker refused connection: {}", mosquitto_connack_string(rc));
      return;
    }
    static const char online[] = "online";
    mosquitto_publish(m, nullptr, status_topic_.c_str(), sizeof online - 1, online, 1, true);
    spdlog::info("mqtt: connected to {}:{}", opts_.host, opts_.port);
    std::lock_guard lk(mu_);
    connected_ = true;
    cv_.notify_all();
  }
  void on_disconnect(int rc) {
    if (rc != 0) spdlog::warn("mqtt: connection lost ({}); reconnecting", mosquitto_strerror(rc));
    std::lock_guard lk(mu_);
    connected_ = false;
  }
  void on_publish(int mid) {
    std::lock_guard lk(mu_);
    acked_.insert(mid);
    cv_.notify_all();
  }

  MqttOptions opts_;
  std::string events_topic_, status_topic_;
  mosquitto* mosq_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  bool cancelled_ = false;  // the exit deadline passed: stop waiting
  std::set<int> acked_;
};

}  // namespace

std::unique_ptr<Transport> make_mqtt_transport(const MqttOptions& opts, const std::string& stream) {
  return std::make_unique<Mqtt>(opts, stream);
}

}  // namespace avmon
