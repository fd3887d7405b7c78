#include "ancillary/teletext.hpp"

#include <array>

namespace avmon::ancillary {

namespace {

std::uint8_t reverse_bits(std::uint8_t b) {
  b = static_cast<std::uint8_t>((b & 0xF0) >> 4 | (b & 0x0F) << 4);
  b = static_cast<std::uint8_t>((b & 0xCC) >> 2 | (b & 0x33) << 2);
  return static_cast<std::uint8_t>((b & 0xAA) >> 1 | (b & 0x55) << 1);
}

// Hamming 8/4 (ETS 300 706 8.2): the 16 codewords; one wrong bit is
// corrected, more is an error (-1).
int unham84(std::uint8_t b) {
  static constexpr std::array<std::uint8_t, 16> kCode = {0x15, 0x02, 0x49, 0x5E, 0x64, 0x73, 0x38, 0x2F,
                                                         0xD0, 0xC7, 0x8C, 0x9B, 0xA1, 0xB6, 0xFD, 0xEA};
  for (int v = 0; v < 16; ++v)
    if (__builtin_popcount(static_cast<unsigned>(kCode[static_cast<size_t>(v)] ^ b)) <= 1) return v;
  return -1;
}

// A G0 character in UTF-8, with the national option subset of the page
// (ETS 300 706 15.2) for the languages of Western Europe; others as ASCII.
std::string character(std::uint8_t c, int national) {
  static constexpr int kPositions[13] = {0x23, 0x24, 0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E};
  // Indexed by C12 + 2 C13 + 4 C14: 0 English, 1 French, 2 Swedish/Finnish,
  // 4 German, 5 Portuguese/Spanish, 6 Italian (3, Czech/Slovak, and 7 as ASCII).
  static const char* const kSubsets[7][13] = {
      {"£", "$", "@", "←", "½", "→", "↑", "#", "—", "¼", "‖", "¾", "÷"},
      {"é", "ï", "à", "ë", "ê", "ù", "î", "#", "è", "â", "ô", "û", "ç"},
      {"#", "¤", "É", "Ä", "Ö", "Å", "Ü", "_", "é", "ä", "ö", "å", "ü"},
      {nullptr},
      {"#", "$", "§", "Ä", "Ö", "Ü", "^", "_", "°", "ä", "ö", "ü", "ß"},
      {"ç", "$", "¡", "á", "é", "í", "ó", "ú", "¿", "ü", "ñ", "è", "à"},
      {"£", "$", "é", "°", "ç", "→", "↑", "#", "ù", "à", "ò", "è", "ì"},
  };
  if (national >= 0 && national < 7 && national != 3)
    for (int k = 0; k < 13; ++k)
      if (kPositions[k] == c) return kSubsets[national][k];
  return std::string(1, static_cast<char>(c));
}

}  // namespace

void TeletextDecoder::feed(const std::uint8_t* p, std::size_t n, std::optional<std::int64_t> pts) {
  if (pts) last_pts_ = *pts;
  if (n < 1 || p[0] < 0x10 || p[0] > 0x1F) return;  // not EBU data (data_identifier 0x10-0x1F)
  std::size_t i = 1;
  while (i + 2 <= n) {
    const std::uint8_t unit_id = p[i], length = p[i + 1];
    i += 2;
    if (i + length > n) break;
    // 0x02: EBU teletext (non-subtitle), 0x03: EBU teletext subtitle; 0xFF stuffing.
    if ((unit_id == 0x02 || unit_id == 0x03) && length == 44) {
      // field/line byte, framing code, then address and 40 data bytes, all
      // sent least significant bit first.
      std::array<std::uint8_t, 42> d;
      for (std::size_t k = 0; k < 42; ++k) d[k] = reverse_bits(p[i + 2 + k]);
      if (reverse_bits(p[i + 1]) == 0x27) line(d.data(), last_pts_);
    }
    i += length;
  }
}

void TeletextDecoder::line(const std::uint8_t* d, std::int64_t pts) {
  ++packets_;
  const int a0 = unham84(d[0]), a1 = unham84(d[1]);
  if (a0 < 0 || a1 < 0) {
    ++hamming_errors_;
    return;
  }
  const int address = a0 | (a1 << 4);
  const int magazine = (address & 7) == 0 ? 8 : (address & 7);
  const int row = address >> 3;
  const std::uint8_t* data = d + 2;
  int& sending = sending_[magazine];
  if (row == 0) {
    int h[8];
    for (int k = 0; k < 8; ++k) {
      h[k] = unham84(data[k]);
      if (h[k] < 0) {
        ++hamming_errors_;
        return;
      }
    }
    const bool erase = h[3] & 0x8;     // C4: the page is cleared
    const bool subtitle = h[5] & 0x8;  // C6
    const int units = h[0], tens = h[1];
    // Page numbers with hex digits (0xFF: "no page") only end the
    // transmission of the magazine's previous page.
    sending = units <= 9 && tens <= 9 ? magazine * 100 + tens * 10 + units : -1;
    if (sending < 0) return;
    if (subtitle) ++headers_;
    Shown& page = pages_[sending];
    page.subtitle = subtitle;
    page.national = (h[7] >> 1) & 0x7;  // C12-C14
    // A page sent again without C4 stays on screen; an erased one ends
    // what was shown and starts anew from this header.
    if (erase || page.rows.empty()) {
      end_page(sending, pts);
      page.since = pts;
    }
    return;
  }
  if (row > 23 || sending < 0) return;  // enhancement packets, or no page being sent
  Shown& page = pages_[sending];
  std::string text;
  bool visible = false;
  for (int k = 0; k < 40; ++k) {
    std::uint8_t c = data[k];
    if (!__builtin_parity(c)) {  // a parity error shows as a space
      text += ' ';
      continue;
    }
    c &= 0x7F;
    if (c > 0x20 && c < 0x7F) visible = true;
    text += c < 0x20 ? std::string(" ") : character(c, page.national);
  }
  if (!visible) return;
  auto b = text.find_first_not_of(' '), e = text.find_last_not_of(' ');
  page.rows[row] = text.substr(b, e - b + 1);
}

void TeletextDecoder::end_page(int number, std::int64_t pts) {
  Shown& s = pages_[number];
  if (s.subtitle && !s.rows.empty()) {
    TeletextCue c;
    c.page = number;
    c.show_pts = s.since;
    c.hide_pts = pts;
    for (const auto& [row, text] : s.rows) c.rows.push_back(text);
    cues_.push_back(std::move(c));
  }
  s.rows.clear();
}

void TeletextDecoder::flush(std::int64_t pts) {
  for (auto& [number, s] : pages_) end_page(number, pts);
}

}  // namespace avmon::ancillary
