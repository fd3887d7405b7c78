// The status page's last hour (app/history.hpp) and its one state
// (http/page_state.hpp).
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "app/history.hpp"
#include "http/page_state.hpp"
#include "http/routes.hpp"

namespace avmon {
namespace {

nlohmann::json line(const std::string& kind, const std::string& id, double media_s, nlohmann::json extra = {}) {
  nlohmann::json j = {{"kind", kind}, {"id", id}, {"type", "black"}, {"severity", "critical"},
                      {"detector", "black"}, {"media_time", media_s}};
  if (extra.is_object()) j.update(extra);
  return j;
}

constexpr std::int64_t kT0 = 1'800'000'000'000;  // wall clock, ms

TEST(History, DefectsAreDatedBackByTheMediaSinceTheirOnsetAndEnd) {
  History h;
  // Written 2.5 s of media after the onset (min_duration_s), and the end
  // 1 s after it (hold_off_s).
  h.on_event(line("defect.start", "a", 10.0, {{"details", {{"thumbnail", "/thumbnails/a.jpg"}}}}), kT0, 12.5, 0);
  auto j = h.render(0, kT0);
  ASSERT_EQ(j["defects"].size(), 1u);
  EXPECT_EQ(j["defects"][0]["start_ms"], kT0 - 2500);
  EXPECT_TRUE(j["defects"][0]["end_ms"].is_null());
  EXPECT_EQ(j["defects"][0]["thumbnail"], "/thumbnails/a.jpg");
  // The defect's lines name the clip before it exists: not linked yet.
  h.on_event(line("defect.end", "a", 20.0, {{"details", {{"evidence", {{"clip", "/var/ev/night-a.ts"}}}}}}), kT0 + 11000, 21.0, 0);
  j = h.render(0, kT0 + 11000);
  EXPECT_EQ(j["defects"][0]["end_ms"], kT0 + 10000);
  EXPECT_EQ(j["defects"][0]["end_media_time"], 20.0);
  EXPECT_FALSE(j["defects"][0].contains("clip"));
  // Never before the floor (the process's start).
  h.on_event(line("defect.start", "b", 0.0), kT0, 50.0, kT0 - 1000);
  EXPECT_EQ(h.render(0, kT0)["defects"][1]["start_ms"], kT0 - 1000);
  // An evidence line names its defect by id: the clip and its pictures, as
  // URL paths under /evidence/ (file names escaped).
  h.on_event({{"kind", "evidence"}, {"id", "b"},
              {"details", {{"evidence", {{"clip", "/var/ev/my night-b.ts"}, {"thumbnail_raise", "/var/ev/my night-b-raise.jpg"}}}}}},
             kT0 + 1, 50, 0);
  h.on_event({{"kind", "evidence"}, {"id", "b"},
              {"details", {{"evidence", {{"clip", "/var/ev/my night-b.ts"}, {"thumbnail_clear", "/var/ev/my night-b-clear.jpg"}}}}}},
             kT0 + 2, 50, 0);
  const auto b = h.render(0, kT0)["defects"][1];
  EXPECT_EQ(b["clip"], "/evidence/my%20night-b.ts");
  EXPECT_EQ(b["pictures"], nlohmann::json({"/evidence/my%20night-b-raise.jpg", "/evidence/my%20night-b-clear.jpg"}));
}

TEST(History, SinceGivesOnlyWhatChangedAndAnHourIsKept) {
  History h;
  h.on_event(line("defect.start", "a", 0.0), kT0, 0, 0);
  h.on_event(line("defect.end", "a", 5.0), kT0 + 5000, 5, 0);
  h.on_event(line("defect.start", "b", 10.0), kT0 + 10000, 10, 0);
  for (int i = 0; i < 5000; ++i) h.add_loudness(kT0 + i * 1000, -23.0 + (i % 3), i % 2 ? std::optional<double>() : -24.0);
  const std::int64_t now = kT0 + 4999 * 1000;
  auto all = h.render(0, now);
  // 5000 s of points: the last hour, 3600 of them; the defect that ended
  // more than an hour ago is gone, the open one stays.
  EXPECT_EQ(all["loudness"]["points"].size(), 3600u);
  EXPECT_EQ(all["loudness"]["points"][0][0], now - 3599 * 1000);
  EXPECT_TRUE(all["loudness"]["points"][0][2].is_null() || all["loudness"]["points"][0][2] == -24.0);
  ASSERT_EQ(all["defects"].size(), 1u);
  EXPECT_EQ(all["defects"][0]["id"], "b");
  auto recent = h.render(now - 3000, now);
  EXPECT_EQ(recent["loudness"]["points"].size(), 3u);  // after since: now - 2 s, now - 1 s, now
  EXPECT_EQ(recent["defects"].size(), 0u);  // b has not changed since
  EXPECT_EQ(recent["span_s"], 3600);
}

TEST(History, StateChangesAreKeptWithTheirOnset) {
  History h;
  EXPECT_EQ(h.note_state("OK", kT0), kT0);
  EXPECT_EQ(h.note_state("OK", kT0 + 1000), kT0);
  EXPECT_EQ(h.note_state("ALARM", kT0 + 2000), kT0 + 2000);
  EXPECT_EQ(h.note_state("ALARM", kT0 + 9000), kT0 + 2000);
  auto j = h.render(0, kT0 + 9000);
  ASSERT_EQ(j["states"].size(), 2u);
  EXPECT_EQ(j["states"][1]["level"], "ALARM");
  // Only the state in force when nothing changed since.
  EXPECT_EQ(h.render(kT0 + 5000, kT0 + 9000)["states"].size(), 1u);
}

TEST(PageState, InputDownThenSeverityDecides) {
  TelemetrySnapshot s;
  s.input_up = false;
  EXPECT_EQ(page_state(s).level, "NO SIGNAL");
  s.input_up = true;
  EXPECT_EQ(page_state(s).level, "OK");
  s.active.push_back({{"type", "loudness"}, {"severity", "info"}});
  EXPECT_EQ(page_state(s).level, "OK");
  s.active.push_back({{"type", "audio_dropout"}, {"severity", "warning"}});
  EXPECT_EQ(page_state(s).level, "WARNING");
  s.active.push_back({{"type", "black"}, {"severity", "major"}});
  auto st = page_state(s);
  EXPECT_EQ(st.level, "ALARM");
  EXPECT_EQ(st.reasons, (std::vector<std::string>{"audio_dropout (warning)", "black (major)"}));
  s.active.push_back({{"type", "signal_loss"}, {"severity", "critical"}});
  EXPECT_EQ(page_state(s).level, "NO SIGNAL");
}

TEST(PageState, WithAlarmsMaskedAndLatchedOnesWarn) {
  TelemetrySnapshot s;
  s.input_up = true;
  // The defects say ALARM; the alarm list decides when there is one.
  s.active.push_back({{"type", "black"}, {"severity", "critical"}});
  nlohmann::json alarms = nlohmann::json::array();
  EXPECT_EQ(page_state(s, &alarms).level, "OK");
  alarms.push_back({{"type", "black"}, {"severity", "critical"}, {"state", "active"}, {"masked", true}});
  EXPECT_EQ(page_state(s, &alarms).level, "WARNING");
  alarms.push_back({{"type", "silence"}, {"severity", "major"}, {"state", "cleared"}, {"masked", false}});
  EXPECT_EQ(page_state(s, &alarms).level, "WARNING");
  alarms.push_back({{"type", "freeze"}, {"severity", "info"}, {"state", "latched"}, {"masked", false}});
  auto st = page_state(s, &alarms);
  EXPECT_EQ(st.level, "WARNING");
  EXPECT_EQ(st.reasons, (std::vector<std::string>{"black (critical, masked)", "freeze (latched)"}));
  // Acknowledged but still active: still ALARM.
  alarms.push_back({{"type", "freeze"}, {"severity", "major"}, {"state", "active"}, {"masked", false},
                    {"acked", {{"by", "x"}}}});
  EXPECT_EQ(page_state(s, &alarms).level, "ALARM");
}

TEST(PageRoutes, HistoryAndEvidenceFiles) {
  Telemetry t("udp://x", "night");
  t.on_event(line("defect.start", "a", 1.0));
  auto h = route("/api/v1/history?since=nonsense", t);
  ASSERT_EQ(h.status, 200);
  auto j = nlohmann::json::parse(h.body);
  EXPECT_EQ(j["since_ms"], 0);
  ASSERT_EQ(j["defects"].size(), 1u);
  EXPECT_EQ(j["defects"][0]["type"], "black");
  EXPECT_EQ(nlohmann::json::parse(route("/api/v1/history?x=1&since=" + std::to_string(j["now_ms"].get<std::int64_t>() + 1), t).body)["defects"].size(), 0u);
  auto status = nlohmann::json::parse(route("/status", t).body);
  EXPECT_EQ(status["state"]["level"], "NO SIGNAL");  // no media yet
  EXPECT_EQ(status["state"]["reasons"], nlohmann::json({"input down", "black (critical)"}));

  // Evidence: 404 without a directory; with one, clips and pictures in it, nothing else.
  EXPECT_EQ(route("/evidence/night-a.ts", t).status, 404);
  const auto dir = std::filesystem::temp_directory_path() / ("avmon-evidence-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "my night-a.ts") << "clip bytes";
  std::ofstream(dir / "night-a-raise.jpg") << "jpeg";
  std::ofstream(dir / "notes.txt") << "no";
  t.set_evidence_dir(dir.string());
  auto clip = route("/evidence/my%20night-a.ts", t);
  EXPECT_EQ(clip.status, 200);
  EXPECT_EQ(clip.content_type, "video/mp2t");
  EXPECT_EQ(clip.body, "clip bytes");
  EXPECT_EQ(route("/evidence/night-a-raise.jpg", t).content_type, "image/jpeg");
  EXPECT_EQ(route("/evidence/notes.txt", t).status, 404);
  EXPECT_EQ(route("/evidence/..%2Fnotes.txt", t).status, 404);
  EXPECT_EQ(route("/evidence/%2E%2E%2Fx.ts", t).status, 404);
  EXPECT_EQ(route("/evidence/missing.ts", t).status, 404);
  EXPECT_EQ(route("/evidence/bad%zz.ts", t).status, 400);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace avmon
