// When alarms may begin and under which rules: weekly schedule windows in a
// time zone and the times masks and schedules are written in, the start-up
// grace and per-type policy in the event engine, and the alarms section of
// the configuration. The alarm life cycle itself is test_alarms.cpp.
#include <gtest/gtest.h>

#include <fstream>

#include "alarms/schedule.hpp"
#include "config/config.hpp"
#include "pipeline/engine.hpp"
#include "support/events.hpp"
#include "support/run.hpp"

namespace avmon {
namespace {

using test::feed;
using test::Lines;
using test::obs;

// 2026-12-01T12:00:00Z, a Tuesday.
constexpr std::int64_t kT0 = 1796126400000;

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
