// The impairments. Each names the packets it alters by PID and position (or
// by time on the packet clock) and adds what it causes, packet by packet, to
// the expected counts; table, PID and PCR timing is computed afterwards from
// the result (expect_gaps).
#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "tools/ts_impair.hpp"
#include "ts/crc32.hpp"

namespace avmon::impair {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, sep);) out.push_back(x);
  return out;
}
long num(const std::string& s) { return std::stol(s, nullptr, 0); }
double sec(const std::string& s) { return std::stod(s); }

// Index of the n-th (1-based) packet of `pid` with a payload.
std::size_t nth(const Stream& s, std::uint16_t pid, long n) {
  long k = 0;
  for (std::size_t i = 0; i < s.packets.size(); ++i)
    if (pid_of(s.packets[i]) == pid && has_payload(s.packets[i]) && ++k == n) return i;
  throw std::runtime_error("PID " + std::to_string(pid) + " has fewer than " + std::to_string(n) + " packets");
}

// The counter of every later packet of `pid` goes back by `n`: packets the
// multiplexer never sent leave no gap.
void renumber_after(Stream& s, std::size_t from, std::uint16_t pid, unsigned n) {
  for (std::size_t i = from; i < s.packets.size(); ++i)
    if (pid_of(s.packets[i]) == pid) set_cc(s.packets[i], cc_of(s.packets[i]) + 16 - (n & 0x0F));
}

// Null packets in [from, to) seconds, after index `after`.
std::vector<std::size_t> nulls(const Stream& s, double from, double to) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < s.packets.size(); ++i)
    if (s.times[i] >= from && s.times[i] < to && pid_of(s.packets[i]) == 0x1FFF) out.push_back(i);
  return out;
}

// Adds an elementary stream to every PMT section of `pmt_pid` (each in one
// packet, as ffmpeg writes them), with a new CRC.
void add_to_pmt(Stream& s, std::uint16_t pmt_pid, std::uint16_t pid, std::uint8_t stream_type,
                const std::vector<std::uint8_t>& descriptors) {
  for (auto& p : s.packets) {
    if (pid_of(p) != pmt_pid || !pusi(p)) continue;
    std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
    off += 1 + p[off];
    const std::size_t length = ((p[off + 1] & 0x0F) << 8) | p[off + 2];
    const std::size_t crc_at = off + 3 + length - 4, grow = 5 + descriptors.size();
    if (crc_at + 4 + grow > 188) throw std::runtime_error("--add-teletext: no room in the PMT packet");
    std::vector<std::uint8_t> es = {stream_type, static_cast<std::uint8_t>(0xE0 | pid >> 8),
                                    static_cast<std::uint8_t>(pid & 0xFF),
                                    static_cast<std::uint8_t>(0xF0 | descriptors.size() >> 8),
                                    static_cast<std::uint8_t>(descriptors.size() & 0xFF)};
    es.insert(es.end(), descriptors.begin(), descriptors.end());
    std::copy(es.begin(), es.end(), p.begin() + static_cast<std::ptrdiff_t>(crc_at));
    const std::size_t new_length = length + grow;
    p[off + 1] = static_cast<std::uint8_t>((p[off + 1] & 0xF0) | new_length >> 8);
    p[off + 2] = static_cast<std::uint8_t>(new_length & 0xFF);
    const std::uint32_t crc = ts::crc32_mpeg(p.data() + off, 3 + new_length - 4);
    for (int k = 0; k < 4; ++k) p[crc_at + grow + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
  }
}

// One teletext PES in one packet (EN 300 472: PES header 45 bytes, data
// units of 46): data_identifier 0x10 and three stuffing data units.
Packet teletext_packet(std::uint16_t pid, unsigned cc, std::int64_t pts) {
  Packet p;
  p.fill(0xFF);
  p[0] = 0x47;
  p[1] = static_cast<std::uint8_t>(0x40 | (pid >> 8));
  p[2] = static_cast<std::uint8_t>(pid & 0xFF);
  p[3] = static_cast<std::uint8_t>(0x10 | (cc & 0x0F));
  const std::uint8_t head[] = {0x00, 0x00, 0x01, 0xBD, 0x00, 178, 0x84, 0x80, 36};
  std::copy(std::begin(head), std::end(head), p.begin() + 4);
  p[13] = static_cast<std::uint8_t>(0x21 | ((pts >> 29) & 0x0E));
  p[14] = static_cast<std::uint8_t>(pts >> 22);
  p[15] = static_cast<std::uint8_t>(((pts >> 14) & 0xFE) | 1);
  p[16] = static_cast<std::uint8_t>(pts >> 7);
  p[17] = static_cast<std::uint8_t>(((pts << 1) & 0xFE) | 1);
  std::size_t k = 4 + 45;  // header stuffing (0xFF) up to here
  p[k++] = 0x10;           // EBU data
  for (int unit = 0; unit < 3; ++unit) {
    p[k] = 0xFF;  // stuffing data unit
    p[k + 1] = 0x2C;
    k += 46;
  }
  return p;
}

void withhold(Stream& s, std::uint16_t pid, double from, double dur) {
  unsigned removed = 0;
  for (std::size_t i = 0; i < s.packets.size(); ++i) {
    if (pid_of(s.packets[i]) != pid) continue;
    if (s.times[i] >= from && s.times[i] < from + dur) {
      if (has_payload(s.packets[i])) ++removed;
      s.packets[i] = null_packet();  // the multiplexer stuffed instead
    } else if (removed) {
      set_cc(s.packets[i], cc_of(s.packets[i]) + 16 - (removed & 0x0F));
    }
  }
}

Packet section_packet(std::uint16_t pid, unsigned cc, std::uint8_t tid) {
  Packet p;
  p.fill(0xFF);
  p[0] = 0x47;
  p[1] = static_cast<std::uint8_t>(0x40 | (pid >> 8));
  p[2] = static_cast<std::uint8_t>(pid & 0xFF);
  p[3] = static_cast<std::uint8_t>(0x10 | (cc & 0x0F));
  const std::uint8_t sec[] = {0x00, tid, 0xB0, 0x09, 0x00, 0x01, 0xC1, 0x00, 0x00};
  std::copy(std::begin(sec), std::end(sec), p.begin() + 4);
  const std::uint32_t crc = ts::crc32_mpeg(p.data() + 5, 8);
  for (int k = 0; k < 4; ++k) p[13 + k] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
  return p;
}

}  // namespace

void op(const std::string& name, const std::string& arg, Stream& s, Counts& e) {
  const auto a = split(arg, ':');
  auto need = [&](std::size_t n) {
    if (a.size() < n) throw std::runtime_error("--" + name + ": expected " + std::to_string(n) + " fields in '" + arg + "'");
  };
  if (name == "drop") {  // PID:N[:COUNT] - lost in transit
    need(2);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    const long count = a.size() > 2 ? num(a[2]) : 1;
    std::size_t i = nth(s, pid, num(a[1]));
    for (long k = 0; k < count; ++k) {
      s.packets.erase(s.packets.begin() + static_cast<std::ptrdiff_t>(i));
      s.times.erase(s.times.begin() + static_cast<std::ptrdiff_t>(i));
      while (i < s.packets.size() && !(pid_of(s.packets[i]) == pid && has_payload(s.packets[i]))) ++i;
    }
    if (count % 16 != 0) e["continuity_count_error"] += 1;
  } else if (name == "duplicate") {  // PID:N:COPIES - extra copies (one is legal)
    need(3);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    const std::size_t i = nth(s, pid, num(a[1]));
    const long copies = num(a[2]);
    for (long k = 0; k < copies; ++k) {
      s.packets.insert(s.packets.begin() + static_cast<std::ptrdiff_t>(i), s.packets[i]);
      s.times.insert(s.times.begin() + static_cast<std::ptrdiff_t>(i), s.times[i]);
    }
    if (copies >= 2) e["continuity_count_error"] += copies - 1;
  } else if (name == "reorder") {  // PID:N - the N-th and the next payload packet of PID swapped
    need(2);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    const std::size_t i = nth(s, pid, num(a[1])), j = nth(s, pid, num(a[1]) + 1);
    std::swap(s.packets[i], s.packets[j]);
    // k+1 after k-1 (one missing), k after k+1 (fifteen missing), k+2 after k (one missing).
    e["continuity_count_error"] += 3;
  } else if (name == "tei") {  // COUNT - transport_error_indicator on null packets
    need(1);
    auto n = nulls(s, 0.5, 1e9);
    const long count = num(a[0]);
    if (static_cast<long>(n.size()) < count) throw std::runtime_error("--tei: not enough null packets");
    for (long k = 0; k < count; ++k) s.packets[n[static_cast<std::size_t>(k) * n.size() / static_cast<std::size_t>(count)]][1] |= 0x80;
    e["transport_error"] += count;
  } else if (name == "sync") {  // AT:RUN - RUN consecutive null packets from AT s with a bad sync byte
    need(2);
    const double at = sec(a[0]);
    const long run = num(a[1]);
    for (std::size_t i = 0; i + static_cast<std::size_t>(run) < s.packets.size(); ++i) {
      if (s.times[i] < at) continue;
      bool ok = true;
      for (long k = 0; k < run + 5 && ok; ++k) ok = i + static_cast<std::size_t>(k) < s.packets.size() &&
                                                   (k >= run || pid_of(s.packets[i + static_cast<std::size_t>(k)]) == 0x1FFF);
      if (!ok) continue;
      for (long k = 0; k < run; ++k) s.packets[i + static_cast<std::size_t>(k)][0] = 0x00;
      e["sync_byte_error"] += run;
      if (run >= 2) e["ts_sync_loss"] += 1;
      return;
    }
    throw std::runtime_error("--sync: no run of null packets");
  } else if (name == "break-crc") {  // PID:N - a byte of the N-th section starting on PID
    need(2);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    long k = 0;
    for (auto& p : s.packets)
      if (pid_of(p) == pid && pusi(p) && ++k == num(a[1])) {
        p[4 + 1 + p[4] + 6] ^= 0x01;  // after the pointer field: inside the section header's extension
        e["crc_error"] += 1;
        return;
      }
    throw std::runtime_error("--break-crc: section not found");
  } else if (name == "withhold") {  // PID:FROM:DUR - never sent (stuffing instead)
    need(3);
    withhold(s, static_cast<std::uint16_t>(num(a[0])), sec(a[1]), sec(a[2]));
  } else if (name == "delay-pcr") {  // FROM:DUR - no PCR in the window
    need(2);
    const Layout l = layout(s);
    for (std::size_t i = 0; i < s.packets.size(); ++i) {
      Packet& p = s.packets[i];
      if (pid_of(p) != l.pcr_pid || !has_pcr(p) || s.times[i] < sec(a[0]) || s.times[i] >= sec(a[0]) + sec(a[1])) continue;
      // ffmpeg's adaptation fields hold the PCR and stuffing: the PCR becomes stuffing.
      p[5] &= static_cast<std::uint8_t>(~0x10);
      std::fill(p.begin() + 6, p.begin() + 12, 0xFF);
    }
  } else if (name == "jitter-pcr") {  // N:NS - the N-th PCR moved by NS nanoseconds
    need(2);
    const Layout l = layout(s);
    long k = 0;
    for (auto& p : s.packets)
      if (pid_of(p) == l.pcr_pid && has_pcr(p) && ++k == num(a[0])) {
        set_pcr(p, pcr_of(p) + std::llround(sec(a[1]) * 27e-3));
        if (std::abs(sec(a[1])) > 600) e["pcr_accuracy_error"] += 1;
        return;
      }
    throw std::runtime_error("--jitter-pcr: PCR not found");
  } else if (name == "pcr-jump") {  // AT:SECONDS - every PCR from AT on, without discontinuity_indicator
    need(2);
    const Layout l = layout(s);
    for (std::size_t i = 0; i < s.packets.size(); ++i)
      if (pid_of(s.packets[i]) == l.pcr_pid && has_pcr(s.packets[i]) && s.times[i] >= sec(a[0]))
        set_pcr(s.packets[i], pcr_of(s.packets[i]) + std::llround(sec(a[1]) * 27e6));
  } else if (name == "scramble") {  // PID:FROM:DUR - transport_scrambling_control 10
    need(3);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    const double from = sec(a[1]), to = from + sec(a[2]);
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < s.packets.size(); ++i)
      if (pid_of(s.packets[i]) == pid && has_payload(s.packets[i]) && s.times[i] >= from && s.times[i] < to) {
        s.packets[i][3] = static_cast<std::uint8_t>((s.packets[i][3] & 0x3F) | 0x80);
        idx.push_back(i);
      }
    if (idx.empty()) return;
    // 2.6 without a CAT: one at the first scrambled packet, one more per
    // second while scrambled packets keep coming (the condition ends a
    // second after the last).
    double last = s.times[idx.front()], next = last + 1.0;
    long n = 1;
    std::size_t k = 0;
    for (std::size_t i = idx.front(); i < s.packets.size(); ++i) {
      const double now = s.times[i];
      if (k < idx.size() && idx[k] == i) {
        last = now;
        ++k;
      }
      if (now - last > 1.0) break;
      while (now > next) {
        ++n;
        next += 1.0;
      }
    }
    e["cat_error"] += n;
  } else if (name == "inject-table") {  // PID:TID:AT - one section of table TID on PID (from a null packet)
    need(3);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    const auto n = nulls(s, sec(a[2]), 1e9);
    if (n.empty()) throw std::runtime_error("--inject-table: no null packet");
    unsigned cc = 0;
    for (std::size_t i = n[0]; i-- > 0;)
      if (pid_of(s.packets[i]) == pid) {
        cc = cc_of(s.packets[i]) + 1;
        break;
      }
    s.packets[n[0]] = section_packet(pid, cc, static_cast<std::uint8_t>(num(a[1])));
    renumber_after(s, n[0] + 1, pid, 15);  // every later packet of PID one further on
    const char* ind = pid == 0x00 ? "pat_error" : pid == 0x01 ? "cat_error" : pid == 0x10 ? "nit_error"
                      : pid == 0x11 ? "sdt_error" : pid == 0x12 ? "eit_error" : pid == 0x13 ? "rst_error" : "tdt_error";
    e[ind] += 1;
  } else if (name == "repeat-sdt") {  // AT - the next SDT section sent again at once, in a packet of its own
    need(1);
    // Not a duplicate packet (same CC: a decoder discards it) but the
    // section again: the copy takes the next CC and the PID's later packets
    // follow on from it.
    for (std::size_t i = 0; i < s.packets.size(); ++i)
      if (pid_of(s.packets[i]) == 0x11 && pusi(s.packets[i]) && s.times[i] >= sec(a[0])) {
        s.packets.insert(s.packets.begin() + static_cast<std::ptrdiff_t>(i) + 1, s.packets[i]);
        s.times.insert(s.times.begin() + static_cast<std::ptrdiff_t>(i) + 1, s.times[i]);
        for (std::size_t k = i + 1; k < s.packets.size(); ++k)
          if (pid_of(s.packets[k]) == 0x11) set_cc(s.packets[k], (cc_of(s.packets[k]) + 1) & 0x0F);
        e["si_repetition_error"] += 1;
        return;
      }
    throw std::runtime_error("--repeat-sdt: no SDT");
  } else if (name == "inject-pid") {  // PID:FROM:DUR - packets of a PID no PMT lists, in place of stuffing
    need(3);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    unsigned cc = 0;
    for (std::size_t i : nulls(s, sec(a[1]), sec(a[1]) + sec(a[2]))) {
      Packet p;
      p.fill(0x5A);
      p[0] = 0x47;
      p[1] = static_cast<std::uint8_t>(pid >> 8);
      p[2] = static_cast<std::uint8_t>(pid & 0xFF);
      p[3] = static_cast<std::uint8_t>(0x10 | (cc++ & 0x0F));
      s.packets[i] = p;
    }
    if (sec(a[2]) > 0.6) e["unreferenced_pid"] += 1;
  } else if (name == "shift-clock") {  // PROGRAM:SECONDS - that program's PCR, PTS and DTS moved
    need(2);
    const Layout l = layout(s, static_cast<std::uint16_t>(num(a[0])));
    const std::int64_t d27 = std::llround(sec(a[1]) * 27e6), d90 = d27 / 300;
    for (auto& p : s.packets) {
      const std::uint16_t pid = pid_of(p);
      if (std::find(l.all_pids.begin(), l.all_pids.end(), pid) == l.all_pids.end()) continue;
      if (has_pcr(p)) set_pcr(p, pcr_of(p) + d27);
      if (!pusi(p) || !has_payload(p)) continue;
      std::size_t off = 4 + ((p[3] & 0x20) ? 1 + p[4] : 0);
      if (off + 19 > 188 || p[off] != 0 || p[off + 1] != 0 || p[off + 2] != 1) continue;
      const unsigned flags = p[off + 7] >> 6;
      for (unsigned k = 0; k < (flags == 3 ? 2u : flags == 2 ? 1u : 0u); ++k) {
        std::uint8_t* t = p.data() + off + 9 + 5 * k;
        std::int64_t v = (std::int64_t{(t[0] >> 1) & 7} << 30) | (std::int64_t{t[1]} << 22) |
                         (std::int64_t{t[2] >> 1} << 15) | (std::int64_t{t[3]} << 7) | (t[4] >> 1);
        v = (v + d90) & ((std::int64_t{1} << 33) - 1);
        t[0] = static_cast<std::uint8_t>((t[0] & 0xF1) | ((v >> 29) & 0x0E));
        t[1] = static_cast<std::uint8_t>(v >> 22);
        t[2] = static_cast<std::uint8_t>(((v >> 14) & 0xFE) | 1);
        t[3] = static_cast<std::uint8_t>(v >> 7);
        t[4] = static_cast<std::uint8_t>(((v << 1) & 0xFE) | 1);
      }
    }
  } else if (name == "add-teletext") {  // PID:FROM:DUR:OFFSET - a teletext PID of the first program
    // Listed in its PMT (stream_type 0x06, teletext_descriptor), one PES per
    // 0.5 s in place of stuffing from FROM for DUR s, each stamped with the
    // program's clock at that packet plus OFFSET s: a subtitle PID that
    // starts earlier or later than the pictures, on a clock of its own.
    need(4);
    const auto pid = static_cast<std::uint16_t>(num(a[0]));
    const double from = sec(a[1]), dur = sec(a[2]), offset = sec(a[3]);
    const Layout l = layout(s, 0);
    add_to_pmt(s, l.pmt_pid, pid, 0x06, {0x56, 0x05, 'e', 'n', 'g', 0x10, 0x88});  // subtitle page 888
    std::int64_t pcr0 = -1;
    double pcr0_s = 0;
    for (std::size_t i = 0; i < s.packets.size() && pcr0 < 0; ++i)
      if (pid_of(s.packets[i]) == l.pcr_pid && has_pcr(s.packets[i])) {
        pcr0 = pcr_of(s.packets[i]);
        pcr0_s = s.times[i];
      }
    if (pcr0 < 0) throw std::runtime_error("--add-teletext: no PCR");
    unsigned cc = 0;
    double next_s = from;
    for (std::size_t i : nulls(s, from, from + dur)) {
      if (s.times[i] < next_s) continue;
      next_s = s.times[i] + 0.5;
      const std::int64_t pts = ((pcr0 / 300 + std::llround((s.times[i] - pcr0_s + offset) * 90000)) %
                                    (std::int64_t{1} << 33) + (std::int64_t{1} << 33)) % (std::int64_t{1} << 33);
      s.packets[i] = teletext_packet(pid, cc++, pts);
    }
  } else {
    throw std::runtime_error("unknown impairment --" + name);
  }
}

}  // namespace avmon::impair
