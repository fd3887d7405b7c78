#include "reports/report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <tuple>

#include "util/time.hpp"

namespace avmon::reports {

namespace {

double number_or(const nlohmann::json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "pass" : "fail";
  if (v.is_number()) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v.get<double>());
    return b;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Whole numbers (dialnorm, splice_event_id) as they are, not as figures.
std::string integer_cell(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.dump();
  return cell(v);
}

// RFC 4180: a field with a comma, quote or line break is quoted.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string fixed(double v, int decimals) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string join_why(const nlohmann::json& why) {
  std::string s;
  if (!why.is_array()) return s;
  for (const auto& w : why) {
    if (!w.is_string()) continue;
    if (!s.empty()) s += "; ";
    s += w.get<std::string>();
  }
  return s;
}

std::set<std::string> defect_types(const ReportData& r) {
  std::set<std::string> types;
  for (const auto& d : r.defects) types.insert(d.type);
  types.erase("detector_lagging");
  types.erase("detector_failed");
  return types;
}

}  // namespace

std::optional<double> parse_rfc3339(const std::string& s) {
  int y, mo, d, h, mi;
  double sec;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%lfZ", &y, &mo, &d, &h, &mi, &sec) != 6 || s.back() != 'Z') return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<double>(timegm(&tm)) + sec;
}

std::string format_rfc3339(double wall_s) {
  return rfc3339_utc(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(wall_s))));
}

void ReportBuilder::add(const nlohmann::json& line) {
  if (!line.is_object()) return;
  ++lines_;
  const std::string kind = line.value("kind", "");
  const double t = number_or(line, "media_time", 0);
  d_.end_s = std::max(d_.end_s, t);
  if (d_.stream.empty() && line.contains("stream") && line["stream"].is_string()) d_.stream = line["stream"].get<std::string>();
  const nlohmann::json details = line.contains("details") && line["details"].is_object() ? line["details"] : nlohmann::json::object();
  if (kind == "report.loudness") {
    d_.segments.push_back(details);
    if (!d_.origin_wall_s && details.contains("start_wall_time") && details["start_wall_time"].is_string()) {
      if (auto w = parse_rfc3339(details["start_wall_time"].get<std::string>()))
        d_.origin_wall_s = *w - number_or(details, "start_media_time", 0);
    }
  } else if (kind == "defect.start") {
    open_[line.value("id", "")] = {line.value("type", ""), line.value("severity", ""), t};
  } else if (kind == "defect.end") {
    auto it = open_.find(line.value("id", ""));
    if (it != open_.end()) {
      d_.defects.push_back({it->second.type, it->second.severity, it->second.start_s, t, false});
      open_.erase(it);
    } else {
      // The file began after the defect did: its length says where.
      d_.defects.push_back({line.value("type", ""), line.value("severity", ""), t - number_or(details, "duration_s", 0), t, false});
    }
  } else if (kind == "stream.summary") {
    d_.end_s = std::max(d_.end_s, number_or(line, "duration_s", 0));
  }
}

void ReportBuilder::restart_at(double media_s) {
  d_.segments.clear();
  d_.defects.clear();
  d_.start_s = media_s;
  for (auto& [id, o] : open_) o.start_s = std::max(o.start_s, media_s);
}

ReportData ReportBuilder::data() const {
  ReportData r = d_;
  for (const auto& [id, o] : open_) r.defects.push_back({o.type, o.severity, o.start_s, r.end_s, true});
  std::sort(r.defects.begin(), r.defects.end(),
            [](const DefectSpan& a, const DefectSpan& b) { return std::tie(a.start_s, a.type) < std::tie(b.start_s, b.type); });
  return r;
}

std::string loudness_csv(const ReportData& r) {
  std::string out =
      "segment,start_media_time,end_media_time,start_wall_time,end_wall_time,duration_s,integrated_lufs,range_lu,"
      "max_momentary_lufs,max_short_term_lufs,true_peak_dbtp,preset,target_lufs,result,why,dialnorm_db,"
      "dialnorm_offset_lu,start_reason,splice_event_id,part\n";
  for (const auto& s : r.segments) {
    auto g = [&](const char* k) { return s.contains(k) ? s[k] : nlohmann::json(nullptr); };
    std::string row = std::to_string(s.value("segment", 0));
    for (const char* k : {"start_media_time", "end_media_time"}) row += "," + fixed(number_or(s, k, 0), 3);
    for (const char* k : {"start_wall_time", "end_wall_time"}) row += "," + csv_field(cell(g(k)));
    row += "," + fixed(number_or(s, "duration_s", 0), 3);
    for (const char* k : {"integrated_lufs", "range_lu", "max_momentary_lufs", "max_short_term_lufs", "true_peak_dbtp"})
      row += "," + cell(g(k));
    row += "," + csv_field(cell(g("preset"))) + "," + cell(g("target_lufs"));
    row += "," + (g("pass").is_null() ? std::string("n/a") : cell(g("pass")));
    row += "," + csv_field(join_why(g("why")));
    row += "," + integer_cell(g("dialnorm_db")) + "," + cell(g("dialnorm_offset_lu"));
    row += "," + csv_field(cell(g("start_reason"))) + "," + integer_cell(g("splice_event_id")) + "," + csv_field(cell(g("part")));
    out += row + "\n";
  }
  return out;
}

std::string availability_csv(const ReportData& r) {
  const std::set<std::string> types = defect_types(r);
  std::string out = "period,start_media_time,end_media_time,start_wall_time,seconds,errored_s,severely_errored_s,"
                    "unavailable_s,availability_pct";
  for (const auto& t : types) out += "," + csv_field(t + "_s");
  out += "\n";
  for (auto [name, period_s] : {std::pair{"hour", 3600.0}, std::pair{"day", 86400.0}}) {
    for (const auto& row : availability(r.defects, r.start_s, r.end_s, period_s, r.origin_wall_s)) {
      std::string line = std::string(name) + "," + fixed(row.start_s, 3) + "," + fixed(row.end_s, 3) + "," +
                         (row.start_wall_s ? format_rfc3339(*row.start_wall_s) : std::string()) + "," +
                         std::to_string(row.seconds) + "," + std::to_string(row.errored_s) + "," +
                         std::to_string(row.severely_errored_s) + "," + std::to_string(row.unavailable_s) + "," +
                         fixed(row.availability * 100, 3);
      for (const auto& t : types) {
        auto it = row.defect_s.find(t);
        line += "," + fixed(it == row.defect_s.end() ? 0.0 : it->second, 3);
      }
      out += line + "\n";
    }
  }
  return out;
}

nlohmann::json report_json(const ReportData& r) {
  nlohmann::json segments = nlohmann::json::array();
  for (auto s : r.segments) {
    s.erase("series");
    segments.push_back(std::move(s));
  }
  nlohmann::json avail = nlohmann::json::object();
  for (auto [name, period_s] : {std::pair{"hourly", 3600.0}, std::pair{"daily", 86400.0}}) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : availability(r.defects, r.start_s, r.end_s, period_s, r.origin_wall_s)) {
      nlohmann::json j = {{"start_media_time", round_ms(row.start_s)},
                          {"end_media_time", round_ms(row.end_s)},
                          {"start_wall_time", row.start_wall_s ? nlohmann::json(format_rfc3339(*row.start_wall_s)) : nlohmann::json(nullptr)},
                          {"seconds", row.seconds},
                          {"errored_s", row.errored_s},
                          {"severely_errored_s", row.severely_errored_s},
                          {"unavailable_s", row.unavailable_s},
                          {"availability", std::round(row.availability * 1e6) / 1e6},
                          {"defect_s", row.defect_s}};
      rows.push_back(std::move(j));
    }
    avail[name] = std::move(rows);
  }
  return {{"stream", r.stream}, {"start_media_time", round_ms(r.start_s)}, {"end_media_time", round_ms(r.end_s)}, {"loudness", std::move(segments)}, {"availability", std::move(avail)}};
}

}  // namespace avmon::reports
