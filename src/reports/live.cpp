#include "reports/live.hpp"

#include <cmath>
#include <filesystem>

#include "reports/files.hpp"
#include "util/lost_output.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace avmon::reports {

namespace {

constexpr size_t kPointsKept = 86400;  // a day of one-second points

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

LiveReports::LiveReports(std::string dir, LoudnessPreset preset) : dir_(std::move(dir)), preset_(std::move(preset)) {}

void LiveReports::add_point(const LoudnessPoint& p) {
  std::lock_guard lk(mu_);
  points_.push_back(p);
  while (points_.size() > kPointsKept) points_.pop_front();
}

std::string LiveReports::day_of(const nlohmann::json& segment) const {
  const auto it = segment.find("start_wall_time");
  if (it == segment.end() || !it->is_string() || it->get<std::string>().size() < 10) return {};
  return it->get<std::string>().substr(0, 10);
}

void LiveReports::on_event(const nlohmann::json& line) {
  if (!line.is_object()) return;
  const std::string kind = line.value("kind", "");
  std::optional<std::pair<ReportData, std::string>> finished_day, now;
  {
    std::lock_guard lk(mu_);
    if (kind == "report.loudness" && line.contains("details") && line["details"].is_object()) {
      const std::string day = day_of(line["details"]);
      if (!day.empty() && !day_.empty() && day != day_) {
        // The previous day's report is complete: written once more, then forgotten.
        finished_day.emplace(builder_.data(), day_);
        builder_.restart_at(line["details"].value("start_media_time", 0.0));
      }
      if (!day.empty()) day_ = day;
    }
    builder_.add(line);
    if (!dir_.empty() && (kind == "report.loudness" || kind == "stream.summary")) now.emplace(builder_.data(), day_);
  }
  if (finished_day) write_files(finished_day->first, finished_day->second);
  if (now) write_files(now->first, now->second);
}

void LiveReports::write_files(const ReportData& d, const std::string& day) {
  namespace fs = std::filesystem;
  fs::path dir(dir_);
  if (!day.empty()) dir /= day;
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::uint64_t failed = 0;
  if (ec) {
    ++failed;
    LostOutput::global().write_failed("reports", "cannot create " + dir.string() + ": " + ec.message(), 0);
  } else {
    const std::pair<const char*, std::string> outputs[] = {
        {"loudness.csv", loudness_csv(d)},
        {"availability.csv", availability_csv(d)},
        {"report.json", to_json_text(report_json(d), 2) + "\n"},
        {"report.html", report_html(d)},
    };
    for (const auto& [name, content] : outputs) {
      if (std::string err = write_file((dir / name).string(), content); !err.empty()) {
        ++failed;
        LostOutput::global().write_failed("reports", err, 0);
      }
    }
  }
  if (failed) {
    std::lock_guard lk(mu_);
    write_errors_ += failed;
  }
}

nlohmann::json LiveReports::loudness(double last_s) const {
  std::lock_guard lk(mu_);
  nlohmann::json points = nlohmann::json::array();
  const double newest = points_.empty() ? 0 : points_.back().media_time_s;
  for (const auto& p : points_) {
    if (p.media_time_s <= newest - last_s) continue;
    points.push_back({{"media_time", round_ms(p.media_time_s)},
                      {"wall_time", p.wall_s ? nlohmann::json(format_rfc3339(*p.wall_s)) : nlohmann::json(nullptr)},
                      {"short_term_lufs", opt(p.short_term_lufs)},
                      {"momentary_max_lufs", opt(p.momentary_max_lufs)}});
  }
  return {{"preset", preset_.name},
          {"target_lufs", preset_.target_lufs},
          {"tolerance_lu", preset_.tolerance_lu},
          {"max_true_peak_dbtp", preset_.max_true_peak_dbtp},
          {"step_s", 1},
          {"points", std::move(points)}};
}

nlohmann::json LiveReports::defects(double last_s) const {
  const ReportData d = current();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& x : d.defects) {
    if (x.end_s < d.end_s - last_s && !x.open) continue;
    out.push_back({{"type", x.type},
                   {"severity", x.severity},
                   {"start_media_time", round_ms(x.start_s)},
                   {"end_media_time", x.open ? nlohmann::json(nullptr) : nlohmann::json(round_ms(x.end_s))},
                   {"start_wall_time", d.origin_wall_s ? nlohmann::json(format_rfc3339(*d.origin_wall_s + x.start_s))
                                                       : nlohmann::json(nullptr)}});
  }
  return {{"media_time", round_ms(d.end_s)}, {"defects", std::move(out)}};
}

ReportData LiveReports::current() const {
  std::lock_guard lk(mu_);
  return builder_.data();
}

namespace {
std::mutex g_published_mu;
std::shared_ptr<const LiveReports> g_published;
}  // namespace

void LiveReports::publish(std::shared_ptr<const LiveReports> live) {
  std::lock_guard lk(g_published_mu);
  g_published = std::move(live);
}

std::shared_ptr<const LiveReports> LiveReports::published() {
  std::lock_guard lk(g_published_mu);
  return g_published;
}

std::uint64_t LiveReports::write_errors() const {
  std::lock_guard lk(mu_);
  return write_errors_;
}

namespace {

class ReportsNotifier final : public Notifier {
 public:
  explicit ReportsNotifier(std::shared_ptr<LiveReports> live) : live_(std::move(live)) {}
  std::string name() const override { return "reports"; }
  void deliver(const nlohmann::json& event) override { live_->on_event(event); }

 private:
  std::shared_ptr<LiveReports> live_;
};

}  // namespace

std::unique_ptr<Notifier> make_reports_notifier(std::shared_ptr<LiveReports> live) {
  return std::make_unique<ReportsNotifier>(std::move(live));
}

}  // namespace avmon::reports
