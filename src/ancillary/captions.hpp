// Caption presence from ATSC A/53 cc_data (the AV_FRAME_DATA_A53_CC side data
// libavcodec attaches to decoded H.264, HEVC and MPEG-2 pictures: a run of
// 3-byte constructs, marker/cc_valid/cc_type then two data bytes).
//
// The decoder does not render captions: it counts the characters that would
// be displayed, per CEA-608 channel (CC1-CC4, and text channels T1-T4) and
// per CEA-708 service (1-63), so that "captions present" means text, not
// just a caption stream. Padding (cc_valid = 0, 608 null pairs, 708 null
// blocks), control codes, XDS packets and spaces count as nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace avmon::ancillary {

struct CaptionCounts {
  std::array<std::uint64_t, 4> cc_chars{};     // CC1..CC4 displayable characters
  std::array<std::uint64_t, 4> text_chars{};   // T1..T4 (608 text mode)
  std::array<std::uint64_t, 64> service_chars{};  // 708 services 1..63 (index = service number)
  std::uint64_t parity_errors = 0;     // 608 byte pairs with a byte of even parity (dropped)
  std::uint64_t xds_bytes = 0;         // 608 field 2 extended data service bytes
  std::uint64_t triplets = 0;          // cc constructs seen
  std::uint64_t valid_triplets = 0;    // with cc_valid set
  std::uint64_t dtvcc_packets = 0;     // complete 708 caption channel packets
  std::uint64_t dtvcc_errors = 0;      // 708 packets cut short, sequence gaps, malformed service blocks
};

class CaptionDecoder {
 public:
  // One picture's cc_data (any number of 3-byte constructs; a trailing
  // partial construct is ignored).
  void feed(const std::uint8_t* cc_data, std::size_t size);
  const CaptionCounts& counts() const { return counts_; }

 private:
  void cea608(int field, std::uint8_t b1, std::uint8_t b2);
  void cea608_char(int field, int n);
  void dtvcc_byte_pair(bool start, std::uint8_t b1, std::uint8_t b2);
  void dtvcc_packet();
  void service_block(int service, const std::uint8_t* p, std::size_t n);

  CaptionCounts counts_;
  // 608, per field: the data channel last selected by a control code (0/1),
  // text mode (TR/RTD) or caption mode, and whether an XDS packet is open.
  struct Field608 {
    int channel = 0;
    bool text_mode = false;
    bool xds = false;
  };
  std::array<Field608, 2> field_{};
  // 708: the caption channel packet being assembled.
  std::vector<std::uint8_t> packet_;
  std::size_t packet_size_ = 0;  // expected, from the packet header
  int last_sequence_ = -1;
};

// Odd parity as CEA-608 requires of every byte.
inline bool odd_parity(std::uint8_t b) { return __builtin_parity(b) == 1; }

}  // namespace avmon::ancillary
