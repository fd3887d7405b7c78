#include "ancillary/random_access.hpp"

namespace avmon::ancillary {

VideoCodec codec_of_stream_type(unsigned stream_type) {
  switch (stream_type) {
    case 0x01: case 0x02: return VideoCodec::Mpeg2;
    case 0x1B: return VideoCodec::H264;
    case 0x24: return VideoCodec::Hevc;
    default: return VideoCodec::Other;
  }
}

bool starts_random_access(VideoCodec codec, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i + 4 <= n; ++i) {
    if (p[i] != 0 || p[i + 1] != 0 || p[i + 2] != 1) continue;
    const std::uint8_t code = p[i + 3];
    switch (codec) {
      case VideoCodec::Mpeg2:
        if (code == 0xB3 || code == 0xB8) return true;  // sequence or GOP header
        if (code == 0x00 && i + 6 <= n) return ((p[i + 5] >> 3) & 0x07) == 1;  // picture_coding_type I
        break;
      case VideoCodec::H264: {
        const unsigned type = code & 0x1F;
        if (type == 5 || type == 7) return true;  // IDR slice, SPS
        if (type == 1) return false;              // a non-IDR slice first
        break;
      }
      case VideoCodec::Hevc: {
        const unsigned type = (code >> 1) & 0x3F;
        if ((type >= 16 && type <= 21) || type == 32 || type == 33) return true;  // IRAP, VPS, SPS
        if (type < 16) return false;
        break;
      }
      case VideoCodec::Other: return false;
    }
    i += 2;
  }
  return false;
}

}  // namespace avmon::ancillary
