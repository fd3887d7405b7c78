// The alarm life cycle (src/alarms) on a virtual clock: raise and clear,
// masks and their expiry, flood control, latching and acknowledgement, the
// handover across a restart and its state file, and a schedule's window
// masking what is raised in it. When alarms may begin and under which rules
// (schedules and times, the engine's start-up grace and per-type policy, the
// configuration's alarms section) is test_alarm_policy.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "alarms/alarm_book.hpp"
#include "alarms/schedule.hpp"
#include "notify/notifier.hpp"
#include "support/events.hpp"

namespace avmon {
namespace {

using test::Lines;

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

}  // namespace
}  // namespace avmon
