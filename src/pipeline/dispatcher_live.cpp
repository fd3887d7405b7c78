// The live side of the dispatcher: frames dropped for a full queue, each
// detector's results handed to the engine as they come, lag accounting,
// isolation of a detector that falls too far behind, and a bounded end.
#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "pipeline/dispatcher.hpp"
#include "util/time.hpp"

namespace avmon {

namespace {

// State changes race with the strand disabling a detector; a disabled
// detector stays disabled.
bool transition(SlotStats& st, DetectorState from, DetectorState to) {
  return st.state.compare_exchange_strong(from, to);
}

}  // namespace

void Dispatcher::submit_live(double media_time_s, double end_s, unsigned media, const std::shared_ptr<Call>& call,
                             bool droppable, int units) {
  std::lock_guard lk(mu_);
  if (droppable) newest_s_ = std::max(newest_s_, end_s);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Runtime& rt = *rt_[i];
    if (!(slots_[i].media & media) || rt.disabled) continue;
    if (droppable) {
      if (stats_[i]->state == DetectorState::Isolated || rt.inflight >= queue_frames_) {
        count_dropped(i, media, units);
        continue;
      }
      rt.pending.push_back(media_time_s);
    }
    // Configuration, discontinuities and the end are never dropped nor
    // waited for: a strand runs them in order with the frames.
    rt.inflight += queue_weight(media, units);
    post(i, 0, media_time_s, media, call, droppable, units, rt.epoch.load());
  }
  if (droppable)
    for (size_t i = 0; i < slots_.size(); ++i) update_lag_locked(i);
}

void Dispatcher::update_lag_locked(size_t i) {
  Runtime& rt = *rt_[i];
  SlotStats& st = *stats_[i];
  // How far behind the input its oldest unfinished frame is, in media time:
  // it grows while a call hangs, even when every newer frame is dropped.
  const double lag_s = rt.pending.empty() ? 0.0 : std::max(0.0, newest_s_ - rt.pending.front());
  st.lag_s = lag_s;
  DetectorState s = st.state.load();
  if (s == DetectorState::Ok && lag_s > limits_.lag_warn_s) {
    if (!transition(st, s, DetectorState::Lagging)) return;
    spdlog::warn("detector {} is {:.1f} s behind the input", slots_[i].name, lag_s);
    report_lag_locked(i, true, lag_s, false);
    s = DetectorState::Lagging;
  }
  if (s == DetectorState::Lagging) {
    if (lag_s > limits_.max_lag_s) {
      isolate_locked(i, lag_s);
    } else if (lag_s <= limits_.lag_warn_s) {
      if (transition(st, s, DetectorState::Ok)) report_lag_locked(i, false, lag_s, false);
    } else if (lag_s >= rt.reported_lag_s + 1.0) {
      report_lag_locked(i, true, lag_s, false);  // the defect's details follow the lag
    }
  } else if (s == DetectorState::Isolated && rt.pending.empty()) {
    rejoin_locked(i);
  }
}

void Dispatcher::report_lag_locked(size_t i, bool active, double lag_s, bool isolated) {
  rt_[i]->reported_lag_s = active ? lag_s : 0.0;
  if (closed_) return;
  Observation o;
  o.type = kLaggingType;
  o.media_time_s = newest_s_;
  o.active = active;
  o.score = lag_s;
  if (active)
    o.details = {{"lag_s", round_ms(lag_s)},
                 {"isolated", isolated},
                 {"lag_warn_s", limits_.lag_warn_s},
                 {"max_lag_s", limits_.max_lag_s}};
  engine_.observe(slots_[i].name, o);
}

void Dispatcher::isolate_locked(size_t i, double lag_s) {
  if (!transition(*stats_[i], DetectorState::Lagging, DetectorState::Isolated)) return;
  ++rt_[i]->epoch;  // what is queued for it is skipped
  ++isolated_;
  // Its call in progress holds a pool thread for as long as it lasts: the
  // others get one in its place.
  while (spare_threads_.size() < isolated_ && spare_threads_.size() < slots_.size())
    spare_threads_.emplace_back([this] { pool_.attach(); });
  spdlog::warn("detector {} is {:.1f} s behind the input (limit {} s): isolated, its frames are skipped until it "
               "catches up",
               slots_[i].name, lag_s, limits_.max_lag_s);
  report_lag_locked(i, true, lag_s, true);
}

void Dispatcher::rejoin_locked(size_t i) {
  if (!transition(*stats_[i], DetectorState::Isolated, DetectorState::Ok)) return;
  --isolated_;
  spdlog::info("detector {} caught up: it analyses the input again", slots_[i].name);
  report_lag_locked(i, false, 0.0, false);
  // What it saw before the frames it skipped says nothing about what follows.
  const double t = newest_s_;
  auto call = std::make_shared<Call>([this, t](size_t slot, ObservationSink& s) {
    guarded(slot, "on_discontinuity", t, s, [&] { slots_[slot].detector->on_discontinuity(t); });
  });
  rt_[i]->inflight += 1;
  post(i, 0, t, kVideo | kAudio, std::move(call), false, 1, rt_[i]->epoch.load());
}

void Dispatcher::finish_live(double end_media_time_s) {
  submit(end_media_time_s, end_media_time_s, kVideo | kAudio, [this, end_media_time_s](size_t i, ObservationSink& s) {
    guarded(i, "finish", end_media_time_s, s, [&] { slots_[i].detector->finish(end_media_time_s, s); });
  }, false);
  std::unique_lock lk(mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                               std::chrono::duration<double>(limits_.drain_timeout_s));
  cv_.wait_until(lk, deadline, [&] { return idle_locked(); });
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (rt_[i]->inflight == 0) continue;
    SlotStats& st = *stats_[i];
    st.state = DetectorState::Stuck;
    abandoned_ = true;
    const std::int64_t started = st.call_started_ns.load();
    const double in_call_s = started > 0 ? static_cast<double>(now_ns - started) / 1e9 : 0.0;
    spdlog::warn("detector {} still busy {} s after the end of the input (in one call for {:.1f} s, {:.1f} s "
                 "behind): abandoned, its results so far are kept",
                 slots_[i].name, limits_.drain_timeout_s, in_call_s, st.lag_s.load());
  }
  engine_.finish(end_media_time_s);
  closed_ = true;
}

nlohmann::json Dispatcher::report(size_t i) const {
  const SlotStats& st = *stats_[i];
  nlohmann::json j = {{"processed", st.processed.load()},
                      {"dropped", st.dropped.load()},
                      {"errors", st.errors.load()},
                      {"cpu_s", round_ms(static_cast<double>(st.cpu_ns.load()) / 1e9)},
                      {"state", detector_state_name(st.state.load())}};
  if (live()) j["lag_s"] = round_ms(st.lag_s.load());
  if (const std::int64_t started = st.call_started_ns.load(); started > 0 && st.state == DetectorState::Stuck) {
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
    j["in_call_s"] = round_ms(static_cast<double>(now_ns - started) / 1e9);
  }
  return j;
}

}  // namespace avmon
