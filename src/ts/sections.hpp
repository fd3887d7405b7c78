// PSI/SI section reassembly (ISO/IEC 13818-1 2.4.4): sections are cut into
// the payloads of one PID's packets, announced by payload_unit_start and the
// pointer_field, and may share a packet. A section that starts and ends in
// one packet is handed over in place; only sections spanning packets are
// gathered into a buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ts/packet.hpp"

namespace avmon::ts {

enum class CrcStatus { None, Ok, Bad };  // None: the section carries no CRC_32

struct Section {
  std::uint16_t pid = 0;
  const std::uint8_t* data = nullptr;  // table_id first; valid during the callback only
  std::size_t size = 0;                // 3 + section_length
  CrcStatus crc = CrcStatus::None;
  std::uint8_t table_id() const { return data[0]; }
  bool long_form() const { return data[1] & 0x80; }  // section_syntax_indicator
  // Long-form fields (only meaningful when long_form()).
  std::uint16_t table_id_extension() const { return size >= 5 ? static_cast<std::uint16_t>(data[3] << 8 | data[4]) : 0; }
  unsigned version() const { return size >= 6 ? (data[5] >> 1) & 0x1F : 0; }
  bool current() const { return size >= 6 && (data[5] & 0x01); }
  unsigned section_number() const { return size >= 7 ? data[6] : 0; }
  unsigned last_section_number() const { return size >= 8 ? data[7] : 0; }
};

// Which sections carry a CRC_32: every long-form one, plus the short-form
// TOT (0x73) and SCTE-35 splice_info_section (0xFC).
bool section_has_crc(const std::uint8_t* section);

class SectionAssembler {
 public:
  using Handler = std::function<void(const Section&)>;
  explicit SectionAssembler(std::uint16_t pid) : pid_(pid) {}

  // One packet of this PID with a payload (not scrambled, no transport error).
  void feed(const PacketView& pkt, const Handler& on_section);
  // Packets were lost or the stream jumped: forget the section in progress.
  void reset() {
    buf_.clear();
    need_ = 0;
  }
  std::uint64_t malformed() const { return malformed_; }

 private:
  // Consumes section bytes starting at `p` (a section's start); returns bytes used.
  std::size_t start_sections(const std::uint8_t* p, std::size_t n, const Handler& on_section);
  void deliver(const std::uint8_t* p, std::size_t n, const Handler& on_section);

  std::uint16_t pid_;
  std::vector<std::uint8_t> buf_;  // a section spanning packets, so far
  std::size_t need_ = 0;           // its full size (0: header not complete yet)
  std::uint64_t malformed_ = 0;
};

}  // namespace avmon::ts
