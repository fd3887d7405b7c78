// SCTE-35 parser and writer: CRC, pts_adjustment modulo 2^33, encrypted
// sections, damaged input (exact messages), JSON rendering.
#include <gtest/gtest.h>

#include "ts/crc32.hpp"
#include "ancillary/scte35.hpp"

namespace avmon {
namespace {

using namespace scte35;

SpliceInfoSection insert_cue(std::uint64_t pts, std::uint64_t adjustment = 0) {
  SpliceInfoSection s;
  s.pts_adjustment = adjustment;
  SpliceInsert i;
  i.event_id = 42;
  i.out_of_network = true;
  i.program_splice = true;
  i.duration_flag = true;
  i.time = {true, pts};
  i.duration = BreakDuration{true, 30 * 90000};
  i.unique_program_id = 7;
  s.command = i;
  return s;
}

TEST(Scte35, Crc32OfMpegSections) {
  // The CRC of "123456789" in the MPEG-2 variant (CRC-32/MPEG-2 check value).
  const std::uint8_t text[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(ts::crc32_mpeg(text, sizeof text), 0x0376E6E7u);
}

TEST(Scte35, WrittenCueParsesBackWithAGoodCrc) {
  auto bytes = write(insert_cue(900000));
  auto p = parse(bytes);
  ASSERT_TRUE(p.section) << p.error;
  EXPECT_EQ(p.error, "");
  EXPECT_TRUE(p.section->crc_ok);
  EXPECT_EQ(p.section->splice_command_type, 0x05);
  EXPECT_EQ(p.section->splice_command_length, 20);
  EXPECT_EQ(p.section->section_length + 3u, bytes.size());
  const auto& i = std::get<SpliceInsert>(p.section->command);
  EXPECT_EQ(i, std::get<SpliceInsert>(insert_cue(900000).command));
}

TEST(Scte35, ACorruptedByteFailsTheCrcButStillDecodes) {
  auto bytes = write(insert_cue(900000));
  bytes[14] ^= 0x01;  // the top byte of splice_event_id
  auto p = parse(bytes);
  ASSERT_TRUE(p.section);
  EXPECT_FALSE(p.section->crc_ok);
  EXPECT_EQ(std::get<SpliceInsert>(p.section->command).event_id, 42u ^ (1u << 24));
}

TEST(Scte35, PtsAdjustmentWrapsModulo2To33) {
  const std::uint64_t near_wrap = kPtsModulus - 90000;  // 1 s before the wrap
  auto p = parse(write(insert_cue(near_wrap, 180000)));
  ASSERT_TRUE(p.section);
  EXPECT_EQ(p.section->pts_adjustment, 180000u);
  const auto& i = std::get<SpliceInsert>(p.section->command);
  EXPECT_EQ(i.time.pts, near_wrap);
  EXPECT_EQ(p.section->adjusted_pts(i.time.pts), 90000u);  // 1 s after the wrap
  // The 33-bit fields keep their top bit.
  auto q = parse(write(insert_cue(kPtsMask, kPtsMask)));
  EXPECT_EQ(std::get<SpliceInsert>(q.section->command).time.pts, kPtsMask);
  EXPECT_EQ(q.section->pts_adjustment, kPtsMask);
  EXPECT_EQ(q.section->adjusted_pts(kPtsMask), kPtsMask - 1);
}

TEST(Scte35, EncryptedSectionsKeepTheirFlagsAndStayOpaque) {
  SpliceInfoSection s;
  s.encrypted_packet = true;
  s.encryption_algorithm = 2;  // triple DES
  s.cw_index = 5;
  s.command = OpaqueCommand{0x5A, {1, 2, 3, 4, 5, 6, 7}};
  s.e_crc_32 = 0xCAFEF00D;
  auto p = parse(write(s));
  ASSERT_TRUE(p.section) << p.error;
  EXPECT_TRUE(p.section->encrypted_packet);
  EXPECT_EQ(p.section->encryption_algorithm, 2);
  EXPECT_EQ(p.section->cw_index, 5);
  EXPECT_EQ(p.section->e_crc_32, 0xCAFEF00Du);
  EXPECT_TRUE(p.section->crc_ok);
  EXPECT_EQ(std::get<OpaqueCommand>(p.section->command).data, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(p.section->descriptors.empty());
  EXPECT_EQ(to_json(*p.section)["command"], "encrypted");
}

TEST(Scte35, DamagedSectionsAreRefusedWithTheReason) {
  auto good = write(insert_cue(900000));
  EXPECT_EQ(parse(good.data(), 2).error, "section shorter than its header");
  auto wrong_table = good;
  wrong_table[0] = 0x02;
  EXPECT_EQ(parse(wrong_table).error, "table_id 0x02 is not a splice_info_section (0xFC)");
  EXPECT_EQ(parse(good.data(), good.size() - 1).error, "section_length 37 exceeds the 36 bytes that follow it");

  // A command length that points past the section.
  auto long_cmd = good;
  long_cmd[11] = 0x0F;
  long_cmd[12] = 0xF0;  // splice_command_length 0xFF0 (keeps the type byte's high nibble)
  EXPECT_EQ(parse(long_cmd).error, "splice_command_length 4080 exceeds the section");

  // A descriptor longer than its loop.
  SpliceInfoSection s = insert_cue(900000);
  s.descriptors.push_back({0, 8, kCuei, AvailDescriptor{0x1234}});
  auto with_desc = write(s);
  std::size_t loop_at = 14 + 20;  // header (14) + splice_insert (20)
  ASSERT_EQ(with_desc[loop_at + 2], 0);  // tag
  with_desc[loop_at + 3] = 40;           // descriptor_length beyond the loop
  EXPECT_EQ(parse(with_desc).error, "splice descriptor 0 (tag 0x00) is longer than the descriptor loop");

  // A splice_insert cut short by its declared length.
  SpliceInfoSection t = insert_cue(900000);
  auto bytes = write(t);
  bytes[12] = 10;  // splice_command_length 20 -> 10
  EXPECT_EQ(parse(bytes).error, "splice_insert is longer than splice_command_length 10");
}

TEST(Scte35, SegmentationDescriptorRoundTrip) {
  SpliceInfoSection s;
  s.command = TimeSignal{{true, 123456}};
  SegmentationDescriptor d;
  d.event_id = 0x10203040;
  d.program_segmentation = false;
  d.components = {{1, 100}, {2, kPtsMask}};
  d.duration_flag = true;
  d.duration = (1ull << 40) - 1;
  d.delivery_not_restricted = false;
  d.web_delivery_allowed = true;
  d.device_restrictions = 2;
  d.upid_type = 0x0F;
  d.upid = {'u', 'r', 'n', 0xFF};
  d.type_id = 0x36;
  d.segment_num = 1;
  d.segments_expected = 2;
  d.has_sub_segments = true;
  d.sub_segment_num = 3;
  d.sub_segments_expected = 4;
  s.descriptors.push_back({2, 0, kCuei, d});
  auto p = parse(write(s));
  ASSERT_TRUE(p.section) << p.error;
  ASSERT_EQ(p.section->descriptors.size(), 1u);
  EXPECT_EQ(std::get<SegmentationDescriptor>(p.section->descriptors[0].body), d);
  auto j = to_json(*p.section);
  EXPECT_EQ(j["descriptors"][0]["segmentation_type"], "Distributor Placement Opportunity Start");
  EXPECT_EQ(j["descriptors"][0]["segmentation_upid"], "75726EFF");
  EXPECT_EQ(j["time_signal"]["splice_time"]["pts_time"], 123456);
}

TEST(Scte35, JsonOfArbitraryBytesIsValidUtf8) {
  SpliceInfoSection s;
  s.command = SpliceNull{};
  s.descriptors.push_back({1, 0, kCuei, DtmfDescriptor{5, std::string("\xff\x80#\x01", 4)}});
  auto p = parse(write(s));
  ASSERT_TRUE(p.section) << p.error;
  auto text = to_json(*p.section).dump();  // throws on invalid UTF-8
  EXPECT_NE(text.find(R"(\\xFF\\x80#\\x01)"), std::string::npos) << text;
}

}  // namespace
}  // namespace avmon
