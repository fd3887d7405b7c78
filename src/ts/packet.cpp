#include "ts/packet.hpp"

#include <cstring>

namespace avmon::ts {

bool is_duplicate(const PacketView& a, const PacketView& b) {
  if (!a.has_payload() || !b.has_payload() || a.pid() == kPidNull) return false;
  // Header and the two bytes after it (adaptation length and flags, or the
  // payload's start) must match; then everything after the PCR, if any.
  if (std::memcmp(a.data(), b.data(), 6) != 0) return false;
  const std::size_t from = a.has_pcr() ? 12 : 6;
  return std::memcmp(a.data() + from, b.data() + from, kPacketSize - from) == 0;
}

void write_pcr(std::uint8_t* p, std::int64_t v) {
  v %= kPcrWrap27M;
  if (v < 0) v += kPcrWrap27M;
  const std::int64_t base = v / 300, ext = v % 300;
  p[6] = static_cast<std::uint8_t>(base >> 25);
  p[7] = static_cast<std::uint8_t>(base >> 17);
  p[8] = static_cast<std::uint8_t>(base >> 9);
  p[9] = static_cast<std::uint8_t>(base >> 1);
  p[10] = static_cast<std::uint8_t>(((base & 1) << 7) | 0x7E | (ext >> 8));  // 6 reserved bits set
  p[11] = static_cast<std::uint8_t>(ext & 0xFF);
}

int pes_stream_id(const std::uint8_t* p, std::size_t n) {
  if (n < 6 || p[0] != 0 || p[1] != 0 || p[2] != 1) return -1;
  return p[3];
}

namespace {
std::int64_t timestamp(const std::uint8_t* t) {
  // Marker bits are not checked: a timestamp with a bad marker is still the
  // best information there is, and PTS_error is about absence, not syntax.
  return (std::int64_t{(t[0] >> 1) & 0x07} << 30) | (std::int64_t{t[1]} << 22) | (std::int64_t{t[2] >> 1} << 15) |
         (std::int64_t{t[3]} << 7) | (t[4] >> 1);
}
bool has_pes_header(int sid) {
  // Streams without the optional PES header (13818-1 table 2-21).
  return !(sid == 0xBC || sid == 0xBE || sid == 0xBF || sid == 0xF0 || sid == 0xF1 || sid == 0xFF || sid == 0xF2 ||
           sid == 0xF8);
}
}  // namespace

std::optional<std::int64_t> pes_dts(const std::uint8_t* p, std::size_t n) {
  int sid = pes_stream_id(p, n);
  if (sid < 0 || !has_pes_header(sid) || n < 14 || (p[6] & 0xC0) != 0x80) return std::nullopt;
  unsigned flags = p[7] >> 6;
  if (flags == 3 && n >= 19) return timestamp(p + 14);
  if (flags >= 2) return timestamp(p + 9);
  return std::nullopt;
}

std::optional<std::int64_t> pes_pts(const std::uint8_t* p, std::size_t n) {
  int sid = pes_stream_id(p, n);
  if (sid < 0 || !has_pes_header(sid) || n < 14 || (p[6] & 0xC0) != 0x80) return std::nullopt;
  if (!(p[7] & 0x80)) return std::nullopt;  // PTS_DTS_flags: no PTS
  return timestamp(p + 9);
}

}  // namespace avmon::ts
