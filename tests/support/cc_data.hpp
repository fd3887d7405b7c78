// Test support: A/53 cc_data as an encoder writes it, for feeding the
// caption decoder directly or attaching to pictures before encoding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace avmon::test {

inline std::uint8_t with_parity(std::uint8_t b) {
  b &= 0x7F;
  return __builtin_parity(b) ? b : static_cast<std::uint8_t>(b | 0x80);
}

// One CEA-608 byte pair on field 1 (cc_type 0) or 2 (cc_type 1).
inline void cc608(std::vector<std::uint8_t>& out, int field, std::uint8_t b1, std::uint8_t b2, bool valid = true) {
  out.push_back(static_cast<std::uint8_t>(0xF8 | (valid ? 0x04 : 0) | (field == 2 ? 1 : 0)));
  out.push_back(with_parity(b1));
  out.push_back(with_parity(b2));
}

// 608 null padding (0x80 0x80 with parity).
inline void cc608_padding(std::vector<std::uint8_t>& out, int field = 1) { cc608(out, field, 0, 0); }

// A roll-up caption on CC1 (channel 1) or CC2 (channel 2) of field 1, or CC3/CC4
// on field 2: RU2, then the text two characters per pair.
inline std::vector<std::vector<std::uint8_t>> cc608_rollup(const std::string& text, int cc) {
  const int field = cc <= 2 ? 1 : 2;
  const std::uint8_t chan = (cc % 2 == 0) ? 0x08 : 0x00;
  const std::uint8_t misc = static_cast<std::uint8_t>((field == 1 ? 0x14 : 0x15) | chan);
  std::vector<std::vector<std::uint8_t>> pairs;
  pairs.push_back({misc, 0x25});  // RU2
  pairs.push_back({misc, 0x25});  // sent twice, as encoders do
  for (size_t i = 0; i < text.size(); i += 2)
    pairs.push_back({static_cast<std::uint8_t>(text[i]), static_cast<std::uint8_t>(i + 1 < text.size() ? text[i + 1] : 0)});
  pairs.push_back({misc, 0x2D});  // CR
  return pairs;
}

// A 708 caption channel packet carrying `text` in service `service` as one
// service block, as cc_type 3/2 constructs.
inline void cc708_text(std::vector<std::uint8_t>& out, int service, const std::string& text, int sequence = 0) {
  std::vector<std::uint8_t> block;
  block.push_back(0x80);  // CW0: current window 0 (a command, no text)
  for (char c : text) block.push_back(static_cast<std::uint8_t>(c));
  std::vector<std::uint8_t> packet;
  std::size_t size = 1 + 1 + block.size();
  if (size % 2) ++size;
  packet.push_back(static_cast<std::uint8_t>(((sequence & 3) << 6) | (size / 2)));
  packet.push_back(static_cast<std::uint8_t>((service << 5) | block.size()));
  packet.insert(packet.end(), block.begin(), block.end());
  while (packet.size() < size) packet.push_back(0);  // null block header as padding
  for (std::size_t i = 0; i < packet.size(); i += 2) {
    out.push_back(i == 0 ? 0xFF : 0xFE);
    out.push_back(packet[i]);
    out.push_back(packet[i + 1]);
  }
}

}  // namespace avmon::test
