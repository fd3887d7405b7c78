// The caption decoder counts displayable characters per 608 channel and 708
// service; padding, controls, XDS and bytes of bad parity count as nothing.
#include <gtest/gtest.h>

#include "ancillary/captions.hpp"
#include "support/cc_data.hpp"

namespace avmon {
namespace {

using ancillary::CaptionDecoder;

void feed_pairs(CaptionDecoder& d, int field, const std::vector<std::vector<std::uint8_t>>& pairs) {
  for (const auto& p : pairs) {
    std::vector<std::uint8_t> cc;
    test::cc608(cc, field, p[0], p[1]);
    test::cc608_padding(cc, field == 1 ? 2 : 1);  // the other field pads
    d.feed(cc.data(), cc.size());
  }
}

TEST(CaptionDecoder, CountsCharactersPer608Channel) {
  CaptionDecoder d;
  feed_pairs(d, 1, test::cc608_rollup("HELLO WORLD", 1));  // 10 characters, 1 space
  feed_pairs(d, 1, test::cc608_rollup("BONJOUR", 2));
  feed_pairs(d, 2, test::cc608_rollup("HOLA", 3));
  feed_pairs(d, 2, test::cc608_rollup("CIAO!", 4));
  const auto& c = d.counts();
  EXPECT_EQ(c.cc_chars[0], 10u);
  EXPECT_EQ(c.cc_chars[1], 7u);
  EXPECT_EQ(c.cc_chars[2], 4u);
  EXPECT_EQ(c.cc_chars[3], 5u);
  EXPECT_EQ(c.parity_errors, 0u);
}

TEST(CaptionDecoder, PaddingAndInvalidConstructsAreNotCaptions) {
  CaptionDecoder d;
  std::vector<std::uint8_t> cc;
  for (int i = 0; i < 100; ++i) {
    test::cc608_padding(cc, 1);
    test::cc608_padding(cc, 2);
    test::cc608(cc, 1, 'A', 'B', /*valid=*/false);  // not valid: ignored whatever it says
    cc.insert(cc.end(), {0xFA, 0x00, 0x00});  // 708 padding
  }
  d.feed(cc.data(), cc.size());
  const auto& c = d.counts();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.cc_chars[static_cast<size_t>(i)], 0u);
  for (auto n : c.service_chars) EXPECT_EQ(n, 0u);
  EXPECT_EQ(c.triplets, 400u);
  EXPECT_EQ(c.valid_triplets, 200u);
}

TEST(CaptionDecoder, BadParityIsCountedAndDropped) {
  CaptionDecoder d;
  std::vector<std::uint8_t> cc = {0xFC, 0x41 /* 'A' with even parity */, 0xC2};
  d.feed(cc.data(), cc.size());
  EXPECT_EQ(d.counts().parity_errors, 1u);
  EXPECT_EQ(d.counts().cc_chars[0], 0u);
}

TEST(CaptionDecoder, TextModeAndXdsAreNotCaptionChannels) {
  CaptionDecoder d;
  feed_pairs(d, 1, {{0x14, 0x2A}, {'T', 'X'}});            // TR: text mode T1
  feed_pairs(d, 2, {{0x01, 0x03}, {'T', 'I'}, {0x0F, 0x1D}});  // an XDS programme-name packet
  feed_pairs(d, 1, {{0x14, 0x25}, {'O', 'K'}});            // RU2: back to CC1
  const auto& c = d.counts();
  EXPECT_EQ(c.text_chars[0], 2u);
  EXPECT_EQ(c.cc_chars[0], 2u);
  EXPECT_EQ(c.cc_chars[2], 0u);
  EXPECT_EQ(c.xds_bytes, 6u);
}

TEST(CaptionDecoder, SpecialAndExtendedCharactersCount) {
  CaptionDecoder d;
  // Special 0x11 0x37 (music note), transparent space 0x11 0x39 (not counted),
  // extended 0x12 0x25.
  feed_pairs(d, 1, {{0x11, 0x37}, {0x11, 0x39}, {0x12, 0x25}});
  EXPECT_EQ(d.counts().cc_chars[0], 2u);
}

TEST(CaptionDecoder, CountsCharactersPer708Service) {
  CaptionDecoder d;
  std::vector<std::uint8_t> cc;
  test::cc708_text(cc, 1, "Hello there", 0);  // 10 non-space characters
  test::cc708_text(cc, 2, "Hola", 1);
  cc.insert(cc.end(), {0xFA, 0x00, 0x00});  // an invalid construct ends the last packet
  d.feed(cc.data(), cc.size());
  const auto& c = d.counts();
  EXPECT_EQ(c.service_chars[1], 10u);
  EXPECT_EQ(c.service_chars[2], 4u);
  EXPECT_EQ(c.dtvcc_packets, 2u);
  EXPECT_EQ(c.dtvcc_errors, 0u);
}

TEST(CaptionDecoder, CommandArgumentsAreNotText) {
  CaptionDecoder d;
  // DF0 (define window) carries 6 argument bytes that look like text.
  std::string block = std::string("\x98") + "ABCDEF" + "Hi";
  std::vector<std::uint8_t> packet = {static_cast<std::uint8_t>(((block.size() + 2 + 1) / 2)),
                                      static_cast<std::uint8_t>((1 << 5) | block.size())};
  packet.insert(packet.end(), block.begin(), block.end());
  if (packet.size() % 2) packet.push_back(0);
  std::vector<std::uint8_t> cc;
  for (size_t i = 0; i < packet.size(); i += 2) cc.insert(cc.end(), {std::uint8_t(i ? 0xFE : 0xFF), packet[i], packet[i + 1]});
  d.feed(cc.data(), cc.size());
  EXPECT_EQ(d.counts().service_chars[1], 2u);
}

TEST(CaptionDecoder, A708SequenceGapIsCounted) {
  CaptionDecoder d;
  std::vector<std::uint8_t> cc;
  test::cc708_text(cc, 1, "ab", 0);
  test::cc708_text(cc, 1, "cd", 2);  // 1 is missing
  d.feed(cc.data(), cc.size());
  EXPECT_EQ(d.counts().dtvcc_errors, 1u);
  EXPECT_EQ(d.counts().service_chars[1], 4u);
}

}  // namespace
}  // namespace avmon
