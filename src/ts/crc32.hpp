// CRC-32/MPEG-2 (ISO/IEC 13818-1 annex A): polynomial 0x04C11DB7, initial
// value 0xFFFFFFFF, no reflection, no final xor. A section whose CRC_32 field
// is included in the computation gives 0 when intact.
#pragma once

#include <cstddef>
#include <cstdint>

namespace avmon::ts {

std::uint32_t crc32_mpeg(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0xFFFFFFFFu);

}  // namespace avmon::ts
