// The alarm life cycle (src/alarms) on a virtual clock: raise and clear,
// masks and their expiry, schedules in a time zone, flood control, latching
// and acknowledgement, the handover across a restart, and the start-up grace
// and per-type policy in the engine.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "alarms/alarm_book.hpp"
#include "alarms/schedule.hpp"
#include "config/config.hpp"
#include "support/events.hpp"
#include "support/run.hpp"
#include "notify/notifier.hpp"
#include "pipeline/engine.hpp"

namespace avmon {
namespace {

using test::feed;
using test::Lines;
using test::obs;

// 2026-12-01T12:00:00Z, a Tuesday.
constexpr std::int64_t kT0 = 1796126400000;

nlohmann::json defect(const char* kind, const std::string& id, const std::string& type, double media_time_s) {
  return {{"kind", kind}, {"id", id}, {"stream", "s1"}, {"type", type}, {"detector", type},
          {"media_time", media_time_s}, {"wall_time", "2026-12-01T12:00:00.000Z"}, {"severity", "major"},
          {"details", nlohmann::json::object()}};
}

struct AlarmTest : ::testing::Test {
  Lines lines;
  std::int64_t now_ms = kT0;
  AlarmsConfig cfg;
  std::unique_ptr<AlarmBook> book;
  void make() {
    book = std::make_unique<AlarmBook>(cfg, "s1", lines, [this] { return now_ms; });
    book->load_state();
  }
  nlohmann::json find(const std::string& id) {
    for (const auto& a : book->list())
      if (a["id"] == id) return a;
    return nullptr;
  }
};

TEST_F(AlarmTest, EveryDefectIsAnAlarmRaisedAndClearedUnderItsId) {
  make();
  book->emit(defect("defect.start", "00000000000000a1", "black", 1.0));
  ASSERT_EQ(lines.all.size(), 1u);
  EXPECT_EQ(lines.all[0]["masked"], false);
  EXPECT_EQ(lines.all[0]["alarm"]["id"], "00000000000000a1");
  EXPECT_EQ(lines.all[0]["alarm"]["state"], "active");
  EXPECT_FALSE(lines.all[0]["alarm"].contains("since"));  // the line's wall_time says it; files stay deterministic
  EXPECT_TRUE(lines.all[0]["alarm"]["acked"].is_null());
  auto a = find("00000000000000a1");
  EXPECT_EQ(a["since"], "2026-12-01T12:00:00.000Z");
  EXPECT_EQ(a["state"], "active");
  EXPECT_EQ(a["severity"], "major");
  now_ms += 5000;
  book->emit(defect("defect.end", "00000000000000a1", "black", 6.0));
  EXPECT_EQ(lines.all.back()["alarm"]["state"], "cleared");
  a = find("00000000000000a1");
  EXPECT_EQ(a["state"], "cleared");
  EXPECT_EQ(a["cleared_at"], "2026-12-01T12:00:05.000Z");
  EXPECT_DOUBLE_EQ(a["end_media_time"].get<double>(), 6.0);
  // Lines that are not defects pass unchanged.
  nlohmann::json summary = {{"kind", "stream.summary"}, {"media_time", 7.0}};
  book->emit(summary);
  EXPECT_EQ(lines.all.back(), summary);
}

TEST_F(AlarmTest, MaskedAlarmsAreRecordedButNotPagedUntilTheMaskExpires) {
  cfg.masks.push_back({"maintenance", {"black"}, kT0 + 60000, "config", ""});
  make();
  book->emit(defect("defect.start", "00000000000000b1", "black", 1.0));
  book->emit(defect("defect.start", "00000000000000b2", "silence", 1.0));
  EXPECT_EQ(lines.all[0]["masked"], true);
  EXPECT_EQ(lines.all[0]["alarm"]["masked_by"], nlohmann::json::array({"maintenance"}));
  EXPECT_TRUE(paging_skips(lines.all[0], false));
  EXPECT_TRUE(paging_skips(lines.all[0], true));
  EXPECT_EQ(lines.all[1]["masked"], false);
  EXPECT_FALSE(paging_skips(lines.all[1], false));
  // The end of a masked alarm is masked too.
  book->emit(defect("defect.end", "00000000000000b1", "black", 3.0));
  EXPECT_TRUE(lines.all.back()["masked"]);
  now_ms += 60000;
  book->tick();
  auto masks = lines.of("alarm.mask");
  ASSERT_EQ(masks.size(), 1u);
  EXPECT_EQ(masks[0]["details"]["action"], "expired");
  EXPECT_EQ(masks[0]["details"]["name"], "maintenance");
  book->emit(defect("defect.start", "00000000000000b3", "black", 70.0));
  EXPECT_EQ(lines.all.back()["masked"], false);
}

TEST_F(AlarmTest, MasksSetAtRunTimeAreLinesAndApplyToAlarmsRaisedAfter) {
  make();
  AlarmChange c = book->put_mask({"night", {}, std::nullopt, "api", "ops"});
  EXPECT_EQ(c.status, 201);
  EXPECT_EQ(book->put_mask({"night", {}, std::nullopt, "api", "ops"}).status, 200);
  auto set = lines.of("alarm.mask");
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set[0]["details"]["action"], "set");
  EXPECT_EQ(set[0]["details"]["by"], "ops");
  EXPECT_TRUE(set[0]["details"]["until"].is_null());
  book->emit(defect("defect.start", "00000000000000c1", "freeze", 2.0));
  EXPECT_EQ(lines.all.back()["masked"], true);
  EXPECT_EQ(book->delete_mask("night", "ops").status, 200);
  EXPECT_EQ(book->delete_mask("night", "ops").status, 404);
  EXPECT_EQ(lines.of("alarm.mask").back()["details"]["action"], "removed");
  book->emit(defect("defect.start", "00000000000000c2", "freeze", 9.0));
  EXPECT_EQ(lines.all.back()["masked"], false);
}

TEST_F(AlarmTest, AFlappingDefectBecomesOneAlarmUntilItSettles) {
  cfg.flap_count = 3;
  cfg.flap_window_s = 60;
  cfg.flap_settle_s = 30;
  make();
  for (int i = 0; i < 3; ++i) {
    std::string id = "00000000000000d" + std::to_string(i);
    book->emit(defect("defect.start", id, "freeze", 10.0 * i));
    book->emit(defect("defect.end", id, "freeze", 10.0 * i + 2));
  }
  EXPECT_EQ(lines.of("defect.start").size(), 3u);
  for (const auto& l : lines.all) EXPECT_FALSE(paging_skips(l, false));
  // The flapping alarm has its own kind: the defects stay what the engine found.
  // The fourth raise within 60 s: one flapping alarm, paged once.
  lines.all.clear();
  book->emit(defect("defect.start", "00000000000000d3", "freeze", 30.0));
  ASSERT_EQ(lines.all.size(), 2u);
  const auto flap = lines.all[0];
  EXPECT_EQ(flap["kind"], "alarm.flapping");
  EXPECT_EQ(flap["details"]["state"], "start");
  EXPECT_EQ(flap["flapping"], true);
  EXPECT_NE(flap["id"], "00000000000000d3");
  EXPECT_EQ(flap["details"]["raises"], 4);
  EXPECT_EQ(alertmanager_alert(flap)["labels"]["flapping"], "true");
  EXPECT_FALSE(alertmanager_alert(flap).contains("endsAt"));
  EXPECT_FALSE(paging_skips(flap, false));
  EXPECT_EQ(lines.all[1]["id"], "00000000000000d3");
  EXPECT_EQ(lines.all[1]["alarm"]["id"], flap["id"]);
  EXPECT_TRUE(paging_skips(lines.all[1], false));
  const std::string flap_id = flap["id"];
  book->emit(defect("defect.end", "00000000000000d3", "freeze", 32.0));
  book->emit(defect("defect.start", "00000000000000d4", "freeze", 40.0));
  book->emit(defect("defect.end", "00000000000000d4", "freeze", 41.0));
  for (size_t i = 1; i < lines.all.size(); ++i) EXPECT_TRUE(paging_skips(lines.all[i], false)) << i;
  EXPECT_EQ(find(flap_id)["raises"], 5);
  EXPECT_EQ(find(flap_id)["state"], "active");
  // 30 s of media time after the last raise without one: it settles.
  lines.all.clear();
  book->emit(defect("defect.start", "00000000000000e0", "black", 70.0));
  ASSERT_EQ(lines.all.size(), 2u);
  EXPECT_EQ(lines.all[0]["kind"], "alarm.flapping");
  EXPECT_EQ(lines.all[0]["details"]["state"], "end");
  EXPECT_EQ(lines.all[0]["details"]["raises"], 5);
  EXPECT_TRUE(alertmanager_alert(lines.all[0]).contains("endsAt"));
  EXPECT_EQ(lines.all[0]["id"], flap_id);
  EXPECT_DOUBLE_EQ(lines.all[0]["media_time"].get<double>(), 70.0);
  EXPECT_FALSE(paging_skips(lines.all[0], false));
  EXPECT_EQ(find(flap_id)["state"], "cleared");
  // An open flapping alarm ends before the stream's summary.
  cfg.flap_count = 0;
  lines.all.clear();
  make();
  book->emit(defect("defect.start", "00000000000000f0", "tone", 1.0));
  book->emit(defect("defect.end", "00000000000000f0", "tone", 2.0));
  book->emit({{"kind", "stream.summary"}, {"media_time", 3.0}});
  ASSERT_EQ(lines.all.size(), 5u);
  EXPECT_EQ(lines.all[0]["id"], lines.all[3]["id"]);
  EXPECT_EQ(lines.all[3]["kind"], "alarm.flapping");
  EXPECT_EQ(lines.all[3]["details"]["state"], "end");
  EXPECT_EQ(lines.all[4]["kind"], "stream.summary");
}

TEST_F(AlarmTest, ALatchedAlarmStaysUntilAcknowledgedAndTheAckIsALine) {
  cfg.latch = {"black"};
  make();
  book->emit(defect("defect.start", "00000000000000a2", "black", 1.0));
  book->emit(defect("defect.end", "00000000000000a2", "black", 4.0));
  EXPECT_EQ(find("00000000000000a2")["state"], "latched");
  EXPECT_EQ(lines.all.back()["alarm"]["state"], "latched");
  now_ms += 1500;
  AlarmChange c = book->ack("00000000000000a2", "jo", "seen on the monitor wall");
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(c.body["state"], "cleared");
  EXPECT_EQ(c.body["acked"], (nlohmann::json{{"by", "jo"}, {"at", "2026-12-01T12:00:01.500Z"}, {"comment", "seen on the monitor wall"}}));
  auto acks = lines.of("alarm.ack");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0]["id"], "00000000000000a2");
  EXPECT_EQ(acks[0]["type"], "black");
  EXPECT_EQ(acks[0]["details"]["by"], "jo");
  EXPECT_EQ(acks[0]["alarm"]["acked"]["comment"], "seen on the monitor wall");
  EXPECT_EQ(book->ack("00000000000000a2", "al", "").status, 409);
  EXPECT_EQ(book->ack("0000000000000bad", "al", "").status, 404);
  // Acknowledged while active: its end carries the ack, and it does not latch.
  book->emit(defect("defect.start", "00000000000000a3", "black", 10.0));
  EXPECT_EQ(book->ack("00000000000000a3", "al", "on it").status, 200);
  book->emit(defect("defect.end", "00000000000000a3", "black", 12.0));
  EXPECT_EQ(lines.all.back()["alarm"]["state"], "cleared");
  EXPECT_EQ(lines.all.back()["alarm"]["acked"]["by"], "al");
  EXPECT_EQ(book->ack("00000000000000a3", "al", "").status, 409);
}

TEST_F(AlarmTest, AnAlarmOpenAtAStopIsHandedOverAndConfirmedByTheNextInstance) {
  auto dir = std::filesystem::temp_directory_path() / ("avmon_alarms_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  cfg.state_file = (dir / "alarms-s1.json").string();
  std::filesystem::remove(cfg.state_file);
  cfg.restart_grace_s = 30;
  make();
  book->emit(defect("defect.start", "1111111111111111", "black", 1.0));
  book->emit(defect("defect.start", "2222222222222222", "silence", 1.0));
  ASSERT_EQ(book->put_mask({"quiet", {"tone"}, std::nullopt, "api", "ops"}).status, 201);
  book->begin_stop();
  book->emit(defect("defect.end", "1111111111111111", "black", 9.0));
  book->emit(defect("defect.end", "2222222222222222", "silence", 9.0));
  EXPECT_EQ(lines.all.back()["handover"], true);
  EXPECT_TRUE(paging_skips(lines.all.back(), true));
  EXPECT_TRUE(std::filesystem::exists(cfg.state_file));
  EXPECT_FALSE(std::filesystem::exists(cfg.state_file + ".tmp"));

  // The next instance: black again within the grace is the same alarm.
  lines.all.clear();
  now_ms += 10000;
  make();
  EXPECT_EQ(find("1111111111111111")["carried"], true);
  EXPECT_EQ(find("1111111111111111")["state"], "active");
  EXPECT_EQ(book->masks_json()[0]["name"], "quiet");
  book->emit(defect("defect.start", "3333333333333333", "black", 0.5));
  ASSERT_EQ(lines.all.size(), 1u);
  EXPECT_EQ(lines.all[0]["continues"], "1111111111111111");
  EXPECT_EQ(lines.all[0]["alarm"]["id"], "1111111111111111");
  EXPECT_EQ(lines.all[0]["alarm"]["since"], "2026-12-01T12:00:00.000Z");  // raised by the previous instance
  EXPECT_TRUE(paging_skips(lines.all[0], false));   // a webhook paged it already
  EXPECT_FALSE(paging_skips(lines.all[0], true));   // Alertmanager: the same labels, kept firing
  EXPECT_EQ(find("1111111111111111").count("carried"), 0u);
  // Silence did not come back within 30 s: cleared, under the id paged before.
  now_ms += 29000;
  book->tick();
  EXPECT_EQ(lines.of("defect.end").size(), 0u);
  now_ms += 1000;
  book->tick();
  auto ends = lines.of("defect.end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0]["id"], "2222222222222222");
  EXPECT_EQ(ends[0]["details"]["handover"], "not confirmed");
  EXPECT_FALSE(paging_skips(ends[0], false));
  EXPECT_EQ(find("2222222222222222")["state"], "cleared");
  // The confirmed alarm's clear refers to it.
  book->emit(defect("defect.end", "3333333333333333", "black", 5.0));
  EXPECT_EQ(lines.all.back()["continues"], "1111111111111111");
  EXPECT_EQ(find("1111111111111111")["state"], "cleared");
  std::filesystem::remove_all(dir);
}

TEST(AlarmStateFile, LivesBesideTheSpoolNotInIt) {
  EXPECT_EQ(resolve_alarms_config({}, "/var/lib/avmon/spool", "studio-a").state_file,
            "/var/lib/avmon/spool.alarms-studio-a.json");
  EXPECT_EQ(resolve_alarms_config({}, "/var/lib/avmon/spool/", "a/b\xff").state_file,
            "/var/lib/avmon/spool.alarms-a_b_.json");
  EXPECT_EQ(resolve_alarms_config({}, "spool", "s").state_file, "./spool.alarms-s.json");
  EXPECT_EQ(resolve_alarms_config({}, "", "s").state_file, "");
  AlarmsConfig own;
  own.state_file = "/srv/a.json";
  EXPECT_EQ(resolve_alarms_config(own, "/var/spool", "s").state_file, "/srv/a.json");
}

TEST_F(AlarmTest, WithoutAStateFileAStopClearsEverything) {
  make();
  book->emit(defect("defect.start", "1111111111111111", "black", 1.0));
  book->begin_stop();
  book->emit(defect("defect.end", "1111111111111111", "black", 2.0));
  EXPECT_FALSE(lines.all.back().contains("handover"));
  EXPECT_EQ(lines.all.back()["alarm"]["state"], "cleared");
}

TEST_F(AlarmTest, ABrokenStateFileIsIgnored) {
  auto path = std::filesystem::temp_directory_path() / ("avmon_alarms_bad_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << "{\"alarms\": [{\"no id\": 1}]}";
  cfg.state_file = path.string();
  make();
  EXPECT_TRUE(book->list().empty());
  std::filesystem::remove(path);
}

TEST(AlarmSchedule, WeeklyWindowsInATimeZoneCrossMidnightAndDaylightSaving) {
  AlarmSchedule s;
  s.name = "overnight";
  s.types = {"black"};
  s.days = {0, 1, 2, 3, 4};  // Monday to Friday
  s.from_min = 23 * 60;
  s.to_min = 6 * 60;
  s.time_zone = "Europe/London";
  auto at = [](const char* t) { return *parse_rfc3339_ms(t); };
  // Summer (BST, UTC+1): Tuesday 23:30 local is 22:30 UTC.
  EXPECT_TRUE(schedule_in_window(s, at("2026-07-07T22:30:00Z")));
  EXPECT_FALSE(schedule_in_window(s, at("2026-07-07T21:30:00Z")));
  // Winter (GMT): Tuesday 23:30 local is 23:30 UTC.
  EXPECT_TRUE(schedule_in_window(s, at("2026-12-01T23:30:00Z")));
  EXPECT_FALSE(schedule_in_window(s, at("2026-12-01T22:30:00Z")));
  // Saturday 05:00 belongs to Friday's night; Sunday 05:00 to Saturday's (not listed).
  EXPECT_TRUE(schedule_in_window(s, at("2026-12-05T05:00:00Z")));
  EXPECT_FALSE(schedule_in_window(s, at("2026-12-06T05:00:00Z")));
  EXPECT_TRUE(schedule_masks(s, "black", at("2026-12-01T23:30:00Z")));
  EXPECT_FALSE(schedule_masks(s, "freeze", at("2026-12-01T23:30:00Z")));
  // Inverted: captions are expected only inside the window.
  s.mode = "invert";
  s.types = {};
  EXPECT_FALSE(schedule_masks(s, "caption_loss", at("2026-12-01T23:30:00Z")));
  EXPECT_TRUE(schedule_masks(s, "caption_loss", at("2026-12-01T12:00:00Z")));
  EXPECT_EQ(zone_offset_s("America/New_York", at("2026-07-01T00:00:00Z") / 1000), -4 * 3600);
  EXPECT_EQ(zone_offset_s("UTC", 0), 0);
  EXPECT_FALSE(zone_offset_s("Mars/Olympus", 0));
  EXPECT_FALSE(zone_offset_s("../../etc/passwd", 0));
}

TEST_F(AlarmTest, ASchedulesWindowMasksAlarmsRaisedInIt) {
  AlarmSchedule s;
  s.name = "lunch";
  s.types = {"black"};
  s.from_min = 11 * 60 + 30;
  s.to_min = 13 * 60;
  cfg.schedules.push_back(s);
  make();
  book->emit(defect("defect.start", "00000000000000a1", "black", 1.0));  // 12:00 UTC
  EXPECT_EQ(lines.all.back()["alarm"]["masked_by"], nlohmann::json::array({"lunch"}));
  now_ms += 3600 * 1000;
  book->emit(defect("defect.start", "00000000000000a2", "black", 3601.0));
  EXPECT_EQ(lines.all.back()["masked"], false);
  EXPECT_EQ(book->masks_json()[0]["origin"], "schedule");
}

TEST(AlarmTime, Rfc3339) {
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ms("2026-12-01T12:00:00.5Z"), kT0 + 500);
  EXPECT_EQ(parse_rfc3339_ms("2026-12-01T13:00:00+01:00"), kT0);
  EXPECT_EQ(parse_rfc3339_ms("2026-12-01T11:30:00-00:30"), kT0);
  for (const char* bad : {"", "2026-12-01", "2026-12-01T12:00:00", "2026-13-01T12:00:00Z", "2026-12-01T12:00:00Zjunk",
                          "2026-12-01T12:00:00.Z", "2026-12-01T24:00:00Z", "2026-12-01T12:00:00+1:00",
                          "2990-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"})
    EXPECT_FALSE(parse_rfc3339_ms(bad)) << bad;
  EXPECT_EQ(parse_time_of_day("24:00"), 1440);
  EXPECT_FALSE(parse_time_of_day("24:01"));
  EXPECT_FALSE(parse_time_of_day("7:00"));
}

// ---- in the engine: start-up grace and per-type policy -------------------

TEST(AlarmGrace, NoContentDefectBeginsInTheGraceAndOneGoingOnCountsFromItsEnd) {
  Lines lines;
  EventEngine e("s1", lines);
  e.add_detector("black", {0.5, 0.5, "critical"}, {"black"}, {});
  e.begin_grace(0, 3);
  feed(e, "black", 0, 2.0, 6);  // over before the grace ends: nothing
  EXPECT_TRUE(lines.all.empty());

  Lines more;
  EventEngine e2("s1", more);
  e2.add_detector("black", {0.5, 0.5, "critical"}, {"black"}, {});
  e2.add_detector("signal_loss", {0, 0, "critical"}, {"signal_loss"}, {});
  e2.begin_grace(0, 3);
  e2.observe("signal_loss", obs("signal_loss", 0.2, true));
  e2.observe("signal_loss", obs("signal_loss", 0.4, false));
  feed(e2, "black", 1.0, 5.0, 8);
  auto starts = more.of("defect.start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0]["type"], "signal_loss");  // the input's health is exempt
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 0.2);
  EXPECT_EQ(starts[1]["type"], "black");
  EXPECT_DOUBLE_EQ(starts[1]["media_time"].get<double>(), 3.0);
  // A reopen at 10 s starts another grace.
  e2.begin_grace(10, 3);
  for (int i = 200; i < 400; ++i) {
    double t = i / 25.0;
    e2.observe("black", obs("black", t, t >= 10.0 && t < 12.5));
    e2.advance(t);
  }
  EXPECT_EQ(more.of("defect.start").size(), 2u);
}

TEST(AlarmTypePolicy, SeverityMinimumDurationAndHoldOffPerType) {
  Lines lines;
  EventEngine e("s1", lines);
  e.add_detector("silence", {0.5, 0.5, "major"}, {"silence", "channel_silent"}, {});
  AlarmTypePolicy p;
  p.severity = "critical";
  p.min_duration_s = 2.0;
  e.override_type("silence", p);
  AlarmTypePolicy lag;
  lag.severity = "minor";
  e.override_type("detector_lagging", lag);
  e.add_host_type("detector_lagging", {0.0, 10.0, "warning"});
  // silence for 1.5 s (< the type's 2 s), channel_silent for 1.5 s (> the
  // detector's 0.5 s), then silence for 3 s.
  for (int i = 0; i < 300; ++i) {
    double t = i / 25.0;
    e.observe("silence", obs("silence", t, (t >= 1.0 && t < 2.5) || (t >= 7.0 && t < 10.0)));
    e.observe("silence", obs("channel_silent", t, t >= 4.0 && t < 5.5));
    e.advance(t);
  }
  auto starts = lines.of("defect.start");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0]["type"], "channel_silent");
  EXPECT_DOUBLE_EQ(starts[0]["media_time"].get<double>(), 4.0);
  EXPECT_EQ(starts[0]["severity"], "major");
  EXPECT_EQ(starts[1]["type"], "silence");
  EXPECT_DOUBLE_EQ(starts[1]["media_time"].get<double>(), 7.0);
  EXPECT_EQ(starts[1]["severity"], "critical");
  e.observe("dispatcher", obs("detector_lagging", 12.0, true));
  e.advance(12.0);
  EXPECT_EQ(lines.all.back()["severity"], "minor");
}

// ---- the alarms section of the configuration --------------------------------

std::string load_error(const std::string& yaml, Config* out = nullptr) {
  auto path = test::scratch_dir("alarms_config") / "a.yaml";
  std::ofstream(path) << yaml;
  DetectorRegistry r = DetectorRegistry::builtin();
  try {
    Config c = load_config(path.string(), r, nullptr);
    if (out) *out = c;
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AlarmConfig, TypesMasksAndSchedulesAreReadAndCheckedWithTheirPlace) {
  Config c;
  ASSERT_EQ(load_error("http:\n  api_token: t0k\n"
                       "alarms:\n  startup_grace_s: 2\n  latch: [black]\n"
                       "  types:\n    black: {severity: critical, hold_off_s: 5, latch: true}\n"
                       "  masks:\n    maintenance: {types: [black, silence], until: \"2026-12-24T06:00:00+01:00\"}\n"
                       "    all: ~\n"
                       "  schedules:\n    overnight: {types: [black], days: [mon, Tuesday], from: \"23:00\", to: \"06:00\", "
                       "time_zone: Europe/London}\n",
                       &c),
            "");
  EXPECT_EQ(c.http.api_token, "t0k");
  EXPECT_DOUBLE_EQ(c.alarms.startup_grace_s, 2);
  EXPECT_EQ(c.alarms.latch, std::vector<std::string>{"black"});
  EXPECT_EQ(c.alarms.types.at("black").severity, "critical");
  EXPECT_EQ(c.alarms.types.at("black").hold_off_s, 5.0);
  EXPECT_FALSE(c.alarms.types.at("black").min_duration_s.has_value());
  ASSERT_EQ(c.alarms.masks.size(), 2u);
  EXPECT_EQ(c.alarms.masks[0].name, "maintenance");
  EXPECT_EQ(c.alarms.masks[0].until_ms, *parse_rfc3339_ms("2026-12-24T05:00:00Z"));
  EXPECT_TRUE(c.alarms.masks[1].types.empty());
  ASSERT_EQ(c.alarms.schedules.size(), 1u);
  EXPECT_EQ(c.alarms.schedules[0].days, (std::vector<int>{0, 1}));
  EXPECT_EQ(c.alarms.schedules[0].from_min, 23 * 60);
  EXPECT_EQ(c.alarms.schedules[0].to_min, 6 * 60);

  EXPECT_NE(load_error("alarms:\n  types:\n    black: {severity: loud}\n").find(
                ":3:23: alarms.types.black.severity: 'loud' is not one of"),
            std::string::npos)
      << load_error("alarms:\n  types:\n    black: {severity: loud}\n");
  EXPECT_NE(load_error("alarms:\n  masks:\n    m: {until: soon}\n").find("alarms.masks.m.until: not an RFC 3339"),
            std::string::npos);
  EXPECT_NE(load_error("alarms:\n  masks:\n    m: {typo: 1}\n").find("alarms.masks.m.typo: unknown key"), std::string::npos);
  EXPECT_NE(load_error("alarms:\n  schedules:\n    s: {from: \"25:00\", to: \"06:00\"}\n").find("expected HH:MM"),
            std::string::npos);
  EXPECT_NE(load_error("alarms:\n  schedules:\n    s: {from: \"01:00\", to: \"06:00\", time_zone: Mars/Base}\n")
                .find("unknown time zone 'Mars/Base'"),
            std::string::npos);
  EXPECT_NE(load_error("alarms:\n  schedules:\n    s: {from: \"01:00\", to: \"06:00\", days: [someday]}\n")
                .find("is not a day"),
            std::string::npos);
  EXPECT_NE(load_error("alarms:\n  flap_count: 0\n").find("alarms.flap_count: value 0 out of range"), std::string::npos);
  EXPECT_NE(load_error("alarms:\n  colour: red\n").find("unknown option (known: "), std::string::npos);
}

}  // namespace
}  // namespace avmon
