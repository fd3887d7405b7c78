// DVB strings (ETSI EN 300 468 annex A) to UTF-8: service and provider names.
// The first byte may select a character table; the default table (ISO/IEC
// 6937) and ISO 8859-1 are mapped as Latin-1, UTF-8 (0x15) is checked, UCS-2
// (0x11) converted; control codes are dropped and anything else becomes '?',
// so the result is always valid UTF-8 whatever the input's bytes.
#pragma once

#include <cstdint>
#include <string>

namespace avmon::ts {

std::string dvb_text_to_utf8(const std::uint8_t* p, std::size_t n);

}  // namespace avmon::ts
