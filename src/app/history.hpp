// The last hour as the status page draws it: each defect's wall-clock onset
// and end (timeline bands), the page's state changes, and the loudness once a
// second (momentary and short-term, against the target). Bounded: a defect
// leaves an hour after it ended, loudness keeps 3600 points, so memory does
// not grow with uptime. Times are wall clock in milliseconds since the epoch
// (the operator's clock); media time rides along as a detail.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace avmon {

struct HistoryDefect {
  std::string id, type, severity, detector;
  int channel = -1;                  // per-channel types only
  double media_time_s = 0, end_media_time_s = -1;
  std::int64_t start_ms = 0, end_ms = -1;  // wall clock; end -1: still open
  std::int64_t updated_ms = 0;             // last change (start, end, evidence), for `since`
  std::string thumbnail;                   // URL path: the picture at the onset (telemetry's)
  std::string clip;                        // URL path: the evidence clip around it, once written
  std::vector<std::string> pictures;       // URL paths: the evidence pictures at the raise and the clear
};

struct LoudnessPoint {
  std::int64_t t_ms = 0;
  std::optional<double> momentary_lufs, short_term_lufs;
};

struct StateChange {
  std::string level;  // OK, WARNING, ALARM, NO SIGNAL
  std::int64_t since_ms = 0;
};

class History {
 public:
  static constexpr std::int64_t kSpanMs = 3600 * 1000;
  static constexpr std::size_t kLoudnessPoints = 3600;  // an hour at one a second
  static constexpr std::size_t kMaxDefects = 2000;      // a flapping input cannot grow it without end

  // Evidence files (clips, their pictures) are named by their path; the page
  // reaches them as /evidence/<file name> (served from evidence.dir).
  static std::string evidence_url(const std::string& path);

  // A defect.start/defect.end (or an evidence line) written at `now_ms`
  // while the newest media seen was at `latest_media_s`: the onset is dated
  // back by how far the media had moved on since it (min_duration_s), never
  // before `floor_ms` (the process's start).
  void on_event(const nlohmann::json& event, std::int64_t now_ms, double latest_media_s, std::int64_t floor_ms);
  void add_loudness(std::int64_t t_ms, std::optional<double> momentary_lufs, std::optional<double> short_term_lufs);
  void set_target_lufs(std::optional<double> target) {
    std::lock_guard lk(mu_);
    target_lufs_ = target;
  }
  // Records `level` as the state at `now_ms`; returns since when it has been so.
  std::int64_t note_state(const std::string& level, std::int64_t now_ms);

  // {"now_ms","since_ms","span_s","defects":[...],"states":[...],"loudness":{"target_lufs","points":[[t,m,s]...]}}:
  // defects changed at or after `since_ms` (all with 0), loudness points and
  // state changes after it, nothing older than an hour.
  nlohmann::json render(std::int64_t since_ms, std::int64_t now_ms) const;

 private:
  void expire(std::int64_t now_ms);
  HistoryDefect* find(const std::string& id);

  mutable std::mutex mu_;
  std::deque<HistoryDefect> defects_;  // in order of onset report
  std::deque<LoudnessPoint> loudness_;
  std::deque<StateChange> states_;
  std::optional<double> target_lufs_;
};

}  // namespace avmon
