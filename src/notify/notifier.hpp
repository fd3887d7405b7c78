// Notifiers deliver event lines to the outside world. The hub is the event
// engine's sink; it hands each line to every notifier.
//
// Two kinds of notifier sit behind the one interface:
//  - synchronous ones (jsonl, console) write in emit()'s thread: they are the
//    contract output and must be complete when the process exits;
//  - remote ones (webhook, Alertmanager, MQTT) are a Transport wrapped by
//    make_queued_notifier(): deliver() only enqueues (never blocks decoding),
//    a worker thread sends with retries, backoff and jitter, optionally via an
//    on-disk spool that survives outages and restarts.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/event_sink.hpp"
#include "util/lost_output.hpp"
#include "util/time.hpp"

namespace avmon {

// Delivery accounting of one queued notifier, read by /metrics and /healthz.
struct NotifierCounters {
  std::atomic<std::uint64_t> depth{0};        // waiting in memory and in the spool
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> retries{0};      // failed attempts that will be retried
  std::atomic<std::uint64_t> dropped{0};      // lost: queue overflow, disabled, or unsent at exit without spool
  std::atomic<std::uint64_t> rejected{0};     // the receiver refused the event for good (4xx)
  std::atomic<std::uint64_t> spooled{0};      // written to the spool
  std::atomic<bool> disabled{false};          // the receiver said 410 Gone
  // Steady clock until which the worker is known to be alive: its last
  // wake-up, or while it is inside a send (bounded by the transport's own
  // timeout), the end of that bound. /healthz reads it: a worker waiting on
  // a slow receiver is not wedged.
  std::atomic<std::int64_t> heartbeat_ms{0};
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string name() const = 0;
  virtual void deliver(const nlohmann::json& event) = 0;
  // Starts closing without waiting (a queued notifier's drain deadline runs
  // from here), so that notifiers drain side by side.
  virtual void begin_close() {}
  // Flush and release; called once, after the last event.
  virtual void close() {}
  // SIGHUP: files are opened again under their names (logrotate moved them).
  virtual void reopen() {}
  // Queued notifiers only.
  virtual std::shared_ptr<const NotifierCounters> counters() const { return nullptr; }
};

class NotifierHub final : public EventSink {
 public:
  void add(std::unique_ptr<Notifier> n) {
    std::lock_guard lk(mu_);
    notifiers_.push_back(std::move(n));
  }
  // Runs on every event before any notifier sees it (e.g. adds a thumbnail).
  void set_decorator(std::function<void(nlohmann::json&)> fn) {
    std::lock_guard lk(mu_);
    decorate_ = std::move(fn);
  }
  void emit(const nlohmann::json& event) override {
    std::lock_guard lk(mu_);
    bool summary = event.is_object() && event.value("kind", "") == "stream.summary";
    if (decorate_ || summary) {
      nlohmann::json e = event;
      if (decorate_) decorate_(e);
      if (summary) add_output_failures(e);
      for (auto& n : notifiers_) n->deliver(e);
    } else {
      for (auto& n : notifiers_) n->deliver(event);
    }
    announce_output_failures(event);
  }
  void reopen() {
    std::lock_guard lk(mu_);
    if (closed_) return;
    for (auto& n : notifiers_) n->reopen();
  }
  void close() {
    std::lock_guard lk(mu_);
    if (closed_) return;
    closed_ = true;
    // One drain deadline for all: the exit waits for the slowest, not the sum.
    for (auto& n : notifiers_) n->begin_close();
    for (auto& n : notifiers_) n->close();
  }
  std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> counters() {
    std::lock_guard lk(mu_);
    std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> out;
    for (auto& n : notifiers_)
      if (auto c = n->counters()) out.emplace_back(n->name(), std::move(c));
    return out;
  }

 private:
  // An output that failed for the first time is reported on every output
  // (the failing one will likely fail again; it is announced only once).
  void announce_output_failures(const nlohmann::json& cause) {
    for (const auto& [output, f] : LostOutput::global().take_new_failures()) {
      nlohmann::json e = {{"kind", "output.error"},
                          {"stream", cause.value("stream", "")},
                          {"media_time", cause.value("media_time", 0.0)},
                          {"wall_time", rfc3339_now()},
                          {"details", {{"output", output}, {"error", f.last_error}, {"events_lost", f.events_lost}}}};
      for (auto& n : notifiers_) n->deliver(e);
    }
  }
  // The summary says what could not be written, per output.
  static void add_output_failures(nlohmann::json& summary) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [output, f] : LostOutput::global().snapshot())
      out[output] = {{"write_errors", f.write_errors}, {"events_lost", f.events_lost}, {"last_error", f.last_error}};
    if (!out.empty()) summary["output_errors"] = std::move(out);
  }

  std::mutex mu_;
  bool closed_ = false;
  std::function<void(nlohmann::json&)> decorate_;
  std::vector<std::unique_ptr<Notifier>> notifiers_;
};

// One event as one line of JSON, contract fields first (kind, id, stream,
// type, detector, channel, media_time, wall_time, severity), then the rest.
std::string event_line(const nlohmann::json& event);

// The id a receiver deduplicates on: the event id and its kind
// ("<id>_defect_start"), so a defect's start and end are two deliveries but a
// retried one is the same. Events without an id get a hash of their line.
std::string delivery_id(const nlohmann::json& event);

// JSON lines to a file (truncated) or to stdout ("-"); each line is one
// write, so that `tail -f` and pipes see events as they happen. A line that
// cannot be written is logged and counted as lost (util/lost_output.hpp).
// Throws on open failure.
std::unique_ptr<Notifier> make_jsonl_notifier(const std::string& path);

// One readable line per event for a person at a terminal.
std::unique_ptr<Notifier> make_console_notifier(std::FILE* out, bool colour);

// ---- queued (remote) notifiers ------------------------------------------

struct Delivery {
  std::string id;             // delivery_id(event), stable across retries and restarts
  nlohmann::json event;
  int attempt = 1;
};

struct SendResult {
  enum class Outcome { Delivered, Retry, Disable, Reject };
  Outcome outcome = Outcome::Retry;
  double retry_after_s = -1;  // receiver's Retry-After; < 0 when none
  std::string detail;         // for logs
  static SendResult ok() { return {Outcome::Delivered, -1, ""}; }
  static SendResult retry(std::string why, double after_s = -1) { return {Outcome::Retry, after_s, std::move(why)}; }
};

// One remote protocol. send() runs on the notifier's worker thread only and
// may block (bounded by its own timeouts).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string name() const = 0;
  virtual SendResult send(const Delivery& d) = 0;
  // Called on the worker thread about once a second (periodic re-sends).
  virtual void idle() {}
  // Called once on the worker thread after the last send.
  virtual void stop() {}
  // From another thread when the exit deadline has passed: a send(), idle()
  // or stop() in progress returns promptly (send() with a retry), and so do
  // later ones.
  virtual void cancel() {}
};

struct QueueOptions {
  std::size_t capacity = 1000;   // events held in memory per notifier
  double initial_backoff_s = 0.5;
  double max_backoff_s = 30;
  double drain_timeout_s = 10;   // at exit, how long to keep trying before giving up (or leaving it to the spool)
  double attempt_timeout_s = 10; // the transport's bound on one send (for liveness)
  std::string spool_dir;         // empty: no spool
};

// Throws std::runtime_error when the spool directory cannot be used.
std::unique_ptr<Notifier> make_queued_notifier(std::unique_ptr<Transport> transport, const QueueOptions& opts);

// A line that outputs which page people leave out (docs/operations.md,
// Alarms): a masked alarm's, the raises and clears behind a flapping alarm,
// a defect ended by a stop (`handover`: the next instance confirms or clears
// it) and, unless the receiver deduplicates by labels (Alertmanager), the
// raise that confirms an alarm handed over.
bool paging_skips(const nlohmann::json& event, bool dedupes_by_labels);

// Standard Webhooks (https://www.standardwebhooks.com): POST of the event line,
// signed with HMAC-SHA256 under a "whsec_<base64>" secret.
// An https URL verifies the receiver against the system's CAs or `ca_file`.
// `paging`: the receiver pages people; what paging_skips() names is not sent.
std::unique_ptr<Transport> make_webhook_transport(const std::string& url, const std::string& secret, double timeout_s,
                                                  const std::string& ca_file = "", bool paging = true);
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>"; exposed for tests.
std::string webhook_signature(const std::string& secret, const std::string& id, const std::string& timestamp,
                              const std::string& body);

// Alertmanager API v2: one alert per defect, resolved at its end, firing
// alerts re-sent every resend_interval_s.
std::unique_ptr<Transport> make_alertmanager_transport(const std::string& url, double resend_interval_s,
                                                       double timeout_s, const std::string& ca_file = "");
// The alert for an event (labels, annotations, startsAt/endsAt); for tests.
nlohmann::json alertmanager_alert(const nlohmann::json& event);

struct MqttOptions {
  std::string host = "localhost";
  int port = 1883;
  std::string topic_prefix = "avmon";
  std::string client_id;       // empty: avmon-<stream>-<pid>
  std::string username, password;
  int keepalive_s = 30;
  double timeout_s = 10;       // wait for PUBACK
};
// QoS 1 events on <prefix>/<stream>/events; retained "online" on
// <prefix>/<stream>/status with a last will of "offline".
std::unique_ptr<Transport> make_mqtt_transport(const MqttOptions& opts, const std::string& stream);

}  // namespace avmon
