// The compliance and availability report, built from event lines alone:
// `report.loudness` lines (one per programme segment, written by the
// monitor, loudness_segments.hpp) and `defect.start` / `defect.end` pairs.
// The running monitor feeds it the lines as they are written (reports
// notifier); `avmon report EVENTS.jsonl` feeds it a file after the fact, so
// both give the same tables.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/availability.hpp"

namespace avmon::reports {

struct ReportData {
  std::string stream;
  std::vector<nlohmann::json> segments;  // details of each report.loudness line, in order
  std::vector<DefectSpan> defects;       // defects still open are ended at end_s
  double start_s = 0;                    // media time the report begins (a live day: its first second)
  double end_s = 0;                      // last media time seen (stream.summary's duration when present)
  std::optional<double> origin_wall_s;   // UTC seconds since the epoch at media time 0 (live inputs)
};

class ReportBuilder {
 public:
  // Any event line; kinds it does not use are ignored.
  void add(const nlohmann::json& line);
  ReportData data() const;
  size_t lines() const { return lines_; }
  // A live monitor's new day: forgets what ended before `media_s` and
  // starts the report there (defects still open carry on from there).
  void restart_at(double media_s);

 private:
  struct Open {
    std::string type, severity;
    double start_s;
  };
  ReportData d_;
  std::map<std::string, Open> open_;  // by defect id
  size_t lines_ = 0;
};

// UTC seconds since the epoch of an RFC 3339 time ("2026-11-26T09:45:00.123Z"); none if malformed.
std::optional<double> parse_rfc3339(const std::string& s);
std::string format_rfc3339(double wall_s);

// loudness.csv: one row per segment; the columns are a contract (docs/reports.md).
std::string loudness_csv(const ReportData& r);
// availability.csv: hourly rows, then daily rows (column `period`), one
// column of seconds per defect type present, in name order.
std::string availability_csv(const ReportData& r);
// Both tables as one JSON document (the series of each segment left out).
nlohmann::json report_json(const ReportData& r);
// A self-contained page (inline SVG, no external assets): loudness over
// time against the target band, the defect timeline, and both tables.
std::string report_html(const ReportData& r);

}  // namespace avmon::reports
