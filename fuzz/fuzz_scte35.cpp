// The SCTE-35 section parser on arbitrary bytes: a section or an error
// message, never a crash or a read out of bounds. What it decodes must
// survive the writer: parsing the written section gives the same command and
// descriptors, and the JSON rendering is valid UTF-8 (dump() throws if not).
#include <cstdint>
#include <cstdlib>

#include "ancillary/scte35.hpp"

namespace {

bool same_content(const avmon::scte35::SpliceInfoSection& a, const avmon::scte35::SpliceInfoSection& b) {
  if (!(a.command == b.command) || a.descriptors.size() != b.descriptors.size()) return false;
  for (std::size_t i = 0; i < a.descriptors.size(); ++i) {
    // descriptor_length is recomputed by the writer (bytes past the fields are dropped).
    if (a.descriptors[i].tag != b.descriptors[i].tag || a.descriptors[i].identifier != b.descriptors[i].identifier ||
        !(a.descriptors[i].body == b.descriptors[i].body))
      return false;
  }
  return a.pts_adjustment == b.pts_adjustment && a.encrypted_packet == b.encrypted_packet &&
         a.protocol_version == b.protocol_version && a.tier == b.tier && a.cw_index == b.cw_index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = avmon::scte35::parse(data, size);
  if (!parsed.section) return 0;
  (void)avmon::scte35::to_json(*parsed.section).dump();
  auto again = avmon::scte35::parse(avmon::scte35::write(*parsed.section));
  if (!again.section || !again.section->crc_ok || !same_content(*parsed.section, *again.section)) std::abort();
  return 0;
}
