// Packets, sections and tables: CRC, reassembly across packets and several
// sections in one packet, PAT/PMT/SDT parsing, DVB text, service choice.
#include <gtest/gtest.h>

#include "support/ts_build.hpp"
#include "ts/analyzer.hpp"
#include "ts/crc32.hpp"
#include "ts/dvb_text.hpp"
#include "ts/packet.hpp"
#include "ts/sections.hpp"
#include "ts/tables.hpp"

namespace {

using avmon::test::Bytes;
using namespace avmon::ts;

TEST(TsPsi, Crc32MpegOfTheCheckString) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32_mpeg(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()), 0x0376E6E7u);
  Bytes pat = avmon::test::pat_section(1, {{1, 0x100}});
  EXPECT_EQ(crc32_mpeg(pat.data(), pat.size()), 0u);  // a section including its CRC gives 0
}

TEST(TsPsi, PacketFieldsAndPcr) {
  avmon::test::PacketSpec s;
  s.pid = 0x1ABC;
  s.cc = 9;
  s.pusi = true;
  s.pcr = 1234567890123LL;
  s.discontinuity = true;
  s.scrambling = 2;
  s.data = Bytes(176, 0x01);
  Bytes p = avmon::test::ts_packet(s);
  PacketView v(p.data());
  EXPECT_EQ(v.pid(), 0x1ABC);
  EXPECT_EQ(v.cc(), 9u);
  EXPECT_TRUE(v.payload_unit_start());
  EXPECT_EQ(v.scrambling(), 2u);
  EXPECT_TRUE(v.has_pcr());
  EXPECT_EQ(v.pcr(), 1234567890123LL);
  EXPECT_TRUE(v.discontinuity());
  EXPECT_EQ(v.payload_size(), 184u - 8u);
}

TEST(TsPsi, PesTimestamps) {
  Bytes h = avmon::test::pes_header(0xE0, 8589934000LL, 8589930000LL);
  EXPECT_EQ(pes_pts(h.data(), h.size()), 8589934000LL);
  EXPECT_EQ(pes_dts(h.data(), h.size()), 8589930000LL);
  Bytes a = avmon::test::pes_header(0xC0, 90000);
  EXPECT_EQ(pes_dts(a.data(), a.size()), 90000);  // no DTS: the PTS
  Bytes junk(20, 0x11);
  EXPECT_FALSE(pes_pts(junk.data(), junk.size()));
}

struct Collect {
  std::vector<Bytes> sections;
  std::vector<CrcStatus> crc;
  SectionAssembler::Handler handler() {
    return [this](const Section& s) {
      sections.emplace_back(s.data, s.data + s.size);
      crc.push_back(s.crc);
    };
  }
};

TEST(TsPsi, ASectionSpanningPacketsIsReassembled) {
  std::vector<avmon::test::EsSpec> many;
  for (std::uint16_t k = 0; k < 40; ++k) many.push_back({0x06, static_cast<std::uint16_t>(0x200 + k), Bytes{0x0A, 4, 'e', 'n', 'g', 0}});
  Bytes pmt = avmon::test::pmt_section(7, 0x200, many);
  ASSERT_GT(pmt.size(), 184u * 2);
  unsigned cc = 0;
  auto packets = avmon::test::section_packets(0x50, pmt, cc);
  SectionAssembler a(0x50);
  Collect c;
  for (const auto& p : packets) a.feed(PacketView(p.data()), c.handler());
  ASSERT_EQ(c.sections.size(), 1u);
  EXPECT_EQ(c.sections[0], pmt);
  EXPECT_EQ(c.crc[0], CrcStatus::Ok);
  Section s{0x50, c.sections[0].data(), c.sections[0].size(), CrcStatus::Ok};
  auto parsed = parse_pmt(s);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->program_number, 7);
  EXPECT_EQ(parsed->streams.size(), 40u);
  EXPECT_EQ(parsed->streams[39].pid, 0x227);
}

TEST(TsPsi, SeveralSectionsInOnePacketAndAPointerFieldEndingTheLast) {
  Bytes a = avmon::test::pat_section(1, {{1, 0x100}});
  Bytes b = avmon::test::psi_section(0x42, 1, 0, Bytes(250, 0x20));
  // Packet 1: pointer 0, section a, then the first half of b.
  Bytes pl = {0x00};
  pl.insert(pl.end(), a.begin(), a.end());
  std::size_t first_part = 183 - a.size();
  pl.insert(pl.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(first_part));
  avmon::test::PacketSpec s1;
  s1.pid = 0x11;
  s1.pusi = true;
  s1.data = pl;
  // Packet 2: the rest of b through the pointer field, then another a.
  Bytes rest(b.begin() + static_cast<std::ptrdiff_t>(first_part), b.end());
  Bytes pl2 = {static_cast<std::uint8_t>(rest.size())};
  pl2.insert(pl2.end(), rest.begin(), rest.end());
  pl2.insert(pl2.end(), a.begin(), a.end());
  pl2.resize(184, 0xFF);
  avmon::test::PacketSpec s2 = s1;
  s2.cc = 1;
  s2.data = pl2;
  SectionAssembler asm11(0x11);
  Collect c;
  Bytes p1 = avmon::test::ts_packet(s1), p2 = avmon::test::ts_packet(s2);
  asm11.feed(PacketView(p1.data()), c.handler());
  asm11.feed(PacketView(p2.data()), c.handler());
  ASSERT_EQ(c.sections.size(), 3u);
  EXPECT_EQ(c.sections[0], a);
  EXPECT_EQ(c.sections[1], b);
  EXPECT_EQ(c.sections[2], a);
  for (auto st : c.crc) EXPECT_EQ(st, CrcStatus::Ok);
}

TEST(TsPsi, CorruptedSectionHasABadCrc) {
  Bytes pat = avmon::test::pat_section(1, {{1, 0x100}});
  pat[9] ^= 0x40;
  unsigned cc = 0;
  auto packets = avmon::test::section_packets(0, pat, cc);
  SectionAssembler a(0);
  Collect c;
  a.feed(PacketView(packets[0].data()), c.handler());
  ASSERT_EQ(c.crc.size(), 1u);
  EXPECT_EQ(c.crc[0], CrcStatus::Bad);
}

TEST(TsPsi, SdtNamesAndDvbText) {
  Bytes sdt = avmon::test::sdt_section(9, {{1, "News"}, {2, "Sport"}});
  Section s{0x11, sdt.data(), sdt.size(), CrcStatus::Ok};
  auto parsed = parse_sdt(s);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->services.size(), 2u);
  EXPECT_EQ(parsed->services[1].name, "Sport");
  EXPECT_EQ(parsed->services[1].service_id, 2);
  const std::uint8_t latin[] = {'C', 'a', 'f', 0xE9, 0x86, '!', 0x87};
  EXPECT_EQ(dvb_text_to_utf8(latin, sizeof latin), "Caf\xC3\xA9!");
  const std::uint8_t utf8_bad[] = {0x15, 'o', 'k', 0xC3, 0x28};
  EXPECT_EQ(dvb_text_to_utf8(utf8_bad, sizeof utf8_bad), "ok?(");
  const std::uint8_t ucs2[] = {0x11, 0x00, 'A', 0x04, 0x16};
  EXPECT_EQ(dvb_text_to_utf8(ucs2, sizeof ucs2), "A\xD0\x96");
}

TEST(TsPsi, StreamKindsAndCodecsFromStreamTypeAndDescriptors) {
  EXPECT_EQ(codec_name({0x1B, 0x100, {}}), "h264");
  PmtStream ac3{0x06, 0x101, {{0x6A, {}}}};
  EXPECT_EQ(codec_name(ac3), "ac3");
  EXPECT_EQ(stream_kind(ac3), StreamKind::Audio);
  PmtStream sub{0x06, 0x102, {{0x59, {'f', 'r', 'a', 0x10, 0, 1, 0, 1}}}};
  EXPECT_EQ(stream_kind(sub), StreamKind::Subtitles);
  EXPECT_EQ(language(sub.descriptors), "fra");
  PmtStream cue{0x86, 0x103, {{0x05, {'C', 'U', 'E', 'I'}}}};
  EXPECT_EQ(stream_kind(cue), StreamKind::Scte35);
  EXPECT_EQ(registration(cue.descriptors), 0x43554549u);
}

// A multiplex of three programs: 1 audio only, 2 "Sport" with video, 3 "News" with video.
Bytes three_programs() {
  std::vector<Bytes> pk;
  unsigned c0 = 0, c1 = 0, c2 = 0, c3 = 0, c11 = 0;
  for (auto& p : avmon::test::section_packets(0, avmon::test::pat_section(5, {{1, 0x1001}, {2, 0x1002}, {3, 0x1003}}), c0)) pk.push_back(p);
  for (auto& p : avmon::test::section_packets(0x1001, avmon::test::pmt_section(1, 0x201, {{0x03, 0x201, {}}}), c1)) pk.push_back(p);
  for (auto& p : avmon::test::section_packets(0x1002, avmon::test::pmt_section(2, 0x301, {{0x02, 0x301, {}}, {0x03, 0x302, {}}}), c2)) pk.push_back(p);
  for (auto& p : avmon::test::section_packets(0x1003, avmon::test::pmt_section(3, 0x401, {{0x1B, 0x401, {}}}), c3)) pk.push_back(p);
  for (auto& p : avmon::test::section_packets(0x11, avmon::test::sdt_section(5, {{1, "Radio"}, {2, "Sport"}, {3, "News"}}), c11)) pk.push_back(p);
  return avmon::test::join(pk);
}

std::optional<std::uint16_t> choose(const std::string& spec) {
  AnalyzerOptions o;
  o.service.spec = spec;
  Analyzer a(o);
  Bytes b = three_programs();
  a.feed(b.data(), b.size());
  a.finish();
  return a.selected();
}

TEST(TsServices, DefaultIsTheFirstServiceWithVideoInPatOrder) { EXPECT_EQ(choose(""), 2); }
TEST(TsServices, ByProgramNumber) { EXPECT_EQ(choose("3"), 3); }
TEST(TsServices, ByServiceNameIgnoringCase) {
  EXPECT_EQ(choose("news"), 3);
  EXPECT_EQ(choose("Radio"), 1);
}
TEST(TsServices, UnknownChoiceSelectsNothing) {
  EXPECT_FALSE(choose("9"));
  EXPECT_FALSE(choose("Weather"));
  AnalyzerOptions o;
  Analyzer a(o);
  Bytes b = three_programs();
  a.feed(b.data(), b.size());
  a.finish();
  EXPECT_EQ(a.services().describe(), "1 (Radio), 2 (Sport), 3 (News)");
}

}  // namespace
