// The lines: raise, clear, flapping, handover at a stop (alarm_book.hpp).
#include "alarms/alarm_book.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <spdlog/spdlog.h>

#include "alarms/schedule.hpp"
#include "util/time.hpp"

namespace avmon {

namespace {

std::string hex_id(const std::string& seed) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : seed) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

bool is_defect(const std::string& kind) { return kind == "defect.start" || kind == "defect.end"; }

}  // namespace

std::int64_t AlarmBook::system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AlarmBook::AlarmBook(AlarmsConfig cfg, std::string stream, EventSink& out, Clock now_ms)
    : cfg_(std::move(cfg)), stream_(std::move(stream)), out_(out), now_ms_(std::move(now_ms)) {
  for (const auto& m : cfg_.masks) masks_[m.name] = m;
}

AlarmBook::~AlarmBook() { stop_ticker(); }

void AlarmBook::start_ticker() {
  std::lock_guard lk(ticker_mu_);
  if (ticker_.joinable()) return;
  ticker_stop_ = false;
  ticker_ = std::thread([this] {
    std::unique_lock tl(ticker_mu_);
    while (!ticker_cv_.wait_for(tl, std::chrono::seconds(1), [this] { return ticker_stop_; })) {
      tl.unlock();
      tick();
      tl.lock();
    }
  });
}

void AlarmBook::stop_ticker() {
  {
    std::lock_guard lk(ticker_mu_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

AlarmsConfig resolve_alarms_config(const AlarmsConfig& cfg, const std::string& spool_dir, const std::string& stream) {
  AlarmsConfig c = cfg;
  if (c.state_file.empty() && !spool_dir.empty()) {
    // Beside the spool, not in it: the spool holds undelivered events only.
    std::filesystem::path spool = std::filesystem::path(spool_dir).lexically_normal();
    if (!spool.has_filename()) spool = spool.parent_path();
    std::filesystem::path parent = spool.has_parent_path() ? spool.parent_path() : std::filesystem::path(".");
    std::string name;
    for (unsigned char ch : stream) name += std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' ? static_cast<char>(ch) : '_';
    c.state_file = (parent / (spool.filename().string() + ".alarms-" + name + ".json")).string();
  }
  return c;
}

std::string AlarmBook::now_text() const {
  return rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_())));
}

AlarmBook::Key AlarmBook::key_of(const nlohmann::json& line) {
  return line.value("type", "") + "/" + line.value("detector", "") + "/" +
         std::to_string(line.value("channel", -1));
}

bool AlarmBook::latches(const std::string& type) const {
  if (auto t = cfg_.types.find(type); t != cfg_.types.end() && t->second.latch) return *t->second.latch;
  return std::find(cfg_.latch.begin(), cfg_.latch.end(), type) != cfg_.latch.end() ||
         std::find(cfg_.latch.begin(), cfg_.latch.end(), "*") != cfg_.latch.end();
}

std::vector<std::string> AlarmBook::masking(const std::string& type) const {
  std::vector<std::string> names;
  const std::int64_t now = now_ms_();
  for (const auto& [name, m] : masks_) {
    if (m.until_ms && *m.until_ms <= now) continue;
    if (m.types.empty() || std::find(m.types.begin(), m.types.end(), type) != m.types.end()) names.push_back(name);
  }
  for (const auto& s : cfg_.schedules)
    if (schedule_masks(s, type, now)) names.push_back(s.name);
  return names;
}

void AlarmBook::annotate(nlohmann::json& line, const Alarm& a) const {
  line["masked"] = a.masked;
  line["alarm"] = alarm_json(a, false);
  // Raised by the previous instance: when is news to the receiver.
  if (a.id != line.value("id", "") && !a.flapping) line["alarm"]["since"] = a.since;
}

void AlarmBook::out(const nlohmann::json& line) { out_.emit(line); }

nlohmann::json AlarmBook::own_line(const char* kind, double media_time_s) const {
  return {{"kind", kind}, {"stream", stream_}, {"media_time", round_ms(media_time_s)}, {"wall_time", now_text()}};
}

nlohmann::json AlarmBook::alarm_line(const char* kind, double media_time_s, const Alarm& a) const {
  nlohmann::json line = own_line(kind, media_time_s);
  line["id"] = a.id;
  line["type"] = a.type;
  line["detector"] = a.detector;
  if (a.channel >= 0) line["channel"] = a.channel;
  line["severity"] = a.severity;
  return line;
}

void AlarmBook::emit(const nlohmann::json& in) {
  std::lock_guard lk(mu_);
  const std::string kind = in.value("kind", "");
  const double t = in.value("media_time", media_s_);
  if (kind == "stream.summary") {
    // Flapping alarms still open end with the stream (or are handed over).
    settle_flaps(std::numeric_limits<double>::infinity());
    media_s_ = std::max(media_s_, t);
    out(in);
    return;
  }
  if (!is_defect(kind)) {
    out(in);
    return;
  }
  media_s_ = std::max(media_s_, t);
  if (!stopping_ && stop_check_ && kind == "defect.end" && stop_check_()) stopping_ = true;
  settle_flaps(t);
  nlohmann::json line = in;
  if (kind == "defect.start") on_start(line);
  else on_end(line);
}

void AlarmBook::on_start(nlohmann::json& line) {
  const Key key = key_of(line);
  const double t = line.value("media_time", 0.0);
  const std::string defect_id = line.value("id", "");
  Flaps& f = flaps_[key];
  f.raises_s.push_back(t);
  while (!f.raises_s.empty() && f.raises_s.front() < t - cfg_.flap_window_s) f.raises_s.pop_front();
  f.condition = true;

  if (!f.alarm_id.empty()) {
    // Still flapping: one alarm stands for it, the raise is recorded only.
    Alarm& a = alarms_.at(f.alarm_id);
    ++a.raises;
    a.defect_id = defect_id;
    f.last_raise_s = t;
    by_defect_[defect_id] = a.id;
    annotate(line, a);
    line["flapping"] = true;
    out(line);
    save_state();
    return;
  }

  // A carried alarm of the same condition: the stream confirms it.
  for (auto& [id, a] : alarms_) {
    if (!a.carried || key_of({{"type", a.type}, {"detector", a.detector}, {"channel", a.channel}}) != key) continue;
    a.carried = false;
    a.defect_id = defect_id;
    by_defect_[defect_id] = id;
    annotate(line, a);
    line["continues"] = id;
    if (a.flapping) {
      // Still flapping: it settles in this instance.
      f.alarm_id = id;
      f.last_raise_s = t;
      ++a.raises;
      line["flapping"] = true;
    }
    spdlog::info("alarm {} ({}) open at the previous stop is confirmed by defect {}", id, a.type, defect_id);
    out(line);
    save_state();
    return;
  }

  Alarm a;
  a.id = defect_id;
  a.defect_id = defect_id;
  a.type = line.value("type", "");
  a.detector = line.value("detector", "");
  a.channel = line.value("channel", -1);
  a.severity = line.value("severity", "");
  a.since_ms = now_ms_();
  a.since = now_text();
  a.media_time_s = t;
  a.masked_by = masking(a.type);
  a.masked = !a.masked_by.empty();
  a.latch = latches(a.type);

  if (static_cast<int>(f.raises_s.size()) > cfg_.flap_count) {
    // Flood control: from this raise on, one flapping alarm until it settles.
    a.id = hex_id(stream_ + "/" + key + "/flapping/" + defect_id);
    a.flapping = true;
    a.raises = static_cast<int>(f.raises_s.size());
    f.alarm_id = a.id;
    f.last_raise_s = t;
    by_defect_[defect_id] = a.id;
    alarms_[a.id] = a;
    // Its own kind: the defects (and their counts) stay what the engine found.
    nlohmann::json flap = alarm_line("alarm.flapping", t, a);
    flap["flapping"] = true;
    flap["details"] = {{"state", "start"}, {"raises", a.raises}, {"window_s", cfg_.flap_window_s}};
    annotate(flap, a);
    spdlog::warn("alarm {}: {} raised {} times within {} s: one flapping alarm until it settles", a.id, a.type,
                 a.raises, cfg_.flap_window_s);
    annotate(line, a);
    line["flapping"] = true;
    out(flap);
    out(line);
    save_state();
    return;
  }

  alarms_[a.id] = a;
  by_defect_[defect_id] = a.id;
  annotate(line, a);
  out(line);
  save_state();
}

void AlarmBook::on_end(nlohmann::json& line) {
  const std::string defect_id = line.value("id", "");
  auto d = by_defect_.find(defect_id);
  if (d == by_defect_.end()) {
    line["masked"] = false;
    out(line);
    return;
  }
  const std::string id = d->second;
  by_defect_.erase(d);
  Alarm& a = alarms_.at(id);
  Flaps& f = flaps_[key_of(line)];
  f.condition = false;
  if (a.flapping) {
    annotate(line, a);
    line["flapping"] = true;
    if (stopping_ && !cfg_.state_file.empty()) line["handover"] = true;
    out(line);
    return;
  }
  if (stopping_ && !cfg_.state_file.empty()) {
    // The process stops, the stream did not recover: the next instance
    // confirms or clears this alarm (restart_grace_s).
    annotate(line, a);
    line["handover"] = true;
    if (id != defect_id) line["continues"] = id;
    out(line);
    save_state();
    return;
  }
  a.end_media_time_s = line.value("media_time", 0.0);
  a.cleared_at = now_text();
  a.state = a.latch && !a.acked ? "latched" : "cleared";
  annotate(line, a);
  if (id != defect_id) line["continues"] = id;
  out(line);
  if (a.state == "cleared") retire(id);
  save_state();
}

void AlarmBook::settle_flaps(double media_time_s) {
  for (auto& [key, f] : flaps_) {
    if (f.alarm_id.empty() || f.condition) continue;
    if (media_time_s - f.last_raise_s < cfg_.flap_settle_s) continue;
    Alarm& a = alarms_.at(f.alarm_id);
    if (stopping_ && !cfg_.state_file.empty()) continue;  // handed over with the state file
    const double end_s = std::isfinite(media_time_s) ? std::max(media_s_, f.last_raise_s) : media_s_;
    a.end_media_time_s = end_s;
    a.cleared_at = now_text();
    a.state = a.latch && !a.acked ? "latched" : "cleared";
    nlohmann::json line = alarm_line("alarm.flapping", end_s, a);
    line["flapping"] = true;
    line["details"] = {{"state", "end"}, {"raises", a.raises}, {"settle_s", cfg_.flap_settle_s},
                       {"duration_s", round_ms(end_s - a.media_time_s)}};
    annotate(line, a);
    out(line);
    const std::string id = a.id;
    f.alarm_id.clear();
    f.raises_s.clear();
    if (a.state == "cleared") retire(id);
    save_state();
  }
}

void AlarmBook::retire(const std::string& id) {
  cleared_.push_back(id);
  while (static_cast<int>(cleared_.size()) > cfg_.keep_cleared) {
    alarms_.erase(cleared_.front());
    cleared_.pop_front();
  }
}

void AlarmBook::begin_stop() {
  std::lock_guard lk(mu_);
  stopping_ = true;
}

void AlarmBook::tick() {
  std::lock_guard lk(mu_);
  expire_masks();
  const std::int64_t now = now_ms_();
  std::vector<std::string> unconfirmed;
  for (auto& [id, a] : alarms_)
    if (a.carried && now >= a.carried_until_ms) unconfirmed.push_back(id);
  for (const auto& id : unconfirmed) {
    Alarm& a = alarms_.at(id);
    a.carried = false;
    a.end_media_time_s = media_s_;
    a.cleared_at = now_text();
    a.state = a.latch && !a.acked ? "latched" : "cleared";
    // The previous instance paged its start under the alarm's id.
    nlohmann::json line = alarm_line(a.flapping ? "alarm.flapping" : "defect.end", media_s_, a);
    line["details"] = {{"handover", "not confirmed"}, {"restart_grace_s", cfg_.restart_grace_s}};
    if (a.flapping) {
      line["flapping"] = true;
      line["details"]["state"] = "end";
      line["details"]["raises"] = a.raises;
    }
    annotate(line, a);
    spdlog::info("alarm {} ({}) open at the previous stop was not confirmed within {} s: cleared", id, a.type,
                 cfg_.restart_grace_s);
    out(line);
    if (a.state == "cleared") retire(id);
    save_state();
  }
}

void AlarmBook::expire_masks() {
  const std::int64_t now = now_ms_();
  for (auto it = masks_.begin(); it != masks_.end();) {
    if (!it->second.until_ms || *it->second.until_ms > now) {
      ++it;
      continue;
    }
    nlohmann::json line = own_line("alarm.mask", media_s_);
    line["details"] = {{"name", it->first}, {"action", "expired"}, {"types", it->second.types}};
    out(line);
    it = masks_.erase(it);
    save_state();
  }
}

AlarmBook::Counts AlarmBook::counts() const {
  std::lock_guard lk(mu_);
  Counts c;
  for (const auto& [id, a] : alarms_) {
    ++c.by_state_severity[{a.state, a.severity}];
    if (a.state != "cleared" && a.masked) ++c.masked;
    if (a.state == "active" && a.flapping) ++c.flapping;
  }
  return c;
}

}  // namespace avmon
