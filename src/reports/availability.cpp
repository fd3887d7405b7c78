#include "reports/availability.hpp"

#include <algorithm>
#include <cmath>

namespace avmon::reports {

namespace {

constexpr int kUnavailableAfterSes = 10;  // G.826: 10 consecutive SES start unavailable time...
constexpr int kAvailableAfterClear = 10;  // ...and 10 consecutive non-SES seconds end it

bool counts(const DefectSpan& d) { return d.type != "detector_lagging" && d.type != "detector_failed"; }

// Total length of the union of [a, b) spans clipped to [lo, hi).
double union_length(std::vector<std::pair<double, double>> spans, double lo, double hi) {
  std::sort(spans.begin(), spans.end());
  double total = 0, cur_a = 0, cur_b = 0;
  bool open = false;
  for (auto [a, b] : spans) {
    a = std::max(a, lo);
    b = std::min(b, hi);
    if (b <= a) continue;
    if (open && a <= cur_b) {
      cur_b = std::max(cur_b, b);
    } else {
      if (open) total += cur_b - cur_a;
      cur_a = a, cur_b = b, open = true;
    }
  }
  if (open) total += cur_b - cur_a;
  return total;
}

}  // namespace

bool severely_errors(const DefectSpan& d) {
  return d.severity == "critical" || d.type == "signal_loss" || d.type == "black" || d.type == "freeze" ||
         d.type == "silence";
}

std::vector<AvailabilityRow> availability(const std::vector<DefectSpan>& defects, double start_s, double end_s,
                                          double period_s, std::optional<double> origin_wall_s) {
  std::vector<AvailabilityRow> rows;
  start_s = std::max(0.0, std::floor(start_s + 1e-9));
  if (!(end_s > start_s) || !(period_s > 0)) return rows;
  const auto n = static_cast<size_t>(std::ceil(end_s - 1e-9));
  // Per second: 0 clear, 1 errored, 2 severely errored.
  std::vector<unsigned char> grade(n, 0);
  for (const auto& d : defects) {
    if (!counts(d)) continue;
    const double a = std::max(start_s, d.start_s), b = std::min(end_s, std::max(d.end_s, d.start_s));
    auto first = static_cast<long long>(std::floor(a));
    // A defect reaches into every second it overlaps; one of no length marks its own second.
    auto last = b > a ? static_cast<long long>(std::ceil(b)) - 1 : first;
    const unsigned char g = severely_errors(d) ? 2 : 1;
    for (long long k = std::max(static_cast<long long>(start_s), first); k <= last && k < static_cast<long long>(n); ++k)
      grade[static_cast<size_t>(k)] = std::max(grade[static_cast<size_t>(k)], g);
  }
  // G.826 unavailable time, with the 10-second look-ahead applied backwards.
  std::vector<unsigned char> unavailable(n, 0);
  bool down = false;
  size_t run = 0;
  for (size_t k = static_cast<size_t>(start_s); k < n; ++k) {
    const bool ses = grade[k] == 2;
    if (!down) {
      run = ses ? run + 1 : 0;
      if (run == kUnavailableAfterSes) {
        down = true;
        for (size_t j = k + 1 - kUnavailableAfterSes; j <= k; ++j) unavailable[j] = 1;
        run = 0;
      }
    } else {
      unavailable[k] = 1;
      run = ses ? 0 : run + 1;
      if (run == kAvailableAfterClear) {
        down = false;
        for (size_t j = k + 1 - kAvailableAfterClear; j <= k; ++j) unavailable[j] = 0;
        run = 0;
      }
    }
  }
  // Period boundaries in media time.
  const double origin = origin_wall_s.value_or(0.0);
  double first_start = origin_wall_s ? std::floor((origin + start_s) / period_s) * period_s - origin : start_s;
  std::map<std::string, std::vector<std::pair<double, double>>> by_type;
  for (const auto& d : defects)
    if (counts(d)) by_type[d.type].push_back({d.start_s, std::max(d.end_s, d.start_s)});
  for (double p = first_start; p < end_s; p += period_s) {
    AvailabilityRow r;
    r.start_s = std::max(start_s, p);
    r.end_s = std::min(end_s, p + period_s);
    if (origin_wall_s) r.start_wall_s = origin + p;
    for (size_t k = static_cast<size_t>(std::max(0.0, std::ceil(r.start_s - 1e-9))); k < n && static_cast<double>(k) < r.end_s - 1e-9; ++k) {
      ++r.seconds;
      if (unavailable[k]) {
        ++r.unavailable_s;
      } else {
        if (grade[k] >= 1) ++r.errored_s;
        if (grade[k] == 2) ++r.severely_errored_s;
      }
    }
    for (const auto& [type, spans] : by_type) {
      const double s = union_length(spans, r.start_s, r.end_s);
      if (s > 0) r.defect_s[type] = std::round(s * 1000) / 1000;
    }
    r.availability = r.seconds ? 1.0 - static_cast<double>(r.unavailable_s) / static_cast<double>(r.seconds) : 1.0;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace avmon::reports
