// report.html: one page an operator can look at rather than read. Inline
// SVG only (no scripts, fonts or images from elsewhere), so the file can be
// mailed or archived as it is.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "reports/report.hpp"

namespace avmon::reports {

namespace {

constexpr double kPlotW = 960, kPlotH = 240, kTop = 12;
// The left margin holds the LUFS scale and the defect types' names.
constexpr double kMinLeft = 56, kLabelCharW = 6.2;
constexpr double kFloorLufs = -50, kCeilLufs = 0;

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string num(double v, int decimals = 1) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

std::string opt_num(const nlohmann::json& v, int decimals = 1) {
  return v.is_number() ? num(v.get<double>(), decimals) : std::string("&ndash;");
}

struct Axis {
  double start_s, end_s;
  std::optional<double> origin;
  double left = kMinLeft;  // both plots share it, so that their times line up
  double x(double t) const {
    return left + kPlotW * std::clamp((t - start_s) / std::max(end_s - start_s, 1e-3), 0.0, 1.0);
  }
  std::string label(double t) const {
    char b[32];
    if (origin) {
      const auto w = static_cast<long long>(std::floor(*origin + t));
      std::snprintf(b, sizeof b, "%02lld:%02lld:%02lld", (w / 3600) % 24, (w / 60) % 60, w % 60);
    } else {
      const auto s = static_cast<long long>(std::llround(t));
      std::snprintf(b, sizeof b, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    }
    return b;
  }
};

double y_of(double lufs) {
  return kTop + kPlotH * (kCeilLufs - std::clamp(lufs, kFloorLufs, kCeilLufs)) / (kCeilLufs - kFloorLufs);
}

std::string time_ticks(const Axis& a, double y0, double y1) {
  std::string s;
  static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
  double step = steps[std::size(steps) - 1];
  for (double st : steps)
    if ((a.end_s - a.start_s) / st <= 10) {
      step = st;
      break;
    }
  for (double t = std::ceil(a.start_s / step - 1e-9) * step; t <= a.end_s + 1e-9; t += step) {
    const double x = a.x(t);
    s += "<line x1=\"" + num(x) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x) + "\" y2=\"" + num(y1) +
         "\" class=\"grid\"/><text x=\"" + num(x) + "\" y=\"" + num(y1 + 14) + "\" class=\"tick\" text-anchor=\"middle\">" +
         a.label(t) + "</text>";
  }
  return s;
}

// The short-term series of every segment as polylines, broken where it has no value.
std::string series_path(const Axis& a, const ReportData& r, const char* key) {
  std::string s;
  for (const auto& seg : r.segments) {
    const auto it = seg.find("series");
    if (it == seg.end() || !it->is_object() || !it->contains(key) || !(*it)[key].is_array()) continue;
    const double t0 = it->value("start_media_time", 0.0), step = it->value("step_s", 1.0);
    std::string pts;
    auto flush = [&] {
      if (!pts.empty()) s += "<polyline class=\"" + std::string(key) + "\" points=\"" + pts + "\"/>";
      pts.clear();
    };
    const auto& v = (*it)[key];
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) {
        flush();
        continue;
      }
      pts += num(a.x(t0 + step * static_cast<double>(i + 1))) + "," + num(y_of(v[i].get<double>())) + " ";
    }
    flush();
  }
  return s;
}

std::string loudness_svg(const Axis& a, const ReportData& r) {
  double target = -23, tol = 1;
  if (!r.segments.empty()) {
    target = r.segments.front().value("target_lufs", -23.0);
    tol = r.segments.front().value("tolerance_lu", 1.0);
  }
  std::string s = "<svg id=\"loudness\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(a.left + kPlotW + 40) +
                  " " + num(kTop + kPlotH + 24) + "\" role=\"img\" aria-label=\"loudness over time\">";
  s += "<rect x=\"" + num(a.left) + "\" y=\"" + num(y_of(target + tol)) + "\" width=\"" + num(kPlotW) + "\" height=\"" +
       num(y_of(target - tol) - y_of(target + tol)) + "\" class=\"band\"/>";
  for (double l = kFloorLufs; l <= kCeilLufs; l += 10)
    s += "<line x1=\"" + num(a.left) + "\" y1=\"" + num(y_of(l)) + "\" x2=\"" + num(a.left + kPlotW) + "\" y2=\"" + num(y_of(l)) +
         "\" class=\"grid\"/><text x=\"" + num(a.left - 6) + "\" y=\"" + num(y_of(l) + 4) + "\" class=\"tick\" text-anchor=\"end\">" +
         num(l, 0) + "</text>";
  s += "<line x1=\"" + num(a.left) + "\" y1=\"" + num(y_of(target)) + "\" x2=\"" + num(a.left + kPlotW) + "\" y2=\"" +
       num(y_of(target)) + "\" class=\"target\"/>";
  s += time_ticks(a, kTop, kTop + kPlotH);
  // SCTE-35 breaks shaded, each splice point marked with its event id.
  for (const auto& seg : r.segments) {
    const double x0 = a.x(seg.value("start_media_time", 0.0)), x1 = a.x(seg.value("end_media_time", 0.0));
    if (seg.value("part", "") == "break")
      s += "<rect x=\"" + num(x0) + "\" y=\"" + num(kTop) + "\" width=\"" + num(std::max(x1 - x0, 0.0)) + "\" height=\"" +
           num(kPlotH) + "\" class=\"break\"/>";
    const std::string reason = seg.value("start_reason", "");
    if (reason != "splice_out" && reason != "splice_in") continue;
    const auto id = seg.value("splice_event_id", nlohmann::json());
    const std::string label = std::string(reason == "splice_out" ? "out" : "in") + (id.is_number() ? " " + id.dump() : "");
    s += "<line x1=\"" + num(x0) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(x0) + "\" y2=\"" + num(kTop + kPlotH) +
         "\" class=\"splice\"/><text x=\"" + num(x0 + 3) + "\" y=\"" + num(kTop + kPlotH - 4) + "\" class=\"tick\">" +
         esc(label) + "</text>";
  }
  s += series_path(a, r, "momentary_max_lufs");
  s += series_path(a, r, "short_term_lufs");
  for (const auto& seg : r.segments) {
    if (!seg.value("integrated_lufs", nlohmann::json()).is_number()) continue;
    const double y = y_of(seg["integrated_lufs"].get<double>());
    const bool pass = seg.value("pass", nlohmann::json()).is_boolean() && seg["pass"].get<bool>();
    s += "<line x1=\"" + num(a.x(seg.value("start_media_time", 0.0))) + "\" y1=\"" + num(y) + "\" x2=\"" +
         num(a.x(seg.value("end_media_time", 0.0))) + "\" y2=\"" + num(y) + "\" class=\"integrated " +
         (pass ? "pass" : "fail") + "\"><title>segment " + std::to_string(seg.value("segment", 0)) + ": " +
         num(seg["integrated_lufs"].get<double>()) + " LUFS</title></line>";
  }
  s += "<text x=\"" + num(a.left + 4) + "\" y=\"" + num(kTop + 12) + "\" class=\"tick\">LUFS</text></svg>";
  return s;
}

std::string timeline_svg(const Axis& a, const ReportData& r) {
  std::set<std::string> types;
  for (const auto& d : r.defects) types.insert(d.type);
  const double row_h = 18;
  const double h = row_h * static_cast<double>(std::max<size_t>(types.size(), 1));
  std::string s = "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(a.left + kPlotW + 40) +
                  " " + num(kTop + h + 24) + "\" role=\"img\" aria-label=\"defect timeline\">";
  s += time_ticks(a, kTop, kTop + h);
  double y = kTop;
  for (const auto& type : types) {
    s += "<text x=\"" + num(a.left - 6) + "\" y=\"" + num(y + 13) + "\" class=\"tick\" text-anchor=\"end\">" + esc(type) + "</text>";
    for (const auto& d : r.defects) {
      if (d.type != type) continue;
      const double x0 = a.x(d.start_s), x1 = std::max(a.x(d.end_s), x0 + 1.5);
      s += "<rect x=\"" + num(x0) + "\" y=\"" + num(y + 2) + "\" width=\"" + num(x1 - x0) + "\" height=\"" + num(row_h - 4) +
           "\" class=\"sev-" + esc(d.severity) + "\"><title>" + esc(type) + " " + a.label(d.start_s) + " for " +
           num(d.end_s - d.start_s) + " s</title></rect>";
    }
    y += row_h;
  }
  if (types.empty())
    s += "<text x=\"" + num(a.left + 8) + "\" y=\"" + num(kTop + 13) + "\" class=\"tick\">no defects</text>";
  s += "</svg>";
  return s;
}

// "-27 (+4.0)": the declared dialogue level and how far the measured
// loudness is from it.
std::string dialnorm_cell(const nlohmann::json& seg) {
  const auto d = seg.value("dialnorm_db", nlohmann::json());
  if (!d.is_number()) return "&ndash;";
  std::string c = d.dump();
  const auto off = seg.value("dialnorm_offset_lu", nlohmann::json());
  if (off.is_number()) c += " (" + std::string(off.get<double>() > 0 ? "+" : "") + num(off.get<double>()) + ")";
  return c;
}

// Why the segment starts, e.g. "splice_out 1234 (break)".
std::string starts_cell(const nlohmann::json& seg) {
  std::string c = seg.value("start_reason", "");
  const auto id = seg.value("splice_event_id", nlohmann::json());
  if (id.is_number()) c += " " + id.dump();
  if (seg.value("part", "") == "break") c += " (break)";
  return c;
}

}  // namespace

std::string report_html(const ReportData& r) {
  Axis a{r.start_s, std::max(r.end_s, r.start_s + 1.0), r.origin_wall_s};
  for (const auto& d : r.defects)
    a.left = std::max(a.left, 12 + kLabelCharW * static_cast<double>(std::min<std::size_t>(d.type.size(), 48)));
  int passed = 0, failed = 0;
  for (const auto& s : r.segments) {
    const auto p = s.value("pass", nlohmann::json());
    if (p.is_boolean()) (p.get<bool>() ? passed : failed)++;
  }
  const auto days = availability(r.defects, r.start_s, r.end_s, 1e12, std::nullopt);
  const double overall = days.empty() ? 1.0 : days.front().availability;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>avmon report: " + esc(r.stream) +
      "</title><style>"
      "body{font:14px system-ui,sans-serif;margin:16px;color:#222}h1{font-size:20px;margin:0 0 4px}"
      "h2{font-size:16px;margin:18px 0 6px}.kpi{display:inline-block;margin-right:24px}.kpi b{font-size:22px}"
      "svg{width:100%;max-width:1200px;display:block}.grid{stroke:#ddd;stroke-width:1}.tick{font-size:11px;fill:#555}"
      ".band{fill:#2a2;opacity:.15}.target{stroke:#2a2;stroke-dasharray:4 3}"
      ".short_term_lufs{fill:none;stroke:#1565c0;stroke-width:1.5}.momentary_max_lufs{fill:none;stroke:#90caf9;stroke-width:1}"
      ".integrated{stroke-width:3}.pass{stroke:#2a2}.fail{stroke:#d32f2f}.break{fill:#888;opacity:.12}"
      ".splice{stroke:#6a1b9a;stroke-dasharray:2 2}"
      ".sev-critical{fill:#d32f2f}.sev-major{fill:#f57c00}.sev-minor{fill:#fbc02d}.sev-warning,.sev-info{fill:#90a4ae}"
      "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
      "th{background:#f3f3f3}td.f{color:#d32f2f;font-weight:bold}td.p{color:#2a2}td.w{text-align:left}"
      "</style></head><body>\n";
  h += "<h1>avmon report: " + esc(r.stream) + "</h1><div>" + num(r.end_s - r.start_s, 0) + " s of media" +
       (r.origin_wall_s ? " from " + format_rfc3339(*r.origin_wall_s + r.start_s) + " (times UTC)" : std::string(" (times from the start)")) + "</div>\n";
  h += "<p><span class=\"kpi\">loudness segments <b>" + std::to_string(passed) + "</b> pass, <b>" + std::to_string(failed) +
       "</b> fail</span><span class=\"kpi\">availability <b>" + num(overall * 100, 3) + " %</b></span><span class=\"kpi\">defects <b>" +
       std::to_string(r.defects.size()) + "</b></span></p>\n";
  h += "<h2>Loudness (short-term, momentary maximum per second; segment integrated; target band)</h2>\n" + loudness_svg(a, r) + "\n";
  h += "<h2>Defects</h2>\n" + timeline_svg(a, r) + "\n";
  h += "<h2>Loudness segments</h2>\n<table><tr><th>#</th><th>start</th><th>end</th><th>integrated LUFS</th><th>LRA LU</th>"
       "<th>max M</th><th>max S</th><th>true peak dBTP</th><th>dialnorm dB (offset LU)</th><th>starts</th><th>preset</th>"
       "<th>result</th><th class=\"w\">why</th></tr>\n";
  for (const auto& s : r.segments) {
    const auto p = s.value("pass", nlohmann::json());
    std::string why;
    for (const auto& w : s.value("why", nlohmann::json::array()))
      if (w.is_string()) why += (why.empty() ? "" : "; ") + w.get<std::string>();
    h += "<tr><td>" + std::to_string(s.value("segment", 0)) + "</td><td>" + a.label(s.value("start_media_time", 0.0)) + "</td><td>" +
         a.label(s.value("end_media_time", 0.0)) + "</td><td>" + opt_num(s.value("integrated_lufs", nlohmann::json())) + "</td><td>" +
         opt_num(s.value("range_lu", nlohmann::json())) + "</td><td>" + opt_num(s.value("max_momentary_lufs", nlohmann::json())) +
         "</td><td>" + opt_num(s.value("max_short_term_lufs", nlohmann::json())) + "</td><td>" +
         opt_num(s.value("true_peak_dbtp", nlohmann::json())) + "</td><td>" + dialnorm_cell(s) + "</td><td>" +
         esc(starts_cell(s)) + "</td><td>" + esc(s.value("preset", "")) + "</td>" +
         (p.is_boolean() ? (p.get<bool>() ? "<td class=\"p\">pass</td>" : "<td class=\"f\">fail</td>") : "<td>n/a</td>") +
         "<td class=\"w\">" + esc(why) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Availability (ITU-T G.826 terms: ES errored, SES severely errored, UAS unavailable seconds)</h2>\n"
       "<table><tr><th>period</th><th>start</th><th>seconds</th><th>ES</th><th>SES</th><th>UAS</th><th>availability %</th>"
       "<th class=\"w\">seconds per defect type</th></tr>\n";
  for (auto [name, period_s] : {std::pair{"hour", 3600.0}, std::pair{"day", 86400.0}}) {
    for (const auto& row : availability(r.defects, r.start_s, r.end_s, period_s, r.origin_wall_s)) {
      std::string types;
      for (const auto& [t, sec] : row.defect_s) types += (types.empty() ? "" : ", ") + esc(t) + " " + num(sec);
      h += "<tr><td>" + std::string(name) + "</td><td>" +
           (row.start_wall_s ? format_rfc3339(*row.start_wall_s) : a.label(row.start_s)) + "</td><td>" +
           std::to_string(row.seconds) + "</td><td>" + std::to_string(row.errored_s) + "</td><td>" +
           std::to_string(row.severely_errored_s) + "</td><td>" + std::to_string(row.unavailable_s) + "</td><td>" +
           num(row.availability * 100, 3) + "</td><td class=\"w\">" + types + "</td></tr>\n";
    }
  }
  h += "</table>\n</body></html>\n";
  return h;
}

}  // namespace avmon::reports
