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

}  // namespace

EventEngine::EventEngine(std::string stream, EventSink& sink, std::uint64_t id_nonce)
    : wall_time([] { return rfc3339_now(); }), stream_(std::move(stream)), sink_(sink), nonce_(id_nonce) {}

void EventEngine::add_detector(const std::string& detector, const DefectPolicy& policy,
                               const std::vector<std::string>& types,
                               const std::vector<std::string>& suppresses) {
  policies_[detector] = policy;
  for (const auto& suppressed : suppresses)
    for (const auto& own : types)
      if (own != suppressed) suppressors_[suppressed].insert(own);
}

void EventEngine::add_host_type(const std::string& type, const DefectPolicy& policy) {
  host_policies_[type] = policy;
}

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
    } else {
      auto p = policies_.find(detector);
      if (p == policies_.end()) p = policies_.emplace(detector, DefectPolicy{}).first;
      t.policy = &p->second;
    }
    it = tracks_.emplace(key, std::move(t)).first;
  }
  return it->second;
}

void EventEngine::observe(const std::string& detector, const Observation& obs) {
  Track& t = track(detector, obs);
  const double at = obs.since_s.value_or(obs.media_time_s);
  if (obs.active) {
    t.raw = true;
    switch (t.state) {
      case State::Idle:
        t.state = State::Pending;
        t.onset_s = at;
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
  evaluate(t, clock_s_);
}

double EventEngine::suppressed_until(const Track& t) const {
  auto s = suppressors_.find(t.type);
  if (s == suppressors_.end()) return -kInf;
  double until = -kInf;
  for (const auto& [key, other] : tracks_) {
    if (&other == &t || !s->second.count(other.type)) continue;
    // While the suppressor's condition lasts, wait: it may become an incident.
    if (other.raw || other.state == State::Active || other.state == State::Ending) return kInf;
    // A blip that never became a defect moves nothing; a real incident does.
    until = std::max(until, other.incident_end_s);
  }
  return until;
}

double EventEngine::suppressor_onset(const Track& t) const {
  auto s = suppressors_.find(t.type);
  if (s == suppressors_.end()) return std::nan("");
  double onset = std::nan("");
  for (const auto& [key, other] : tracks_)
    if (&other != &t && s->second.count(other.type) && other.state == State::Active &&
        (std::isnan(onset) || other.onset_s < onset))
      onset = other.onset_s;
  return onset;
}

void EventEngine::evaluate(Track& t, double now_s) {
  switch (t.state) {
    case State::Idle:
      return;
    case State::Pending: {
      // A condition that began inside a suppressor's incident counts only from
      // the incident's end: a black picture is not also a frozen one.
      double blocked = suppressed_until(t);
      if (blocked == kInf) return;  // wait: the suppressor may or may not become an incident
      t.onset_s = std::max(t.onset_s, blocked);
      if (now_s - t.onset_s >= t.policy->min_duration_s) start(t);
      return;
    }
    case State::Active:
    case State::Ending: {
      double taken_over = suppressor_onset(t);
      if (!std::isnan(taken_over)) {
        // A suppressor's defect has begun: one incident, one alarm. (A mere
        // blip of the suppressor's condition ends nothing.)
        double at = t.state == State::Ending ? t.end_s : now_s;
        end(t, std::min(at, std::max(t.onset_s, taken_over)));
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

void EventEngine::advance(double media_time_s) {
  clock_s_ = std::max(clock_s_, media_time_s);
  for (auto& [key, t] : tracks_) evaluate(t, clock_s_);
}

void EventEngine::close_all(double media_time_s) {
  for (auto& [key, t] : tracks_) {
    if (t.state == State::Active) end(t, std::max(t.onset_s, media_time_s));
    if (t.state == State::Ending) end(t, t.end_s);
    t.state = State::Idle;
    t.raw = false;
  }
}

void EventEngine::finish(double end_media_time_s) {
  clock_s_ = std::max(clock_s_, end_media_time_s);
  // Let whatever has lasted long enough start before everything is closed.
  for (auto& [key, t] : tracks_) evaluate(t, clock_s_);
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
