// CEA-608 and CEA-708 character counting (see captions.hpp). The 708 code
// space is walked with the argument lengths of CEA-708 7.1, so command
// arguments are never mistaken for text.
#include "ancillary/captions.hpp"

#include <algorithm>

namespace avmon::ancillary {

void CaptionDecoder::feed(const std::uint8_t* cc, std::size_t size) {
  for (std::size_t i = 0; i + 3 <= size; i += 3) {
    ++counts_.triplets;
    const std::uint8_t head = cc[i];
    const bool valid = head & 0x04;
    const int type = head & 0x03;
    if (!valid) {
      // An invalid DTVCC construct ends the packet being assembled (A/53 4.3).
      if (type >= 2 && !packet_.empty()) dtvcc_packet();
      continue;
    }
    ++counts_.valid_triplets;
    if (type < 2)
      cea608(type, cc[i + 1], cc[i + 2]);
    else
      dtvcc_byte_pair(type == 3, cc[i + 1], cc[i + 2]);
  }
}

// ---- CEA-608 ---------------------------------------------------------------

void CaptionDecoder::cea608_char(int field, int n) {
  Field608& f = field_[static_cast<size_t>(field)];
  if (f.xds) {
    counts_.xds_bytes += static_cast<std::uint64_t>(n);
    return;
  }
  const size_t ch = static_cast<size_t>(field * 2 + f.channel);  // CC1/CC2 on field 1, CC3/CC4 on field 2
  (f.text_mode ? counts_.text_chars : counts_.cc_chars)[ch] += static_cast<std::uint64_t>(n);
}

void CaptionDecoder::cea608(int field, std::uint8_t b1, std::uint8_t b2) {
  if (!odd_parity(b1) || !odd_parity(b2)) {
    ++counts_.parity_errors;
    return;
  }
  b1 &= 0x7F;
  b2 &= 0x7F;
  Field608& f = field_[static_cast<size_t>(field)];
  if (b1 == 0 && b2 == 0) return;  // padding
  if (b1 < 0x10) {
    // XDS (field 2): 0x01-0x0E open or continue a packet, 0x0F ends it (the
    // second byte is its checksum).
    if (field == 1) {
      f.xds = b1 != 0x0F;
      counts_.xds_bytes += 2;
    }
    return;
  }
  if (b1 < 0x20) {
    // A control code: selects the data channel, ends XDS.
    f.xds = false;
    f.channel = (b1 & 0x08) ? 1 : 0;
    const std::uint8_t base = b1 & 0x77;  // channel bit cleared
    if ((base == 0x11) && b2 >= 0x30 && b2 <= 0x3F) {
      // Special characters; 0x39 is the transparent space.
      if (b2 != 0x39) cea608_char(field, 1);
    } else if ((base == 0x12 || base == 0x13) && b2 >= 0x20 && b2 <= 0x3F) {
      cea608_char(field, 1);  // extended character (replaces the previous one)
    } else if ((base == 0x14 || base == 0x15) && b2 >= 0x20 && b2 <= 0x2F) {
      // Miscellaneous control codes: TR (0x2A) and RTD (0x2B) select text
      // mode; RCL, RU2-4, RDC select caption mode.
      if (b2 == 0x2A || b2 == 0x2B)
        f.text_mode = true;
      else if (b2 == 0x20 || b2 == 0x25 || b2 == 0x26 || b2 == 0x27 || b2 == 0x29)
        f.text_mode = false;
    }
    // PACs, mid-row codes, tab offsets: no character.
    return;
  }
  // Two standard characters (the second may be a null filler). Spaces do
  // not count: an encoder sending blanks is not captioning.
  int n = 0;
  if (b1 > 0x20) ++n;
  if (b2 > 0x20) ++n;
  if (n) cea608_char(field, n);
}

// ---- CEA-708 ---------------------------------------------------------------

void CaptionDecoder::dtvcc_byte_pair(bool start, std::uint8_t b1, std::uint8_t b2) {
  if (start) {
    if (!packet_.empty()) dtvcc_packet();  // the previous packet ends here
    const int sequence = b1 >> 6;
    if (last_sequence_ >= 0 && sequence != ((last_sequence_ + 1) & 3)) ++counts_.dtvcc_errors;
    last_sequence_ = sequence;
    const unsigned size_code = b1 & 0x3F;
    packet_size_ = size_code == 0 ? 128 : size_code * 2;
    packet_.assign({b1, b2});
  } else {
    if (packet_.empty()) return;  // data without a packet start: lost
    packet_.push_back(b1);
    packet_.push_back(b2);
  }
  if (packet_.size() >= packet_size_) dtvcc_packet();
}

void CaptionDecoder::dtvcc_packet() {
  if (packet_.size() < packet_size_) ++counts_.dtvcc_errors;  // cut short: parse what arrived
  ++counts_.dtvcc_packets;
  const std::size_t n = std::min(packet_.size(), packet_size_);
  std::size_t i = 1;  // after the packet header
  while (i < n) {
    const int service = packet_[i] >> 5;
    const std::size_t block = packet_[i] & 0x1F;
    ++i;
    if (service == 0) break;  // null block: the rest is padding
    int number = service;
    if (service == 7) {
      if (i >= n) {
        ++counts_.dtvcc_errors;
        break;
      }
      number = packet_[i++] & 0x3F;
    }
    if (i + block > n) {
      ++counts_.dtvcc_errors;
      break;
    }
    service_block(number, packet_.data() + i, block);
    i += block;
  }
  packet_.clear();
  packet_size_ = 0;
}

void CaptionDecoder::service_block(int service, const std::uint8_t* p, std::size_t n) {
  if (service <= 0 || service > 63) return;
  std::uint64_t chars = 0;
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = p[i++];
    if (c < 0x20) {  // C0
      if (c == 0x10) {  // EXT1: C2, G2, C3 or G3 follows
        if (i >= n) break;
        const std::uint8_t e = p[i++];
        if (e < 0x08) {
        } else if (e < 0x10) {
          i += 1;
        } else if (e < 0x18) {
          i += 2;
        } else if (e < 0x20) {
          i += 3;
        } else if (e < 0x80) {
          if (e > 0x21) ++chars;  // G2 (0x20, 0x21: transparent and non-breaking spaces)
        } else if (e < 0x88) {
          i += 4;
        } else if (e < 0x90) {
          i += 5;
        } else if (e < 0xA0) {
          if (i < n) i += 1 + (p[i] & 0x3F);  // variable-length C3 code
          else i = n;
        } else {
          ++chars;  // G3 (the [CC] icon)
        }
      } else if (c >= 0x18) {
        i += 2;
      } else if (c >= 0x11) {
        i += 1;
      }
    } else if (c < 0x80) {
      if (c > 0x20) ++chars;  // G0 (0x7F is the music note)
    } else if (c < 0xA0) {  // C1 commands and their argument bytes
      static constexpr std::uint8_t kArgs[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0,
                                                 2, 3, 2, 0, 0, 0, 0, 4, 6, 6, 6, 6, 6, 6, 6, 6};
      i += kArgs[c - 0x80];
    } else if (c > 0xA0) {
      ++chars;  // G1 (0xA0 is a non-breaking space)
    }
  }
  counts_.service_chars[static_cast<size_t>(service)] += chars;
}

}  // namespace avmon::ancillary
