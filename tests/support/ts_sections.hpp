// Test support: PSI sections of one PID from a transport-stream file, the
// simplest way (pointer_field, sections across packets, several sections in
// one packet, stuffing). Not the monitor's section filter: a reference to
// read TSDuck's test captures with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace avmon::test {

std::vector<std::uint8_t> read_file_bytes(const std::string& path);

struct Pes {
  std::optional<std::int64_t> pts;   // 90 kHz
  std::vector<std::uint8_t> payload; // after the PES header
  std::size_t first_packet = 0;      // index of the packet that started it
};
// Complete PES packets carried on `pid`, in order (the last one as far as it goes).
std::vector<Pes> pes_of_pid(const std::vector<std::uint8_t>& ts, int pid);

// Complete sections carried on `pid`, in order.
std::vector<std::vector<std::uint8_t>> sections_of_pid(const std::vector<std::uint8_t>& ts, int pid);

// Transport packets carrying `section` on `pid` (pointer_field 0, the rest
// of the last packet stuffed with 0xFF); `cc` is the PID's continuity counter.
std::vector<std::uint8_t> section_packets(const std::vector<std::uint8_t>& section, int pid, int& cc);
// `ts` with each (packet index, section) carried on `pid` just before that
// packet of the original.
std::vector<std::uint8_t> insert_sections(const std::vector<std::uint8_t>& ts,
                                          std::vector<std::pair<std::size_t, std::vector<std::uint8_t>>> sections,
                                          int pid);

// One subtitle of a SubRip file (TSDuck's reference teletext extraction).
struct SrtCue {
  double start_s = 0, end_s = 0;
  std::vector<std::string> lines;
};
std::vector<SrtCue> read_srt(const std::string& path);

}  // namespace avmon::test
