#include "ts/dvb_text.hpp"

namespace avmon::ts {

namespace {

void put_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = '?';
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of a valid UTF-8 sequence at p (0 when invalid).
std::size_t utf8_len(const std::uint8_t* p, std::size_t n) {
  std::uint8_t c = p[0];
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || len > n) return 0;
  for (std::size_t i = 1; i < len; ++i)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (len == 2 && c < 0xC2) return 0;                        // overlong
  if (len == 3 && c == 0xE0 && p[1] < 0xA0) return 0;        // overlong
  if (len == 3 && c == 0xED && p[1] >= 0xA0) return 0;       // surrogate
  if (len == 4 && (c > 0xF4 || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return 0;
  return len;
}

}  // namespace

std::string dvb_text_to_utf8(const std::uint8_t* p, std::size_t n) {
  std::string out;
  if (n == 0) return out;
  enum { Latin, Utf8, Ucs2, Unknown } table = Latin;
  std::size_t i = 0;
  if (p[0] < 0x20) {
    switch (p[0]) {
      case 0x10: table = n >= 3 && p[1] == 0 && p[2] == 0x01 ? Latin : Unknown; i = 3; break;
      case 0x11: table = Ucs2; i = 1; break;
      case 0x15: table = Utf8; i = 1; break;
      case 0x1F: table = Unknown; i = 2; break;
      default: table = Unknown; i = 1; break;  // ISO 8859-5..15: ASCII only
    }
  }
  while (i < n) {
    std::uint8_t c = p[i];
    if (table == Ucs2) {
      if (i + 1 >= n) break;
      std::uint32_t cp = static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
      i += 2;
      if (cp == 0xE08A) out += '\n';
      else if (cp >= 0x20 && !(cp >= 0xE080 && cp <= 0xE09F)) put_utf8(out, cp);
      continue;
    }
    if (table == Utf8) {
      std::size_t len = utf8_len(p + i, n - i);
      if (len == 0) {
        out += '?';
        ++i;
      } else {
        if (!(len == 1 && c < 0x20)) out.append(reinterpret_cast<const char*>(p + i), len);
        i += len;
      }
      continue;
    }
    ++i;
    if (c == 0x8A) out += '\n';
    else if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) continue;  // control codes, emphasis on/off
    else if (c < 0x80) out += static_cast<char>(c);
    else if (table == Latin) put_utf8(out, c);
    else out += '?';
  }
  return out;
}

}  // namespace avmon::ts
