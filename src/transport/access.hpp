// What a media source exposes of its transport layer (MPEG-TS inputs).
#pragma once

#include <cstdint>

namespace avmon {

namespace ts {
class Analyzer;
}

// RTP inputs: the datagrams around the transport stream (all sessions).
struct RtpFigures {
  std::uint64_t packets = 0, lost = 0, out_of_order = 0, rtcp = 0, not_ts = 0;
};

struct TransportAccess {
  ts::Analyzer* analyzer = nullptr;  // null: the transport analysis is off
  const RtpFigures* rtp = nullptr;   // RTP inputs only
};

}  // namespace avmon
