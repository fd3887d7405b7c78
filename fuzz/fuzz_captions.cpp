// The caption decoder on arbitrary cc_data: every byte pattern is counted or
// ignored, never a crash, a read past the buffer or a count that goes down.
// The input is split into "pictures" at 0x00 0x00 0x00 0x00 so that 708
// packets spanning pictures are exercised too.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ancillary/captions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  avmon::ancillary::CaptionDecoder d;
  std::uint64_t before = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= size; ++i) {
    const bool cut = i == size || (i + 4 <= size && std::memcmp(data + i, "\0\0\0\0", 4) == 0);
    if (!cut) continue;
    d.feed(data + start, i - start);
    const auto& c = d.counts();
    std::uint64_t total = c.parity_errors + c.triplets + c.dtvcc_packets;
    for (auto n : c.cc_chars) total += n;
    for (auto n : c.service_chars) total += n;
    if (total < before || c.valid_triplets > c.triplets) std::abort();
    before = total;
    start = i + 4;
    i += 3;
  }
  return 0;
}
