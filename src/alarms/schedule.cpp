#include "alarms/schedule.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

namespace avmon {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Zone {
  std::vector<std::int64_t> transitions;  // UTC seconds
  std::vector<std::int32_t> offsets;      // offset from each transition on
  std::int32_t initial = 0;
};

std::int64_t be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// TZif (RFC 8536): the version 2+ block with 64-bit times when present.
std::optional<Zone> read_tzif(const std::string& bytes) {
  auto header = [&](std::size_t at, std::int64_t (&c)[6]) {
    if (bytes.size() < at + 44 || bytes.compare(at, 4, "TZif") != 0) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at + 20);
    for (int i = 0; i < 6; ++i) c[i] = be(p + 4 * i, 4);
    return true;
  };
  std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return std::nullopt;
  std::size_t at = 44;
  int tsize = 4;
  if (bytes[4] >= '2') {
    at += static_cast<std::size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    if (!header(at, c)) return std::nullopt;
    at += 44;
    tsize = 8;
  }
  const std::size_t need = static_cast<std::size_t>(c[3] * (tsize + 1) + c[4] * 6);
  if (c[4] <= 0 || bytes.size() < at + need) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  const auto* idx = p + c[3] * tsize;
  const auto* types = idx + c[3];
  Zone z;
  z.initial = static_cast<std::int32_t>(be(types, 4));
  for (std::int64_t i = 0; i < c[3]; ++i) {
    unsigned t = idx[i];
    if (t >= c[4]) return std::nullopt;
    z.transitions.push_back(be(p + i * tsize, tsize));
    z.offsets.push_back(static_cast<std::int32_t>(be(types + 6 * t, 4)));
  }
  return z;
}

const Zone* zone(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::optional<Zone>> cache;
  std::lock_guard lk(mu);
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::optional<Zone> z;
    // Names only: no path can leave the zoneinfo folder.
    bool safe = !name.empty() && name.find("..") == std::string::npos && name.front() != '/';
    if (name == "UTC" || name == "Etc/UTC" || name == "Z") {
      z = Zone{};
    } else if (safe) {
      std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
      std::stringstream ss;
      if (in) {
        ss << in.rdbuf();
        z = read_tzif(ss.str());
      }
    }
    it = cache.emplace(name, std::move(z)).first;
  }
  return it->second ? &*it->second : nullptr;
}

int two(const std::string& s, std::size_t at) {
  if (at + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[at])) ||
      !std::isdigit(static_cast<unsigned char>(s[at + 1])))
    return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  int y1 = two(s, 0), y2 = two(s, 2), mo = two(s, 5), d = two(s, 8), h = two(s, 11), mi = two(s, 14),
      se = two(s, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60)
    return std::nullopt;
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    int digits = 0;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) {
      if (digits < 3) ms = ms * 10 + (s[at] - '0');
      ++digits;
      ++at;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  std::int64_t offset_s = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && s[at + 3] == ':') {
    int oh = two(s, at + 1), om = two(s, at + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset_s = (s[at] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  // Years the system clock (nanoseconds since 1970, up to 2262) holds with
  // room to spare: a time outside them is a typing error, and turning it into
  // a clock time would overflow.
  if (y1 * 100 + y2 < 1970 || y1 * 100 + y2 > 2200) return std::nullopt;
  std::int64_t days = days_from_civil(y1 * 100 + y2, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  return secs * 1000 + ms;
}

std::optional<std::int64_t> zone_offset_s(const std::string& name, std::int64_t utc_s) {
  const Zone* z = zone(name);
  if (!z) return std::nullopt;
  auto it = std::upper_bound(z->transitions.begin(), z->transitions.end(), utc_s);
  if (it == z->transitions.begin()) return z->initial;
  return z->offsets[static_cast<std::size_t>(it - z->transitions.begin() - 1)];
}

std::optional<int> parse_time_of_day(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  int h = two(s, 0), m = two(s, 3);
  if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

bool schedule_in_window(const AlarmSchedule& s, std::int64_t now_ms) {
  const std::int64_t utc_s = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  const std::int64_t local_s = utc_s + zone_offset_s(s.time_zone, utc_s).value_or(0);
  std::int64_t days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
  const int minute = static_cast<int>((local_s - days * 86400) / 60);
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  auto weekday = [](std::int64_t d) { return static_cast<int>(((d % 7) + 7 + 3) % 7); };
  auto on = [&](std::int64_t d) {
    return s.days.empty() || std::find(s.days.begin(), s.days.end(), weekday(d)) != s.days.end();
  };
  if (s.from_min <= s.to_min) return on(days) && minute >= s.from_min && minute < s.to_min;
  // Crosses midnight: the evening of a listed day, or the morning after one.
  return (on(days) && minute >= s.from_min) || (on(days - 1) && minute < s.to_min);
}

bool schedule_masks(const AlarmSchedule& s, const std::string& type, std::int64_t now_ms) {
  if (!s.types.empty() && std::find(s.types.begin(), s.types.end(), type) == s.types.end()) return false;
  const bool inside = schedule_in_window(s, now_ms);
  return s.mode == "invert" ? !inside : inside;
}

}  // namespace avmon
