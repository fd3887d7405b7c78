// Compliance and availability reports (src/reports): the per-segment
// loudness measurement against libebur128 measuring each segment alone, the
// G.826-style availability counts on known defects, and the exact tables.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include <unistd.h>

#include <filesystem>

#include <ebur128.h>

#include "app/telemetry.hpp"
#include "http/routes.hpp"
#include "reports/availability.hpp"
#include "reports/live.hpp"
#include "reports/loudness_segments.hpp"
#include "reports/report.hpp"
#include "support/media.hpp"

namespace avmon::reports {
namespace {

constexpr int kRate = 48000;

// Stereo 997 Hz sine, `seconds` long at `amplitude`, phase continuous from sample `offset`.
std::vector<std::vector<float>> sine(double seconds, double amplitude, long long offset) {
  const auto n = static_cast<size_t>(seconds * kRate);
  std::vector<std::vector<float>> ch(2, std::vector<float>(n));
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(offset + static_cast<long long>(i)) / kRate;
    ch[0][i] = ch[1][i] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * 997 * t));
  }
  return ch;
}

// What libebur128 says of `x` measured on its own (a fresh meter).
double reference_integrated(const std::vector<std::vector<float>>& x) {
  ebur128_state* st = ebur128_init(2, kRate, EBUR128_MODE_I);
  std::vector<float> inter(x[0].size() * 2);
  for (size_t i = 0; i < x[0].size(); ++i) inter[2 * i] = x[0][i], inter[2 * i + 1] = x[1][i];
  ebur128_add_frames_float(st, inter.data(), x[0].size());
  double l = 0;
  ebur128_loudness_global(st, &l);
  ebur128_destroy(&st);
  return l;
}

std::vector<nlohmann::json> run_segments(LoudnessSegmenter& seg, const std::vector<std::vector<float>>& all) {
  std::vector<nlohmann::json> lines;
  const size_t block = 1024;
  for (size_t at = 0; at < all[0].size(); at += block) {
    const size_t n = std::min(block, all[0].size() - at);
    std::vector<std::vector<float>> b(2);
    for (int c = 0; c < 2; ++c) b[static_cast<size_t>(c)].assign(all[static_cast<size_t>(c)].begin() + static_cast<long>(at),
                                                                all[static_cast<size_t>(c)].begin() + static_cast<long>(at + n));
    auto blk = test::make_audio_block(b, kRate, static_cast<double>(at) / kRate);
    for (auto& l : seg.feed(*blk, 0)) lines.push_back(l);
  }
  if (auto l = seg.finish()) lines.push_back(*l);
  return lines;
}

TEST(ReportsLoudness, EachSegmentMeasuresAsIfAlone) {
  // Three 4 s segments near -30, -23 and -18 LUFS.
  const double amplitudes[] = {0.0316, 0.0708, 0.126};
  std::vector<std::vector<float>> all(2);
  std::vector<double> expected;
  long long offset = 0;
  for (double a : amplitudes) {
    auto part = sine(4.0, a, offset);
    expected.push_back(reference_integrated(part));
    for (int c = 0; c < 2; ++c) all[static_cast<size_t>(c)].insert(all[static_cast<size_t>(c)].end(), part[static_cast<size_t>(c)].begin(), part[static_cast<size_t>(c)].end());
    offset += static_cast<long long>(4.0 * kRate);
  }
  LoudnessSegmenter seg({4.0, false, loudness_preset("ebu_r128")});
  std::vector<LoudnessPoint> points;
  seg.on_point = [&](const LoudnessPoint& p) { points.push_back(p); };
  const auto lines = run_segments(seg, all);
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& d = lines[i]["details"];
    SCOPED_TRACE(lines[i].dump());
    EXPECT_EQ(lines[i]["kind"], "report.loudness");
    EXPECT_EQ(d["segment"], static_cast<int>(i));
    EXPECT_DOUBLE_EQ(d["start_media_time"].get<double>(), 4.0 * static_cast<double>(i));
    EXPECT_DOUBLE_EQ(d["end_media_time"].get<double>(), 4.0 * static_cast<double>(i + 1));
    EXPECT_NEAR(d["integrated_lufs"].get<double>(), expected[i], 0.05);
    // A steady sine: every window reads the same, no range, peak = amplitude.
    EXPECT_NEAR(d["max_momentary_lufs"].get<double>(), expected[i], 0.1);
    EXPECT_NEAR(d["max_short_term_lufs"].get<double>(), expected[i], 0.1);
    EXPECT_NEAR(d["range_lu"].get<double>(), 0.0, 0.1);
    EXPECT_NEAR(d["true_peak_dbtp"].get<double>(), 20 * std::log10(amplitudes[i]), 0.1);
    EXPECT_EQ(d["series"]["short_term_lufs"].size(), 4u);
    EXPECT_TRUE(d["series"]["short_term_lufs"][0].is_null());  // the 3 s window is not full after 1 s
    EXPECT_TRUE(d["series"]["short_term_lufs"][3].is_number());
  }
  EXPECT_EQ(lines[0]["details"]["pass"], false);
  EXPECT_EQ(lines[0]["details"]["why"][0], "integrated -30.0 LUFS below -24.0");
  EXPECT_EQ(lines[1]["details"]["pass"], true);
  EXPECT_TRUE(lines[1]["details"]["why"].empty());
  EXPECT_EQ(lines[2]["details"]["pass"], false);
  EXPECT_EQ(points.size(), 12u);
}

TEST(ReportsLoudness, AtscPresetJudgesTruePeakToo) {
  const auto v = judge(loudness_preset("atsc_a85"), -24.4, -1.5);
  ASSERT_TRUE(v.pass.has_value());
  EXPECT_FALSE(*v.pass);
  ASSERT_EQ(v.why.size(), 1u);
  EXPECT_EQ(v.why[0], "true peak -1.5 dBTP above -2.0");
  EXPECT_TRUE(*judge(loudness_preset("atsc_a85"), -22.0, -2.0).pass);  // at the edges: within
  EXPECT_FALSE(judge(loudness_preset("ebu_r128"), std::nullopt, std::nullopt).pass.has_value());
}

TEST(ReportsAvailability, CountsErroredSeverelyErroredAndUnavailableSeconds) {
  const std::vector<DefectSpan> defects = {
      {"black", "critical", 10.2, 25.7, false},   // 16 SES in a row: unavailable
      {"loudness", "minor", 40.5, 42.1, false},   // 3 ES
      {"silence", "critical", 50.0, 53.0, false}, // 3 SES, too few to be unavailable
      {"detector_lagging", "warning", 0, 60, false},  // the monitor's, not the programme's
  };
  const auto rows = availability(defects, 0, 60, 3600, std::nullopt);
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  EXPECT_EQ(r.seconds, 60);
  EXPECT_EQ(r.unavailable_s, 16);  // seconds 10..25
  EXPECT_EQ(r.errored_s, 6);       // 40, 41, 42 and 50, 51, 52
  EXPECT_EQ(r.severely_errored_s, 3);
  EXPECT_NEAR(r.availability, 1 - 16.0 / 60, 1e-12);
  EXPECT_DOUBLE_EQ(r.defect_s.at("black"), 15.5);
  EXPECT_DOUBLE_EQ(r.defect_s.at("loudness"), 1.6);
  EXPECT_DOUBLE_EQ(r.defect_s.at("silence"), 3.0);
  EXPECT_EQ(r.defect_s.count("detector_lagging"), 0u);
}

TEST(ReportsAvailability, PeriodsFollowTheUtcClockWhenKnown) {
  // Media time 0 is 09:59:00 UTC: the first hour is one minute long.
  const double origin = 1764669540;  // 2025-12-02T09:59:00Z
  const auto rows = availability({}, 0, 180, 3600, origin);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seconds, 60);
  EXPECT_EQ(rows[1].seconds, 120);
  EXPECT_DOUBLE_EQ(rows[1].start_s, 60);
  EXPECT_EQ(format_rfc3339(*rows[1].start_wall_s), "2025-12-02T10:00:00.000Z");
}

nlohmann::json segment_line(int n, double start, double end, nlohmann::json integrated, bool pass) {
  nlohmann::json d = {{"segment", n},
                      {"start_media_time", start},
                      {"end_media_time", end},
                      {"duration_s", end - start},
                      {"start_wall_time", nullptr},
                      {"end_wall_time", nullptr},
                      {"integrated_lufs", integrated},
                      {"range_lu", 1.5},
                      {"max_momentary_lufs", -20.25},
                      {"max_short_term_lufs", -21.5},
                      {"true_peak_dbtp", -3.0},
                      {"preset", "ebu_r128"},
                      {"target_lufs", -23},
                      {"pass", pass},
                      {"why", pass ? nlohmann::json::array() : nlohmann::json::array({"integrated -18.0 LUFS above -22.0", "x, \"y\""})},
                      {"series", {{"start_media_time", start}, {"step_s", 1}, {"short_term_lufs", {nullptr, -23.0}}, {"momentary_max_lufs", {-22.0, -23.0}}}}};
  return {{"kind", "report.loudness"}, {"stream", "s"}, {"media_time", end}, {"details", d}};
}

TEST(ReportsTables, CsvHasTheContractColumnsAndValues) {
  ReportBuilder b;
  b.add(segment_line(0, 0, 2, -23.04, true));
  b.add({{"kind", "defect.start"}, {"id", "a"}, {"type", "black"}, {"severity", "critical"}, {"media_time", 0.5}});
  // A break segment of AC-3 audio: whole numbers stay whole.
  auto spliced = segment_line(1, 2, 4, -18.0, false);
  spliced["details"].update({{"dialnorm_db", -27}, {"dialnorm_offset_lu", 9.0}, {"start_reason", "splice_out"},
                             {"splice_event_id", 7u}, {"part", "break"}});
  b.add(spliced);
  b.add({{"kind", "defect.end"}, {"id", "a"}, {"type", "black"}, {"severity", "critical"}, {"media_time", 1.25}});
  b.add({{"kind", "stream.summary"}, {"media_time", 4.2}, {"duration_s", 4.2}});
  const ReportData d = b.data();
  EXPECT_EQ(d.stream, "s");
  EXPECT_EQ(loudness_csv(d),
            "segment,start_media_time,end_media_time,start_wall_time,end_wall_time,duration_s,integrated_lufs,range_lu,"
            "max_momentary_lufs,max_short_term_lufs,true_peak_dbtp,preset,target_lufs,result,why,dialnorm_db,"
            "dialnorm_offset_lu,start_reason,splice_event_id,part\n"
            "0,0.000,2.000,,,2.000,-23.04,1.50,-20.25,-21.50,-3.00,ebu_r128,-23.00,pass,,,,,,\n"
            "1,2.000,4.000,,,2.000,-18.00,1.50,-20.25,-21.50,-3.00,ebu_r128,-23.00,fail,"
            "\"integrated -18.0 LUFS above -22.0; x, \"\"y\"\"\",-27,9.00,splice_out,7,break\n");
  EXPECT_EQ(availability_csv(d),
            "period,start_media_time,end_media_time,start_wall_time,seconds,errored_s,severely_errored_s,"
            "unavailable_s,availability_pct,black_s\n"
            "hour,0.000,4.200,,5,2,2,0,100.000,0.750\n"
            "day,0.000,4.200,,5,2,2,0,100.000,0.750\n");
  const auto j = report_json(d);
  EXPECT_EQ(j["loudness"].size(), 2u);
  EXPECT_FALSE(j["loudness"][0].contains("series"));
  EXPECT_EQ(j["availability"]["hourly"][0]["errored_s"], 2);
}

TEST(ReportsTables, HtmlIsSelfContainedWithThePlotAndTheTimeline) {
  ReportBuilder b;
  b.add(segment_line(0, 0, 2, -23.04, true));
  b.add({{"kind", "defect.start"}, {"id", "a"}, {"type", "black"}, {"severity", "critical"}, {"media_time", 0.5}});
  const std::string html = report_html(b.data());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg id=\"loudness\""), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_NE(html.find("<polyline class=\"short_term_lufs\""), std::string::npos);
  EXPECT_NE(html.find("class=\"sev-critical\""), std::string::npos);  // the open black, to the end
  EXPECT_EQ(html.find("http://", html.find("<body")), html.find("http://www.w3.org/2000/svg", html.find("<body")));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

}  // namespace
}  // namespace avmon::reports

namespace avmon::reports {
namespace {

nlohmann::json live_segment(int n, double start, double end, const std::string& start_wall, double integrated) {
  nlohmann::json l = segment_line(n, start, end, integrated, true);
  l["details"]["start_wall_time"] = start_wall;
  return l;
}

TEST(ReportsLive, ADayGoesToItsOwnDirectoryAndTheHistoryIsServed) {
  const auto dir = std::filesystem::temp_directory_path() / ("avmon-reports-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto live = std::make_shared<LiveReports>(dir.string(), loudness_preset("ebu_r128"));
  auto notifier = make_reports_notifier(live);
  notifier->deliver(live_segment(0, 0, 2, "2026-12-01T23:59:58.000Z", -23.0));
  notifier->deliver({{"kind", "defect.start"}, {"id", "a"}, {"type", "black"}, {"severity", "critical"}, {"media_time", 3.0}});
  notifier->deliver(live_segment(1, 2, 4, "2026-12-02T00:00:00.000Z", -20.0));
  EXPECT_TRUE(std::filesystem::exists(dir / "2026-12-01" / "loudness.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "2026-12-02" / "report.html"));
  const ReportData today = live->current();
  ASSERT_EQ(today.segments.size(), 1u);
  EXPECT_EQ(today.segments[0]["segment"], 1);
  EXPECT_DOUBLE_EQ(today.start_s, 2.0);
  EXPECT_EQ(live->write_errors(), 0u);

  for (int s = 1; s <= 5; ++s) live->add_point({static_cast<double>(s), std::nullopt, -23.0 + s, std::nullopt});
  Telemetry t("in", "stream");
  LiveReports::publish(nullptr);
  EXPECT_EQ(route("/api/v1/reports/loudness", t).status, 404);  // reports off
  LiveReports::publish(live);
  const HttpAnswer a = route("/api/v1/reports/loudness?last=2", t);
  ASSERT_EQ(a.status, 200);
  const auto j = nlohmann::json::parse(a.body);
  ASSERT_EQ(j["points"].size(), 2u);
  EXPECT_EQ(j["points"][0]["media_time"], 4.0);
  EXPECT_EQ(j["points"][1]["short_term_lufs"], -18.0);
  EXPECT_TRUE(j["points"][1]["momentary_max_lufs"].is_null());
  EXPECT_EQ(j["target_lufs"], -23.0);
  EXPECT_EQ(route("/api/v1/reports/loudness?last=x", t).status, 400);
  const auto defects = nlohmann::json::parse(route("/api/v1/reports/defects", t).body);
  ASSERT_EQ(defects["defects"].size(), 1u);
  EXPECT_TRUE(defects["defects"][0]["end_media_time"].is_null());
  EXPECT_EQ(route("/api/v1/reports/loudness.csv", t).content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(route("/api/v1/reports/nothing", t).status, 404);
  LiveReports::publish(nullptr);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace avmon::reports
