#include "pipeline/engine.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>

#include "util/time.hpp"

namespace avmon {

namespace {

std::uint64_t fnv1a(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

constexpr double kInf = std::numeric_limits<double>::infinity();
// Incidents kept per track for correlation; a detector lagging behind more of
// its suppressors' incidents than this is isolated long before.
constexpr std::size_t kIncidentsKept = 16;

}  // namespace

EventEngine::EventEngine(std::string stream, EventSink& sink, std::uint64_t id_nonce)
    : wall_time([] { return rfc3339_now(); }), stream_(std::move(stream)), sink_(sink), nonce_(id_nonce) {}

void EventEngine::add_detector(const std::string& detector, const DefectPolicy& policy,
                               const std::vector<std::string>& types,
                               const std::vector<std::string>& suppresses) {
  policies_[detector] = policy;
  for (const auto& own : types) type_detectors_[own].insert(detector);
  for (const auto& suppressed : suppresses)
    for (const auto& own : types)
      if (own != suppressed) suppressors_[suppressed].insert(own);
}

void EventEngine::add_host_type(const std::string& type, const DefectPolicy& policy) {
  host_policies_[type] = policy;
  if (auto o = type_overrides_.find(type); o != type_overrides_.end()) override_type(type, AlarmTypePolicy(o->second));
}

void EventEngine::begin_grace(double from_s, double grace_s) {
  if (grace_s > 0) grace_until_s_ = std::max(grace_until_s_, from_s + grace_s);
}

void EventEngine::override_type(const std::string& type, const AlarmTypePolicy& policy) {
  type_overrides_[type] = policy;
  if (auto h = host_policies_.find(type); h != host_policies_.end()) {
    if (policy.severity) h->second.severity = *policy.severity;
    if (policy.min_duration_s) h->second.min_duration_s = *policy.min_duration_s;
    if (policy.hold_off_s) h->second.hold_off_s = *policy.hold_off_s;
  }
}

void EventEngine::use_detector_clock(const std::string& detector) { detector_clocks_.emplace(detector, clock_s_); }

EventEngine::Track& EventEngine::track(const std::string& detector, const Observation& obs) {
  Key key{detector, obs.type, obs.channel};
  auto it = tracks_.find(key);
  if (it == tracks_.end()) {
    Track t;
    t.detector = detector;
    t.type = obs.type;
    t.channel = obs.channel;
    if (auto h = host_policies_.find(obs.type); h != host_policies_.end()) {
      t.policy = &h->second;
      t.grace_exempt = true;
    } else {
      auto p = policies_.find(detector);
      if (p == policies_.end()) p = policies_.emplace(detector, DefectPolicy{}).first;
      t.policy = &p->second;
      if (auto o = type_overrides_.find(obs.type); o != type_overrides_.end()) {
        DefectPolicy merged = p->second;
        if (o->second.severity) merged.severity = *o->second.severity;
        if (o->second.min_duration_s) merged.min_duration_s = *o->second.min_duration_s;
        if (o->second.hold_off_s) merged.hold_off_s = *o->second.hold_off_s;
        t.policy = &(merged_policies_[{detector, obs.type}] = merged);
      }
      t.own_clock = detector_clocks_.count(detector) != 0;
      t.grace_exempt = obs.type == "signal_loss" || (!grace_types_.empty() && !grace_types_.count(obs.type));
    }
    it = tracks_.emplace(key, std::move(t)).first;
  }
  return it->second;
}

double EventEngine::now_of(const Track& t) const {
  return t.own_clock ? detector_clocks_.at(t.detector) : clock_s_;
}

void EventEngine::observe(const std::string& detector, const Observation& obs) {
  Track& t = track(detector, obs);
  const double at = obs.since_s.value_or(obs.media_time_s);
  if (obs.active) {
    t.raw = true;
    switch (t.state) {
      case State::Idle:
        t.state = State::Pending;
        // What was reported already is not reported twice (a detector's
        // `since` may reach back into the defect a suppressor ended).
        t.onset_s = std::max(at, t.incident_end_s);
        t.peak_score = obs.score;
        break;
      case State::Ending:  // came back within the hold-off: the same defect goes on
        t.state = State::Active;
        break;
      case State::Pending:
      case State::Active:
        break;
    }
    t.peak_score = std::max(t.peak_score, obs.score);
    if (!obs.details.empty()) t.details = obs.details;
  } else {
    t.raw = false;
    if (t.state == State::Pending) {
      t.state = State::Idle;  // too short to be a defect
    } else if (t.state == State::Active) {
      t.state = State::Ending;
      t.end_s = at;
    }
  }
  clock_s_ = std::max(clock_s_, obs.media_time_s);
  if (t.own_clock) {
    double& c = detector_clocks_[t.detector];
    c = std::max(c, obs.media_time_s);
  }
  evaluate(t);
}

std::vector<std::pair<double, double>> EventEngine::suppression(const Track& t, bool conditions) const {
  std::vector<std::pair<double, double>> spans;
  auto s = suppressors_.find(t.type);
  if (s == suppressors_.end()) return spans;
  for (const auto& [key, other] : tracks_) {
    if (&other == &t || !s->second.count(other.type)) continue;
    spans.insert(spans.end(), other.incidents.begin(), other.incidents.end());
    // A defect still open (even while its end waits out the hold-off) may go
    // on; a condition that is not a defect yet may become one.
    if (other.state == State::Active || other.state == State::Ending || (conditions && other.raw))
      spans.emplace_back(other.onset_s, kInf);
  }
  std::sort(spans.begin(), spans.end());
  return spans;
}

double EventEngine::taken_over_at(const Track& t) const {
  // A blip of the suppressor's condition that never became a defect ends nothing.
  for (const auto& [start, end] : suppression(t, false))
    if (end > t.onset_s) return start;
  return std::nan("");
}

bool EventEngine::awaits_suppressor(const Track& t, double at_s) const {
  if (!t.own_clock || suppressor_wait_s_ <= 0) return false;
  auto s = suppressors_.find(t.type);
  if (s == suppressors_.end()) return false;
  const double now_s = now_of(t);
  for (const auto& type : s->second) {
    auto owners = type_detectors_.find(type);
    if (owners == type_detectors_.end()) continue;
    for (const auto& detector : owners->second) {
      auto c = detector_clocks_.find(detector);
      if (c != detector_clocks_.end() && c->second < at_s && now_s - c->second <= suppressor_wait_s_) return true;
    }
  }
  return false;
}

void EventEngine::evaluate(Track& t) {
  const double now_s = now_of(t);
  switch (t.state) {
    case State::Idle:
      return;
    case State::Pending: {
      // A condition that runs into a suppressor's span counts only from the
      // span's end (a black picture is not also a frozen one), unless it had
      // lasted its minimum duration before the span began.
      double onset = t.grace_exempt ? t.onset_s : std::max(t.onset_s, grace_until_s_);
      for (const auto& [start, end] : suppression(t, true)) {
        if (end <= onset) continue;
        if (start > onset) {
          if (start - onset >= t.policy->min_duration_s) break;  // a defect of its own; taken over below
          if (now_s < start) break;  // too short so far, and not known to reach the span
        }
        if (end == kInf) return;  // wait: the suppressor's condition goes on
        onset = end;
      }
      t.onset_s = onset;
      if (now_s - t.onset_s < t.policy->min_duration_s) return;
      if (awaits_suppressor(t, t.onset_s + t.policy->min_duration_s)) return;
      start(t);
      [[fallthrough]];
    }
    case State::Active:
    case State::Ending: {
      double taken_over = taken_over_at(t);
      if (!std::isnan(taken_over)) {
        // A suppressor's defect has begun: one incident, one alarm. A lagging
        // detector's defect goes on until its own clock reaches that point.
        double at_s = std::max(t.onset_s, taken_over);
        if (t.state == State::Ending) at_s = std::min(at_s, t.end_s);
        else if (now_s < taken_over) return;
        end(t, at_s);
        t.state = State::Idle;
        return;
      }
      if (t.state == State::Ending && now_s - t.end_s >= t.policy->hold_off_s) {
        end(t, t.end_s);
        t.state = State::Idle;
      }
      return;
    }
  }
}

void EventEngine::evaluate_all() {
  for (auto& [key, t] : tracks_) evaluate(t);
}

void EventEngine::advance(double media_time_s) {
  clock_s_ = std::max(clock_s_, media_time_s);
  evaluate_all();
}

void EventEngine::advance_detector(const std::string& detector, double media_time_s) {
  clock_s_ = std::max(clock_s_, media_time_s);
  if (auto c = detector_clocks_.find(detector); c != detector_clocks_.end()) c->second = std::max(c->second, media_time_s);
  evaluate_all();
}

void EventEngine::close_all(double media_time_s) {
  for (auto& [key, t] : tracks_) {
    if (t.state == State::Active) {
      // Not past a suppressor's incident that a lagging detector had not reached.
      double taken_over = taken_over_at(t);
      end(t, std::max(t.onset_s, std::isnan(taken_over) ? media_time_s : std::min(media_time_s, taken_over)));
    }
    if (t.state == State::Ending) end(t, t.end_s);
    t.state = State::Idle;
    t.raw = false;
  }
}

void EventEngine::finish(double end_media_time_s) {
  clock_s_ = std::max(clock_s_, end_media_time_s);
  // Let whatever has lasted long enough start before everything is closed
  // (on its own clock: a detector abandoned at exit has not seen the end).
  evaluate_all();
  close_all(clock_s_);
}

std::string EventEngine::make_id(const Track& t) {
  std::uint64_t h = 14695981039346656037ull ^ nonce_;
  h = fnv1a(h, stream_);
  h = fnv1a(h, t.detector);
  h = fnv1a(h, t.type);
  h = fnv1a(h, std::to_string(t.channel));
  h = fnv1a(h, std::to_string(++sequence_));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

nlohmann::json EventEngine::base_line(const char* kind, const Track& t, double media_time_s) const {
  nlohmann::json j;
  j["kind"] = kind;
  j["id"] = t.id;
  j["stream"] = stream_;
  j["type"] = t.type;
  j["detector"] = t.detector;
  j["media_time"] = round_ms(media_time_s);
  j["wall_time"] = wall_time();
  j["severity"] = t.policy->severity;
  if (t.channel >= 0) j["channel"] = t.channel;
  return j;
}

void EventEngine::start(Track& t) {
  t.state = State::Active;
  t.id = make_id(t);
  ++counts_[t.type];
  nlohmann::json j = base_line("defect.start", t, t.onset_s);
  j["details"] = t.details;
  sink_.emit(j);
}

void EventEngine::end(Track& t, double at_s) {
  at_s = std::max(at_s, t.onset_s);
  t.incident_end_s = at_s;
  // Kept for correlation with conditions that a lagging detector reports late.
  t.incidents.emplace_back(t.onset_s, at_s);
  if (t.incidents.size() > kIncidentsKept) t.incidents.pop_front();
  nlohmann::json j = base_line("defect.end", t, at_s);
  nlohmann::json details = t.details;
  details["duration_s"] = round_ms(at_s - t.onset_s);
  details["peak_score"] = t.peak_score;
  j["details"] = std::move(details);
  sink_.emit(j);
}

void EventEngine::emit_line(nlohmann::json line) {
  if (!line.contains("stream")) line["stream"] = stream_;
  if (!line.contains("wall_time")) line["wall_time"] = wall_time();
  sink_.emit(line);
}

std::vector<ActiveDefect> EventEngine::active() const {
  std::vector<ActiveDefect> out;
  for (const auto& [key, t] : tracks_)
    if (t.state == State::Active || t.state == State::Ending)
      out.push_back({t.id, t.type, t.detector, t.channel, t.onset_s, t.details});
  return out;
}

}  // namespace avmon
