// The CRC-32 of MPEG-2 PSI and SCTE-35 sections (polynomial 0x04C11DB7, no
// reflection, initial value 0xFFFFFFFF, no final XOR). Run over a whole
// section including its CRC field, it gives 0 when the section is intact.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace avmon::ancillary {

inline std::uint32_t crc32_mpeg(const std::uint8_t* data, std::size_t size) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i << 24;
      for (int k = 0; k < 8; ++k) c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) crc = (crc << 8) ^ table[((crc >> 24) ^ data[i]) & 0xFFu];
  return crc;
}

}  // namespace avmon::ancillary
