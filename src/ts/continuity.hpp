// 1.4 Continuity_count_error on one PID (ISO/IEC 13818-1 2.4.3.3): the
// counter goes up by one per packet with a payload and stays put without
// one; a packet may be sent twice (a duplicate: identical apart from the
// PCR), never three times; discontinuity_indicator allows any jump. After an
// error the count resumes from the packet received, so one loss is one error.
#pragma once

#include <array>
#include <cstdint>

#include "ts/packet.hpp"

namespace avmon::ts {

struct CcResult {
  enum Kind { Ok, Missing, Duplicate, IncrementWithoutPayload } kind = Ok;
  int packets = 0;  // Missing: packets lost (modulo 16); Duplicate: times the packet was sent
  // Ok: the packet is a legal duplicate of the previous one (sent twice):
  // a decoder discards it, and so do the section and PES assemblers.
  bool repeat = false;
};

class ContinuityState {
 public:
  CcResult check(const PacketView& pkt);
  void reset() { seen_ = false; }

 private:
  bool seen_ = false;
  int dup_count_ = 0;
  std::array<std::uint8_t, kPacketSize> last_{};
};

}  // namespace avmon::ts
