// The teletext decoder on arbitrary PES payloads: subtitle pages or nothing,
// never a crash or a read past the buffer; every cue's text is valid UTF-8
// (the JSON dump throws if not). The input is split into PES payloads at
// 0xFF 0xFF 0xFF 0xFF, each with a rising PTS.
#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "ancillary/teletext.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  avmon::ancillary::TeletextDecoder d;
  std::int64_t pts = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= size; ++i) {
    if (i < size && !(i + 4 <= size && std::memcmp(data + i, "\xFF\xFF\xFF\xFF", 4) == 0)) continue;
    d.feed(data + start, i - start, pts += 3600);
    start = i + 4;
    i += 3;
  }
  d.flush(pts + 3600);
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : d.cues()) j.push_back(c.rows);
  (void)j.dump();
  return 0;
}
