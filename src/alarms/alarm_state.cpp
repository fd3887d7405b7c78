// What people do to alarms (acknowledge, mask) and what survives a restart
// (alarm_book.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <spdlog/spdlog.h>

#include "alarms/alarm_book.hpp"
#include "alarms/schedule.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace avmon {

namespace {

std::string ms_text(std::int64_t ms) {
  return rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

nlohmann::json mask_json(const AlarmMask& m) {
  nlohmann::json j = {{"name", m.name}, {"types", m.types}, {"origin", m.origin}};
  j["until"] = m.until_ms ? nlohmann::json(ms_text(*m.until_ms)) : nlohmann::json(nullptr);
  if (!m.by.empty()) j["by"] = m.by;
  return j;
}

// Whole file to `tmp`, flushed to disk, then renamed over `path`: a reader
// (the next instance) finds the old state or the new, never half of one.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  auto fail = [&](int e) {
    ::unlink(tmp.c_str());  // no torn file left behind
    throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(e));
  };
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      ::close(fd);
      fail(e);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    fail(e);
  }
  if (::close(fd) != 0) fail(errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
}

}  // namespace

nlohmann::json alarm_json(const Alarm& a, bool wall_times) {
  nlohmann::json j = {{"id", a.id},
                      {"type", a.type},
                      {"detector", a.detector},
                      {"severity", a.severity},
                      {"state", a.state},
                      {"media_time", round_ms(a.media_time_s)},
                      {"masked", a.masked},
                      {"latch", a.latch},
                      {"flapping", a.flapping}};
  if (a.channel >= 0) j["channel"] = a.channel;
  if (wall_times) j["since"] = a.since;
  j["acked"] = a.acked ? nlohmann::json{{"by", a.acked->by}, {"at", a.acked->at}, {"comment", a.acked->comment}}
                       : nlohmann::json(nullptr);
  if (!a.masked_by.empty()) j["masked_by"] = a.masked_by;
  if (!a.cleared_at.empty()) {
    if (wall_times) j["cleared_at"] = a.cleared_at;
    j["end_media_time"] = round_ms(a.end_media_time_s);
  }
  if (a.flapping) j["raises"] = a.raises;
  if (a.carried) j["carried"] = true;
  return j;
}

nlohmann::json AlarmBook::list() const {
  std::lock_guard lk(mu_);
  // Newest first: what a person looks at.
  std::vector<const Alarm*> v;
  for (const auto& [id, a] : alarms_) v.push_back(&a);
  std::stable_sort(v.begin(), v.end(), [](const Alarm* x, const Alarm* y) { return x->since_ms > y->since_ms; });
  nlohmann::json out = nlohmann::json::array();
  for (const Alarm* a : v) out.push_back(alarm_json(*a));
  return out;
}

nlohmann::json AlarmBook::masks_json() const {
  std::lock_guard lk(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, m] : masks_) out.push_back(mask_json(m));
  for (const auto& s : cfg_.schedules) {
    nlohmann::json j = {{"name", s.name}, {"types", s.types}, {"origin", "schedule"}, {"mode", s.mode},
                        {"active", schedule_in_window(s, now_ms_())}};
    out.push_back(j);
  }
  return out;
}

AlarmChange AlarmBook::ack(const std::string& id, const std::string& by, const std::string& comment) {
  std::lock_guard lk(mu_);
  auto it = alarms_.find(id);
  if (it == alarms_.end()) return {404, {{"error", "no alarm " + id}}};
  Alarm& a = it->second;
  if (a.acked) return {409, {{"error", "alarm " + id + " is already acknowledged by " + a.acked->by}, {"alarm", alarm_json(a)}}};
  if (a.state == "cleared") return {409, {{"error", "alarm " + id + " is cleared"}, {"alarm", alarm_json(a)}}};
  a.acked = AlarmAck{by, comment, now_text()};
  const bool was_latched = a.state == "latched";
  if (was_latched) a.state = "cleared";
  nlohmann::json line = alarm_line("alarm.ack", media_s_, a);
  line["details"] = {{"by", by}, {"comment", comment}, {"at", a.acked->at}};
  annotate(line, a);
  spdlog::info("alarm {} ({}) acknowledged by {}", id, a.type, by);
  out(line);
  nlohmann::json body = alarm_json(a);
  if (was_latched) retire(id);
  save_state();
  return {200, body};
}

AlarmChange AlarmBook::put_mask(AlarmMask mask) {
  std::lock_guard lk(mu_);
  const bool existed = masks_.count(mask.name) != 0;
  nlohmann::json line = own_line("alarm.mask", media_s_);
  line["details"] = mask_json(mask);
  line["details"]["action"] = "set";
  masks_[mask.name] = mask;
  spdlog::info("alarm mask {} set by {}", mask.name, mask.by.empty() ? "(unknown)" : mask.by);
  out(line);
  save_state();
  return {existed ? 200 : 201, mask_json(mask)};
}

AlarmChange AlarmBook::delete_mask(const std::string& name, const std::string& by) {
  std::lock_guard lk(mu_);
  auto it = masks_.find(name);
  if (it == masks_.end()) return {404, {{"error", "no mask " + name}}};
  nlohmann::json line = own_line("alarm.mask", media_s_);
  line["details"] = mask_json(it->second);
  line["details"]["action"] = "removed";
  if (!by.empty()) line["details"]["by"] = by;
  masks_.erase(it);
  spdlog::info("alarm mask {} removed", name);
  out(line);
  save_state();
  return {200, {{"removed", name}}};
}

void AlarmBook::save_state() {
  if (cfg_.state_file.empty()) return;
  nlohmann::json j = {{"version", 1}, {"stream", stream_}, {"saved_at", now_text()}, {"stopping", stopping_}};
  nlohmann::json masks = nlohmann::json::array();
  for (const auto& [name, m] : masks_)
    if (m.origin == "api") masks.push_back(mask_json(m));
  j["masks"] = masks;
  nlohmann::json alarms = nlohmann::json::array();
  for (const auto& [id, a] : alarms_) {
    nlohmann::json aj = alarm_json(a);
    aj["since_ms"] = a.since_ms;
    aj["masked_by"] = a.masked_by;
    alarms.push_back(aj);
  }
  j["alarms"] = alarms;
  try {
    write_atomically(cfg_.state_file, to_json_text(j, 1) + "\n");
  } catch (const std::exception& e) {
    // The alarms go on in memory; the next restart may re-page them.
    spdlog::error("alarms: {}", e.what());
  }
}

void AlarmBook::load_state() {
  std::lock_guard lk(mu_);
  if (cfg_.state_file.empty()) return;
  std::ifstream in(cfg_.state_file);
  if (!in) return;  // first start
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!j.is_object() || !j["alarms"].is_array()) {
    spdlog::error("alarms: {} is not an alarm state file; starting without it", cfg_.state_file);
    return;
  }
  const std::int64_t now = now_ms_();
  try {
    for (const auto& m : j.value("masks", nlohmann::json::array())) {
      AlarmMask mask;
      mask.name = m.at("name").get<std::string>();
      mask.types = m.value("types", std::vector<std::string>{});
      mask.origin = "api";
      mask.by = m.value("by", "");
      if (m.contains("until") && m["until"].is_string()) mask.until_ms = parse_rfc3339_ms(m["until"].get<std::string>());
      masks_[mask.name] = mask;
    }
    for (const auto& aj : j["alarms"]) {
      Alarm a;
      a.id = aj.at("id").get<std::string>();
      a.defect_id = a.id;
      a.type = aj.value("type", "");
      a.detector = aj.value("detector", "");
      a.severity = aj.value("severity", "");
      a.channel = aj.value("channel", -1);
      a.state = aj.value("state", "cleared");
      a.since = aj.value("since", "");
      a.since_ms = aj.value("since_ms", std::int64_t{0});
      a.cleared_at = aj.value("cleared_at", "");
      a.masked = aj.value("masked", false);
      a.masked_by = aj.value("masked_by", std::vector<std::string>{});
      a.latch = aj.value("latch", false);
      a.flapping = aj.value("flapping", false);
      a.raises = aj.value("raises", 1);
      // Media time starts again at 0 in this instance.
      a.media_time_s = 0;
      if (aj.contains("acked") && aj["acked"].is_object())
        a.acked = AlarmAck{aj["acked"].value("by", ""), aj["acked"].value("comment", ""), aj["acked"].value("at", "")};
      if (a.state == "active") {
        a.carried = true;
        a.carried_until_ms = now + static_cast<std::int64_t>(cfg_.restart_grace_s * 1000);
      }
      alarms_[a.id] = a;
      if (a.state == "cleared") cleared_.push_back(a.id);
    }
  } catch (const std::exception& e) {
    spdlog::error("alarms: {}: {}; starting without it", cfg_.state_file, e.what());
    alarms_.clear();
    cleared_.clear();
    return;
  }
  std::size_t carried = 0;
  for (const auto& [id, a] : alarms_) carried += a.carried ? 1 : 0;
  spdlog::info("alarms: {} alarm(s) from {}, {} open at the last stop (confirmed or cleared within {} s)",
               alarms_.size(), cfg_.state_file, carried, cfg_.restart_grace_s);
}

}  // namespace avmon
