// Stream loading, packet fields, packet times and the gap-based expectations.
#include "tools/ts_impair.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>

#include "ts/crc32.hpp"
#include "ts/packet.hpp"

namespace avmon::impair {

namespace {
constexpr std::int64_t kWrap27m = ts::kPcrWrap27M;
}

std::uint16_t pid_of(const Packet& p) { return static_cast<std::uint16_t>((p[1] & 0x1F) << 8 | p[2]); }
bool has_payload(const Packet& p) { return p[3] & 0x10; }
bool pusi(const Packet& p) { return p[1] & 0x40; }
bool has_pcr(const Packet& p) { return (p[3] & 0x20) && p[4] >= 7 && (p[5] & 0x10); }
std::int64_t pcr_of(const Packet& p) { return ts::PacketView(p.data()).pcr(); }
void set_pcr(Packet& p, std::int64_t v) { ts::write_pcr(p.data(), v); }
unsigned cc_of(const Packet& p) { return p[3] & 0x0F; }
void set_cc(Packet& p, unsigned cc) { p[3] = static_cast<std::uint8_t>((p[3] & 0xF0) | (cc & 0x0F)); }
Packet null_packet() {
  Packet p;
  p.fill(0xFF);
  p[0] = 0x47;
  p[1] = 0x1F;
  p[2] = 0xFF;
  p[3] = 0x10;
  return p;
}

Stream load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::vector<char> bytes{std::istreambuf_iterator<char>(f), {}};
  if (bytes.size() % 188 != 0) throw std::runtime_error(path + ": not a whole number of 188-byte packets");
  Stream s;
  for (std::size_t i = 0; i < bytes.size(); i += 188) {
    Packet p;
    std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(i), bytes.begin() + static_cast<std::ptrdiff_t>(i + 188), p.begin());
    if (p[0] != 0x47) throw std::runtime_error(path + ": packet " + std::to_string(i / 188) + " has no sync byte");
    s.packets.push_back(p);
  }
  s.retime();
  return s;
}

void save(const Stream& s, const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  for (const auto& p : s.packets) f.write(reinterpret_cast<const char*>(p.data()), 188);
  if (!f) throw std::runtime_error("cannot write " + path);
}

// Times from the first PCR PID's PCRs: interpolated between them, 0 before
// the first; a step backwards or of more than a second is a jump, across
// which time goes on at the previous rate.
void Stream::retime() {
  times.assign(packets.size(), 0.0);
  int pcr_pid = -1;
  std::vector<std::pair<std::size_t, double>> marks;  // (index, seconds)
  double value = 0, s_per_packet = 0;
  std::int64_t last = 0;
  std::size_t last_i = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const Packet& p = packets[i];
    if ((p[1] & 0x80) || !has_pcr(p)) continue;
    if (pcr_pid < 0) pcr_pid = pid_of(p);
    if (pid_of(p) != pcr_pid) continue;
    const std::int64_t v = pcr_of(p);
    if (!marks.empty()) {
      std::int64_t d = (v - last) % kWrap27m;
      if (d > kWrap27m / 2) d -= kWrap27m;
      if (d < -kWrap27m / 2) d += kWrap27m;
      const double step = static_cast<double>(d) / 27e6;
      const bool disc = (p[5] & 0x80);
      if (!disc && step >= 0 && step <= 1.0) {
        value += step;
        if (step > 0) s_per_packet = step / static_cast<double>(i - last_i);
      } else {
        value += static_cast<double>(i - last_i) * s_per_packet;
      }
    }
    marks.emplace_back(i, value);
    last = v;
    last_i = i;
  }
  if (marks.empty()) return;
  std::size_t m = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    while (m + 1 < marks.size() && marks[m + 1].first <= i) ++m;
    if (i <= marks.front().first) {
      times[i] = 0;
    } else if (m + 1 < marks.size()) {
      const auto& [i0, t0] = marks[m];
      const auto& [i1, t1] = marks[m + 1];
      times[i] = t0 + (t1 - t0) * static_cast<double>(i - i0) / static_cast<double>(i1 - i0);
    } else {
      times[i] = std::min(marks[m].second + static_cast<double>(i - marks[m].first) * s_per_packet, marks[m].second + 1.0);
    }
  }
}

namespace {

// A complete single-packet section of `tid` at the start of `p`'s payload
// with a good CRC (ffmpeg writes PSI/SI that way).
bool section_ok(const Packet& p, std::uint8_t tid) {
  if (!pusi(p) || !has_payload(p) || (p[1] & 0x80) || (p[3] & 0xC0)) return false;
  std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
  if (off >= 188) return false;
  off += 1 + p[off];  // pointer_field
  if (off + 3 > 188 || p[off] != tid) return false;
  const std::size_t len = 3 + (((p[off + 1] & 0x0F) << 8) | p[off + 2]);
  if (off + len > 188) return false;
  return ts::crc32_mpeg(p.data() + off, len) == 0;
}

// Errors of a deadline `period` armed at `since` and renewed at each time in
// `hits`, checked at every packet time until `end`: one per period passed.
long deadline_errors(double since, const std::vector<double>& hits, double end, double period) {
  long n = 0;
  double next = since + period;
  auto passed = [&](double now) {
    while (now > next) {
      ++n;
      next += period;
    }
  };
  for (double h : hits) {
    passed(h);
    next = h + period;
  }
  passed(end);
  return n;
}

// 2.5 on one PID: armed at its first PTS; not checked while its packets are
// scrambled (the PES header, and its PTS, cannot be read).
long pts_errors(const Stream& s, std::uint16_t pid) {
  bool armed = false, scrambled = false;
  double next = 0;
  long n = 0;
  for (std::size_t i = 0; i < s.packets.size(); ++i) {
    const Packet& p = s.packets[i];
    const double t = s.times[i];
    bool pts = false;
    if (pid_of(p) == pid && has_payload(p) && !(p[1] & 0x80)) {
      scrambled = p[3] & 0xC0;
      if (!scrambled && pusi(p)) {
        std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
        pts = off + 14 <= 188 && p[off] == 0 && p[off + 1] == 0 && p[off + 2] == 1 && (p[off + 7] & 0x80);
      }
    }
    if (armed && scrambled) armed = false;
    if (armed)
      while (t > next) {
        ++n;
        next += 0.7;
      }
    if (pts) {
      armed = true;
      next = t + 0.7;
    }
  }
  return n;
}

}  // namespace

Layout layout(const Stream& s, std::uint16_t program) {
  Layout l;
  for (const auto& p : s.packets) {
    if (pid_of(p) != 0 || !section_ok(p, 0x00)) continue;
    std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
    off += 1 + p[off];
    for (std::size_t k = off + 8; k + 4 <= off + 3 + (((p[off + 1] & 0x0F) << 8) | p[off + 2]) - 4; k += 4)
      if ((p[k] << 8 | p[k + 1]) != 0 && (program == 0 || (p[k] << 8 | p[k + 1]) == program)) {
        l.pmt_pid = static_cast<std::uint16_t>((p[k + 2] & 0x1F) << 8 | p[k + 3]);
        break;
      }
    break;
  }
  for (const auto& p : s.packets) {
    if (pid_of(p) != l.pmt_pid || !section_ok(p, 0x02)) continue;
    std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
    off += 1 + p[off];
    const std::size_t end = off + 3 + (((p[off + 1] & 0x0F) << 8) | p[off + 2]) - 4;
    l.pcr_pid = static_cast<std::uint16_t>((p[off + 8] & 0x1F) << 8 | p[off + 9]);
    std::size_t k = off + 12 + (((p[off + 10] & 0x0F) << 8) | p[off + 11]);
    while (k + 5 <= end) {
      const std::uint8_t type = p[k];
      const auto pid = static_cast<std::uint16_t>((p[k + 1] & 0x1F) << 8 | p[k + 2]);
      l.all_pids.push_back(pid);
      // The stream types ffmpeg writes for video and audio.
      if (type == 0x1B || type == 0x02 || type == 0x24 || type == 0x0F || type == 0x03 || type == 0x04 ||
          type == 0x81 || type == 0x11)
        l.av_pids.push_back(pid);
      k += 5 + (((p[k + 3] & 0x0F) << 8) | p[k + 4]);
    }
    break;
  }
  l.all_pids.push_back(l.pmt_pid);
  return l;
}

void expect_gaps(const Stream& s, const Options& o, Counts& e) {
  if (s.packets.empty()) return;
  const Layout l = layout(s);
  const double end = s.times.back();
  std::vector<double> pat, pmt, sdt;
  std::map<std::uint16_t, std::vector<double>> seen, pts;
  std::optional<double> first_pat, first_pmt;
  for (std::size_t i = 0; i < s.packets.size(); ++i) {
    const Packet& p = s.packets[i];
    const double t = s.times[i];
    const std::uint16_t pid = pid_of(p);
    if (p[1] & 0x80) continue;  // transport error: not analysed
    if (pid == 0 && section_ok(p, 0x00)) {
      pat.push_back(t);
      if (!first_pat) first_pat = t;
    }
    if (pid == l.pmt_pid && section_ok(p, 0x02)) {
      pmt.push_back(t);
      if (!first_pmt) first_pmt = t;
    }
    if (pid == 0x11 && section_ok(p, 0x42)) sdt.push_back(t);
    seen[pid].push_back(t);
    if (pusi(p) && has_payload(p) && !(p[3] & 0xC0)) {
      std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
      if (off + 14 <= 188 && p[off] == 0 && p[off + 1] == 0 && p[off + 2] == 1 && (p[off + 7] & 0x80)) pts[pid].push_back(t);
    }
  }
  e["pat_error"] += deadline_errors(0, pat, end, 0.5);
  if (first_pat) e["pmt_error"] += deadline_errors(*first_pat, pmt, end, 0.5);
  if (!sdt.empty()) e["sdt_error"] += deadline_errors(sdt.front(), sdt, end, 2.0);
  if (first_pmt) {
    for (std::uint16_t pid : l.av_pids) {
      e["pid_error"] += deadline_errors(*first_pmt, seen[pid], end, 5.0);
      e["pts_error"] += pts_errors(s, pid);
    }
  }
  // PCRs of the PCR PID: a late one counts once; a PID silent for more than
  // a second counts once per second instead; a jump without
  // discontinuity_indicator counts as 2.3b.
  if (first_pmt && l.pcr_pid != 0x1FFF) {
    double next_absence = *first_pmt + 1.0;
    long absence = 0;
    bool have = false;
    std::int64_t last = 0;
    std::size_t last_i = 0;
    double s_per_packet = 0;
    for (std::size_t i = 0; i < s.packets.size(); ++i) {
      const Packet& p = s.packets[i];
      const double t = s.times[i];
      while (t > next_absence) {
        ++absence;
        e["pcr_repetition_error"] += 1;
        e["pcr_error"] += 1;
        next_absence += 1.0;
      }
      if (pid_of(p) != l.pcr_pid || !has_pcr(p) || (p[1] & 0x80)) continue;
      const std::int64_t v = pcr_of(p);
      if (have && !(p[5] & 0x80)) {
        std::int64_t d = (v - last) % kWrap27m;
        if (d > kWrap27m / 2) d -= kWrap27m;
        if (d < -kWrap27m / 2) d += kWrap27m;
        const double ds = static_cast<double>(d) / 27e6;
        bool jump = d < 0 || d > 2700000;
        if (jump && d >= 0 && s_per_packet > 0 && std::abs(ds - static_cast<double>(i - last_i) * s_per_packet) <= 0.1)
          jump = false;
        const bool late = !jump && d > std::llround(o.pcr_repetition_s * 27e6) && absence == 0;
        if (jump) e["pcr_discontinuity_indicator_error"] += 1;
        if (late) e["pcr_repetition_error"] += 1;
        if (jump || late) e["pcr_error"] += 1;
        if (!jump && d > 0) s_per_packet = ds / static_cast<double>(i - last_i);
      }
      have = true;
      last = v;
      last_i = i;
      absence = 0;
      next_absence = t + 1.0;
    }
  }
}

}  // namespace avmon::impair
