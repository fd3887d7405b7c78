#include "app/history.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace avmon {

namespace {

// What an `evidence` line says was written: the clip and its pictures.
void take_evidence(const nlohmann::json& event, HistoryDefect& d) {
  const auto details = event.find("details");
  if (details == event.end() || !details->is_object()) return;
  const auto ev = details->find("evidence");
  if (ev == details->end() || !ev->is_object()) return;
  const auto path = [&](const char* key) {
    const auto it = ev->find(key);
    return it != ev->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (std::string clip = path("clip"); !clip.empty()) d.clip = History::evidence_url(clip);
  for (const char* key : {"thumbnail_raise", "thumbnail_clear"})
    if (std::string pic = path(key); !pic.empty()) {
      std::string url = History::evidence_url(pic);
      if (std::find(d.pictures.begin(), d.pictures.end(), url) == d.pictures.end()) d.pictures.push_back(url);
    }
}

nlohmann::json lufs(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? nlohmann::json(std::round(*v * 10) / 10) : nlohmann::json();
}

}  // namespace

std::string History::evidence_url(const std::string& path) {
  const std::string name = path.substr(path.find_last_of('/') + 1);
  std::string url = "/evidence/";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      url.push_back(static_cast<char>(c));
    } else {
      url.push_back('%');
      url.push_back(hex[c >> 4]);
      url.push_back(hex[c & 15]);
    }
  }
  return url;
}

HistoryDefect* History::find(const std::string& id) {
  for (auto it = defects_.rbegin(); it != defects_.rend(); ++it)
    if (it->id == id) return &*it;
  return nullptr;
}

void History::on_event(const nlohmann::json& event, std::int64_t now_ms, double latest_media_s, std::int64_t floor_ms) {
  const std::string kind = event.value("kind", "");
  if (kind != "defect.start" && kind != "defect.end" && kind != "evidence") return;
  const std::string id = event.value("id", "");
  if (id.empty()) return;
  const double media_s = event.value("media_time", 0.0);
  // The line is written after the fact (min_duration_s for a start,
  // hold_off_s for an end): date it back by the media that has passed since.
  const auto dated = [&](double at_media_s) {
    const double behind_s = std::max(0.0, latest_media_s - at_media_s);
    return std::max(floor_ms, now_ms - static_cast<std::int64_t>(std::llround(behind_s * 1000)));
  };
  std::lock_guard lk(mu_);
  if (kind == "defect.start") {
    HistoryDefect d;
    d.id = id;
    d.type = event.value("type", "");
    d.severity = event.value("severity", "");
    d.detector = event.value("detector", "");
    if (event.contains("channel") && event["channel"].is_number_integer()) d.channel = event["channel"].get<int>();
    d.media_time_s = media_s;
    d.start_ms = dated(media_s);
    d.updated_ms = now_ms;
    if (event.contains("details") && event["details"].is_object())
      d.thumbnail = event["details"].value("thumbnail", "");
    defects_.push_back(std::move(d));
  } else if (HistoryDefect* d = find(id)) {
    if (kind == "defect.end") {
      d->end_media_time_s = media_s;
      d->end_ms = std::max(d->start_ms, dated(media_s));
    }
    // The clip is named in the defect's lines before it exists: it is
    // linked once an evidence line says it was written.
    if (kind == "evidence") take_evidence(event, *d);
    d->updated_ms = now_ms;
  }
  expire(now_ms);
}

void History::add_loudness(std::int64_t t_ms, std::optional<double> momentary_lufs,
                           std::optional<double> short_term_lufs) {
  std::lock_guard lk(mu_);
  loudness_.push_back({t_ms, momentary_lufs, short_term_lufs});
  while (loudness_.size() > kLoudnessPoints) loudness_.pop_front();
  expire(t_ms);
}

std::int64_t History::note_state(const std::string& level, std::int64_t now_ms) {
  std::lock_guard lk(mu_);
  if (states_.empty() || states_.back().level != level) states_.push_back({level, now_ms});
  // The state in force an hour ago stays: it is where the first band starts.
  while (states_.size() > 1 && states_[1].since_ms < now_ms - kSpanMs) states_.pop_front();
  return states_.back().since_ms;
}

void History::expire(std::int64_t now_ms) {
  const std::int64_t oldest_ms = now_ms - kSpanMs;
  // Defects are kept in order of report; an old one still open stays (it is
  // on the page until it ends), the ended ones behind it go.
  std::erase_if(defects_, [&](const HistoryDefect& d) { return d.end_ms >= 0 && d.end_ms < oldest_ms; });
  while (defects_.size() > kMaxDefects) {
    auto ended = std::find_if(defects_.begin(), defects_.end(), [](const HistoryDefect& d) { return d.end_ms >= 0; });
    defects_.erase(ended == defects_.end() ? defects_.begin() : ended);
  }
  while (!loudness_.empty() && loudness_.front().t_ms < oldest_ms) loudness_.pop_front();
}

nlohmann::json History::render(std::int64_t since_ms, std::int64_t now_ms) const {
  const std::int64_t oldest_ms = now_ms - kSpanMs;
  nlohmann::json defects = nlohmann::json::array(), states = nlohmann::json::array(), points = nlohmann::json::array();
  std::lock_guard lk(mu_);
  for (const auto& d : defects_) {
    if (d.updated_ms < since_ms || (d.end_ms >= 0 && d.end_ms < oldest_ms)) continue;
    nlohmann::json j = {{"id", d.id}, {"type", d.type}, {"severity", d.severity}, {"detector", d.detector},
                        {"start_ms", d.start_ms}, {"end_ms", d.end_ms >= 0 ? nlohmann::json(d.end_ms) : nlohmann::json()},
                        {"media_time", d.media_time_s}};
    if (d.end_ms >= 0) j["end_media_time"] = d.end_media_time_s;
    if (d.channel >= 0) j["channel"] = d.channel;
    if (!d.thumbnail.empty()) j["thumbnail"] = d.thumbnail;
    if (!d.clip.empty()) j["clip"] = d.clip;
    if (!d.pictures.empty()) j["pictures"] = d.pictures;
    defects.push_back(std::move(j));
  }
  for (const auto& s : states_)
    if (s.since_ms >= since_ms || &s == &states_.back()) states.push_back({{"level", s.level}, {"since_ms", s.since_ms}});
  for (const auto& p : loudness_)
    if (p.t_ms > since_ms && p.t_ms >= oldest_ms)
      points.push_back({p.t_ms, lufs(p.momentary_lufs), lufs(p.short_term_lufs)});
  return {{"now_ms", now_ms},
          {"since_ms", since_ms},
          {"span_s", kSpanMs / 1000},
          {"defects", std::move(defects)},
          {"states", std::move(states)},
          {"loudness", {{"target_lufs", lufs(target_lufs_)}, {"step_s", 1}, {"points", std::move(points)}}}};
}

}  // namespace avmon
