#include "app/signal_loss.hpp"

#include <chrono>
#include <set>

#include <spdlog/spdlog.h>

#include "util/numbers.hpp"
#include "util/time.hpp"

namespace avmon {

void SignalLossWatch::declare(EventEngine& engine, const Config& cfg) {
  std::set<std::string> types;
  for (const auto& d : cfg.detectors)
    if (d.enabled) types.insert(d.info->types.begin(), d.info->types.end());
  DefectPolicy policy;
  policy.min_duration_s = 0;
  policy.hold_off_s = 0;
  policy.severity = "critical";
  engine.add_detector(kDetector, policy, {"signal_loss"}, {types.begin(), types.end()});
}

SignalLossWatch::SignalLossWatch(const InputConfig& cfg, MediaSource& source, Dispatcher& dispatcher, double grace_s)
    : cfg_(cfg), source_(source), dispatcher_(dispatcher), watchdog_(cfg.signal_loss_timeout_s), grace_s_(grace_s) {}

SignalLossWatch::~SignalLossWatch() { stop(0); }

double SignalLossWatch::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Liveness SignalLossWatch::liveness() const {
  auto& st = source_.stats();
  return {st.input_bytes.load(), st.packets.load(), st.input_open.load()};
}

void SignalLossWatch::start() {
  std::lock_guard lk(mu_);
  watchdog_.start(now_s(), liveness());
  thread_ = std::thread([this] { run(); });
}

nlohmann::json SignalLossWatch::details(double now) const {
  return {{"reason", loss_reason_name(watchdog_.reason())},
          {"timeout_s", cfg_.signal_loss_timeout_s},
          {"outage_s", round_ms(now - loss_since_wall_s_)},
          {"reconnect_attempts", source_.stats().reconnect_attempts.load() - attempts_at_loss_}};
}

void SignalLossWatch::observe(double media_time_s, bool active, const nlohmann::json& d) {
  Observation o;
  o.type = "signal_loss";
  o.media_time_s = media_time_s;
  o.active = active;
  if (active) {
    o.score = d.value("outage_s", 0.0);
    o.details = d;
  }
  dispatcher_.with_engine([&](EventEngine& e) {
    e.observe(kDetector, o);
    // Suppression takes effect now, not at the next frame (there may be none).
    e.advance(e.clock_s());
  });
}

void SignalLossWatch::run() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(100));
    if (stop_) break;
    double now = now_s();
    auto reason = watchdog_.poll(now, liveness());
    if (!reason) continue;
    ++losses_;
    loss_media_s_ = last_media_end_s_;
    loss_since_wall_s_ = watchdog_.last_media_wall_s();
    attempts_at_loss_ = source_.stats().reconnect_attempts.load();
    resumes_at_loss_ = source_.stats().media_resumes.load();
    spdlog::warn("signal lost at media time {} s: {} for {} s", human_number(loss_media_s_), loss_reason_name(*reason),
                 human_number(now - loss_since_wall_s_, 1));
    observe(loss_media_s_, true, details(now));
  }
}

void SignalLossWatch::on_media(double media_time_s, double duration_s) {
  bool ended;
  {
    std::lock_guard lk(mu_);
    double now = now_s();
    // A decoder with frame threads hands over the pictures it held from
    // before the gap only when new packets arrive: those are not the return
    // of the signal. The source counts where new media begins.
    if (watchdog_.lost() && source_.stats().media_resumes.load() == resumes_at_loss_) {
      last_media_end_s_ = std::max(last_media_end_s_, media_time_s + duration_s);
      return;
    }
    ended = watchdog_.on_media(now, liveness());
    if (ended) {
      auto d = details(now);
      spdlog::info("signal back at media time {} s after {} s", human_number(media_time_s),
                   human_number(d["outage_s"].get<double>(), 1));
      observe(media_time_s, true, d);  // the end event carries the outage's figures
      observe(media_time_s, false, nlohmann::json::object());
      // Pictures and sound settle again after the outage (alarms.startup_grace_s).
      if (grace_s_ > 0) dispatcher_.with_engine([&](EventEngine& e) { e.begin_grace(media_time_s, grace_s_); });
    }
    last_media_end_s_ = std::max(last_media_end_s_, media_time_s + duration_s);
  }
  // What came before the gap says nothing about what comes after it.
  if (ended) dispatcher_.discontinuity(media_time_s);
}

double SignalLossWatch::stop(double end_media_time_s) {
  {
    std::lock_guard lk(mu_);
    if (stop_) return end_media_time_s;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(mu_);
  if (!watchdog_.lost()) return end_media_time_s;
  double now = now_s();
  observe(loss_media_s_, true, details(now));
  return std::max(end_media_time_s, loss_media_s_ + (now - loss_since_wall_s_));
}

nlohmann::json SignalLossWatch::summary() const {
  std::lock_guard lk(mu_);
  auto& st = source_.stats();
  return {{"signal_losses", losses_},
          {"reconnect_attempts", st.reconnect_attempts.load()},
          {"reconnects", st.reconnects.load()},
          {"sessions_lost", st.sessions_lost.load()},
          {"timestamp_wraps", st.timestamp_wraps.load()},
          {"input_bytes", st.input_bytes.load()}};
}

}  // namespace avmon
