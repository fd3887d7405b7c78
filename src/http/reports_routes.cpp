#include "http/reports_routes.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

#include "reports/live.hpp"
#include "util/text.hpp"

namespace avmon {

namespace {

constexpr double kDefaultLastS = 3600, kMaxLastS = 86400;

// `last=N` (seconds of media time) from the query; the default when absent,
// none when malformed.
std::optional<double> last_s(std::string_view query) {
  for (size_t pos = 0; pos <= query.size();) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view kv = query.substr(pos, amp - pos);
    if (kv.starts_with("last=")) {
      std::string v(kv.substr(5));
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(d > 0)) return std::nullopt;
      return std::min(d, kMaxLastS);
    }
    pos = amp + 1;
  }
  return kDefaultLastS;
}

HttpAnswer json_answer(const nlohmann::json& j) { return {200, "application/json", to_json_text(j), true}; }

}  // namespace

HttpAnswer reports_route(std::string_view path, std::string_view query) {
  const auto live = reports::LiveReports::published();
  if (!live) return {404, "text/plain", "reports are off (reports.enabled: false)\n", true};
  const std::string_view name = path.substr(std::string_view("/api/v1/reports/").size());
  if (name == "loudness" || name == "defects") {
    const auto last = last_s(query);
    if (!last) return {400, "text/plain", "last: a number of seconds above 0\n", true};
    return json_answer(name == "loudness" ? live->loudness(*last) : live->defects(*last));
  }
  const reports::ReportData d = live->current();
  if (name == "report.json") return json_answer(reports::report_json(d));
  if (name == "loudness.csv") return {200, "text/csv; charset=utf-8", reports::loudness_csv(d), true};
  if (name == "availability.csv") return {200, "text/csv; charset=utf-8", reports::availability_csv(d), true};
  if (name == "report.html") return {200, "text/html; charset=utf-8", reports::report_html(d), true};
  return {404, "text/plain", "not found (reports: loudness, defects, report.json, loudness.csv, availability.csv, report.html)\n", true};
}

}  // namespace avmon
