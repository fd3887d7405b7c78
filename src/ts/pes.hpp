// Whole PES packets of one PID, reassembled from its transport packets for
// the code that needs more than a PES's first bytes (teletext and DVB
// subtitles carry a page in a PES that spans many packets). A PES ends where
// its PES_packet_length says, or, when that is 0 (unbounded, as for video),
// at the next payload_unit_start. A PES with a packet missing, scrambled or
// larger than kMaxSize is not handed over (it is counted as dropped): a
// subtitle decoder must not read a page with a hole in it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ts/packet.hpp"

namespace avmon::ts {

struct Pes {
  std::uint16_t pid = 0;
  int stream_id = 0;
  std::optional<std::int64_t> pts, dts;  // 90 kHz, as carried (33 bits)
  const std::uint8_t* packet = nullptr;  // the whole PES packet (00 00 01 first); valid during the callback only
  std::size_t packet_size = 0;
  const std::uint8_t* data = nullptr;    // its data bytes, after the PES header
  std::size_t data_size = 0;
  std::uint64_t first_packet = 0;        // the TS packet that started it (index as the analyser counts)
  double clock_s = 0;                    // and the multiplex clock there
};

class PesAssembler {
 public:
  static constexpr std::size_t kMaxSize = 1 << 20;
  using Handler = std::function<void(const Pes&)>;
  explicit PesAssembler(std::uint16_t pid) : pid_(pid) {}

  // One packet of this PID with a payload, neither scrambled nor with a
  // transport error, not a repeat of the previous one; `index` and
  // `clock_s` time it.
  void feed(const PacketView& pkt, std::uint64_t index, double clock_s, const Handler& on_pes);
  // Packets were lost (continuity), or one was scrambled: the PES in
  // progress is incomplete.
  void lost();
  // End of input: an unbounded PES in progress is complete as far as it goes.
  void finish(const Handler& on_pes);

  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void deliver(const Handler& on_pes);
  void drop();

  std::uint16_t pid_;
  std::vector<std::uint8_t> buf_;
  bool active_ = false;       // a PES is in progress in buf_
  std::size_t expected_ = 0;  // its full size from PES_packet_length (0: unbounded or not known yet)
  std::uint64_t first_packet_ = 0;
  double clock_s_ = 0;
  std::uint64_t delivered_ = 0, dropped_ = 0;
};

}  // namespace avmon::ts
