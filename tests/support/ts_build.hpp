// Synthetic MPEG-TS for tests: packets with chosen header fields, adaptation
// fields and payloads; PSI sections with correct CRCs; PES headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace avmon::test {

using Bytes = std::vector<std::uint8_t>;

struct PacketSpec {
  std::uint16_t pid = 0x100;
  unsigned cc = 0;
  bool pusi = false;
  bool tei = false;
  unsigned scrambling = 0;
  bool payload = true;
  std::optional<std::int64_t> pcr;   // 27 MHz
  bool discontinuity = false;
  Bytes data;                        // payload bytes (padded with 0xFF)
  std::uint8_t fill = 0xFF;
};
Bytes ts_packet(const PacketSpec& s);

// A long-form section with its CRC_32: table_id, extension, version, body.
Bytes psi_section(std::uint8_t table_id, std::uint16_t extension, unsigned version, const Bytes& body,
                  unsigned section_number = 0, unsigned last_section_number = 0);
Bytes pat_section(std::uint16_t tsid, const std::vector<std::pair<std::uint16_t, std::uint16_t>>& programs,
                  unsigned version = 0);
struct EsSpec {
  std::uint8_t stream_type;
  std::uint16_t pid;
  Bytes descriptors;
};
Bytes pmt_section(std::uint16_t program, std::uint16_t pcr_pid, const std::vector<EsSpec>& streams,
                  unsigned version = 0, const Bytes& program_descriptors = {});
Bytes sdt_section(std::uint16_t tsid, const std::vector<std::pair<std::uint16_t, std::string>>& services);
// Packets of one section on `pid` (pointer_field 0), CC from `cc` (updated).
std::vector<Bytes> section_packets(std::uint16_t pid, const Bytes& section, unsigned& cc);
// A PES header with a PTS (and optionally DTS) followed by `fill` bytes.
Bytes pes_header(std::uint8_t stream_id, std::int64_t pts_90k, std::optional<std::int64_t> dts_90k = std::nullopt);

// Concatenates packets into one buffer.
Bytes join(const std::vector<Bytes>& packets);

}  // namespace avmon::test
