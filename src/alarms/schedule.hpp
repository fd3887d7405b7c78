// Schedules (weekly windows in a time zone) and the time texts of the alarm
// API. Time zones come from the system's zoneinfo (TZif files); GCC 12's
// library has no time zone database of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "alarms/alarm_config.hpp"

namespace avmon {

// RFC 3339 ("2026-12-02T06:00:00Z", "...T07:00:00.5+01:00") to Unix
// milliseconds; nullopt when it is not one.
std::optional<std::int64_t> parse_rfc3339_ms(const std::string& text);

// The offset from UTC, in seconds, of zone `name` ("UTC", "Europe/London")
// at `utc_s`; nullopt for an unknown zone. After the zone file's last
// transition (2037 in Debian's files) the last offset holds.
std::optional<std::int64_t> zone_offset_s(const std::string& name, std::int64_t utc_s);

// `now_ms` falls in the schedule's window (its days, its time range, in its
// zone); a window whose end is before its start crosses midnight and belongs
// to the day it starts on.
bool schedule_in_window(const AlarmSchedule& s, std::int64_t now_ms);

// The schedule masks `type` at `now_ms`: inside a mask window, or outside an
// invert window.
bool schedule_masks(const AlarmSchedule& s, const std::string& type, std::int64_t now_ms);

// "HH:MM" to minutes after midnight (24:00 allowed as an end); nullopt if not.
std::optional<int> parse_time_of_day(const std::string& text);

}  // namespace avmon
