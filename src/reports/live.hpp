// The reports of a running monitor: the loudness history (one point a
// second, the last 24 hours) for the status page, and the report of the
// current UTC day (a file: of the whole input), kept up to date from the
// event lines as they are written and, with reports.dir, written as files
// each time a loudness segment completes and at the end.
//
// Files: a live input's day D goes to DIR/D/ (e.g. DIR/2026-12-02/), a
// file's report to DIR itself: loudness.csv, availability.csv, report.json,
// report.html, as `avmon report` writes them.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "notify/notifier.hpp"
#include "reports/loudness_segments.hpp"
#include "reports/report.hpp"

namespace avmon::reports {

class LiveReports {
 public:
  LiveReports(std::string dir, LoudnessPreset preset);

  // Producer thread: one second of loudness.
  void add_point(const LoudnessPoint& p);
  // Event lines in the order they are written (the notifier hub).
  void on_event(const nlohmann::json& line);

  // --- HTTP (any thread) ---
  // {"preset", "target_lufs", "tolerance_lu", "points": [{media_time, wall_time, short_term_lufs,
  // momentary_max_lufs}...]} for the last `last_s` seconds of media time.
  nlohmann::json loudness(double last_s) const;
  // Defects that overlap the last `last_s` seconds (open ones have end_media_time null).
  nlohmann::json defects(double last_s) const;
  ReportData current() const;
  // Report files that could not be written so far.
  std::uint64_t write_errors() const;

  // The running monitor's reports, for the HTTP server (one monitor per
  // process); null: reports are off.
  static void publish(std::shared_ptr<const LiveReports> live);
  static std::shared_ptr<const LiveReports> published();

 private:
  void write_files(const ReportData& d, const std::string& day);
  std::string day_of(const nlohmann::json& segment) const;

  const std::string dir_;
  const LoudnessPreset preset_;
  mutable std::mutex mu_;
  std::deque<LoudnessPoint> points_;
  ReportBuilder builder_;
  std::string day_;  // UTC date of the live day being reported; empty for a file
  std::uint64_t write_errors_ = 0;
};

// A notifier that hands every event line to `live` (synchronously, in the
// order the lines are written).
std::unique_ptr<Notifier> make_reports_notifier(std::shared_ptr<LiveReports> live);

}  // namespace avmon::reports
