// One 188-byte MPEG-TS packet (ISO/IEC 13818-1, 2.4.3): a read-only view over
// bytes owned by someone else (the tap's read buffer), so analysing a packet
// copies nothing. Accessors decode the header and adaptation field on demand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace avmon::ts {

inline constexpr std::size_t kPacketSize = 188;
inline constexpr std::uint8_t kSyncByte = 0x47;
inline constexpr std::uint16_t kPidPat = 0x0000, kPidCat = 0x0001, kPidNit = 0x0010, kPidSdt = 0x0011,
                               kPidEit = 0x0012, kPidRst = 0x0013, kPidTdt = 0x0014, kPidNull = 0x1FFF;
inline constexpr std::uint16_t kPidCount = 8192;

// PCR: 33-bit base at 90 kHz and 9-bit extension; as one 27 MHz count.
inline constexpr std::int64_t kPcrWrap27M = (std::int64_t{1} << 33) * 300;
inline constexpr std::int64_t kPtsWrap90k = std::int64_t{1} << 33;

class PacketView {
 public:
  explicit PacketView(const std::uint8_t* p) : p_(p) {}
  const std::uint8_t* data() const { return p_; }

  bool sync_ok() const { return p_[0] == kSyncByte; }
  bool transport_error() const { return p_[1] & 0x80; }
  bool payload_unit_start() const { return p_[1] & 0x40; }
  std::uint16_t pid() const { return static_cast<std::uint16_t>(((p_[1] & 0x1F) << 8) | p_[2]); }
  // 0: not scrambled; 1: reserved; 2/3: even/odd key (DVB).
  unsigned scrambling() const { return p_[3] >> 6; }
  bool has_adaptation() const { return p_[3] & 0x20; }
  bool has_payload() const { return p_[3] & 0x10; }
  unsigned cc() const { return p_[3] & 0x0F; }

  // Adaptation field length byte, 0 when there is none. A length that runs
  // past the packet is malformed: adaptation_ok() says so.
  unsigned adaptation_length() const { return has_adaptation() ? p_[4] : 0; }
  bool adaptation_ok() const {
    if (!has_adaptation()) return true;
    return has_payload() ? p_[4] <= 182 : p_[4] <= 183;
  }
  std::uint8_t adaptation_flags() const { return has_adaptation() && p_[4] > 0 ? p_[5] : 0; }
  bool discontinuity() const { return adaptation_flags() & 0x80; }
  bool random_access() const { return adaptation_flags() & 0x40; }
  bool has_pcr() const { return adaptation_ok() && (adaptation_flags() & 0x10) && p_[4] >= 7; }
  // PCR in 27 MHz units (base * 300 + extension).
  std::int64_t pcr() const {
    std::int64_t base = (std::int64_t{p_[6]} << 25) | (std::int64_t{p_[7]} << 17) | (std::int64_t{p_[8]} << 9) |
                        (std::int64_t{p_[9]} << 1) | (p_[10] >> 7);
    std::int64_t ext = ((p_[10] & 0x01) << 8) | p_[11];
    return base * 300 + ext;
  }
  // Payload bytes (none when the adaptation field is malformed).
  std::size_t payload_offset() const { return 4 + (has_adaptation() ? 1 + adaptation_length() : 0); }
  std::size_t payload_size() const {
    if (!has_payload() || !adaptation_ok()) return 0;
    std::size_t off = payload_offset();
    return off < kPacketSize ? kPacketSize - off : 0;
  }
  const std::uint8_t* payload() const { return p_ + payload_offset(); }

 private:
  const std::uint8_t* p_;
};

// Writes `pcr_27m` (taken modulo the PCR's range) into the PCR field of a
// packet whose adaptation field carries one (bytes 6-11), as pcr() reads it.
void write_pcr(std::uint8_t* packet, std::int64_t pcr_27m);

// Two packets are the same packet sent twice (ISO/IEC 13818-1 2.4.3.3: a
// duplicate) when they are identical apart from the PCR, which a
// re-multiplexer may restamp. Both must carry a payload.
bool is_duplicate(const PacketView& a, const PacketView& b);

// A PES header at the start of a payload: its PTS (90 kHz, 33 bits), if any.
std::optional<std::int64_t> pes_pts(const std::uint8_t* payload, std::size_t size);
// The DTS of a PES header, else its PTS: the one that never goes back.
std::optional<std::int64_t> pes_dts(const std::uint8_t* payload, std::size_t size);
// The PES stream_id, or -1 when the payload does not start a PES packet.
int pes_stream_id(const std::uint8_t* payload, std::size_t size);

}  // namespace avmon::ts
