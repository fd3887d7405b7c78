// Whole PES packets for the transport layer's extensions (teletext and DVB
// subtitle pages span many TS packets): reassembled at the tap exactly as
// sent, legal duplicates skipped, nothing handed over with a hole in it;
// against a simple reference reader on TSDuck's teletext capture, and on
// synthetic packets with each impairment.
#include <gtest/gtest.h>

#include "ancillary/teletext.hpp"
#include "support/ts_build.hpp"
#include "support/ts_sections.hpp"
#include "ts/analyzer.hpp"

namespace avmon {
namespace {

using test::Bytes;
using test::PacketSpec;

struct Got {
  std::uint16_t pid;
  std::optional<std::int64_t> pts, dts;
  int stream_id;
  Bytes data;
  std::uint64_t first_packet;
};

struct Collector final : ts::PesListener {
  std::vector<Got> whole;
  int starts = 0;
  void on_pes_start(std::uint16_t, std::optional<std::int64_t>, const std::uint8_t*, std::size_t, std::uint64_t,
                    double) override {
    ++starts;
  }
  void on_pes(const ts::Pes& p) override {
    whole.push_back({p.pid, p.pts, p.dts, p.stream_id, Bytes(p.data, p.data + p.data_size), p.first_packet});
  }
};

void feed_all(ts::Analyzer& a, Bytes bytes) {
  // Null packets after the test's own: the packetizer confirms sync over
  // five packets, however short the test's sequence.
  for (int k = 0; k < 5; ++k) {
    PacketSpec null;
    null.pid = 0x1FFF;
    const Bytes n = test::ts_packet(null);
    bytes.insert(bytes.end(), n.begin(), n.end());
  }
  for (std::size_t i = 0; i < bytes.size(); i += 1316) a.feed(bytes.data() + i, std::min<std::size_t>(1316, bytes.size() - i));
  a.finish();
}

TEST(TsPes, TeletextOfTest012WholeAsTheReferenceReadsItAndDecodedToItsNineSubtitles) {
  const std::string dir = std::string(AVMON_SOURCE_DIR) + "/tests/data/tsduck/";
  const Bytes file = test::read_file_bytes(dir + "test-012.ts");
  ts::Analyzer a;
  Collector c;
  a.subscribe_pes(0x042C, &c);
  a.assemble_pes(0x042C, true);
  feed_all(a, file);

  const auto reference = test::pes_of_pid(file, 0x042C);
  ASSERT_GT(reference.size(), 100u);
  // The reference reader also gives the last PES as far as the file goes;
  // the tap hands over only complete ones.
  ASSERT_GE(c.whole.size() + 1, reference.size());
  ASSERT_LE(c.whole.size(), reference.size());
  EXPECT_EQ(a.pes_delivered(0x042C), c.whole.size());
  EXPECT_EQ(a.pes_dropped(0x042C), 0u);
  EXPECT_EQ(c.starts, static_cast<int>(reference.size()));
  for (std::size_t i = 0; i < c.whole.size(); ++i) {
    EXPECT_EQ(c.whole[i].pts, reference[i].pts) << "PES " << i;
    EXPECT_EQ(c.whole[i].data, reference[i].payload) << "PES " << i;
    EXPECT_EQ(c.whole[i].stream_id, 0xBD);  // private_stream_1
    EXPECT_EQ(c.whole[i].first_packet, reference[i].first_packet + 1);  // the analyser counts from 1
  }

  // What a teletext monitor on the extension interface gets decodes to the
  // 9 subtitles of TSDuck's test-012.srt (their text: test_teletext.cpp).
  ancillary::TeletextDecoder d;
  for (const auto& p : c.whole) d.feed(p.data.data(), p.data.size(), p.pts);
  d.flush(*c.whole.back().pts);
  EXPECT_EQ(d.cues().size(), 9u);
  EXPECT_EQ(d.hamming_errors(), 0u);
  ASSERT_FALSE(d.cues().empty());
  EXPECT_EQ(d.cues()[0].page, 889);
}

// One PES of 500 data bytes (PES_packet_length set) on PID 0x200, then the
// start of the next, in TS packets with CCs from 0.
Bytes pes_bytes(std::int64_t pts, std::size_t data_size, bool bounded, std::uint8_t seed) {
  Bytes pes = test::pes_header(0xBD, pts);
  pes.resize(14);  // 00 00 01 BD, length, flags, header length 5, PTS
  for (std::size_t i = 0; i < data_size; ++i) pes.push_back(static_cast<std::uint8_t>(seed + i * 7));
  const std::size_t length = bounded ? pes.size() - 6 : 0;
  pes[4] = static_cast<std::uint8_t>(length >> 8);
  pes[5] = static_cast<std::uint8_t>(length);
  return pes;
}

std::vector<Bytes> packetize(const Bytes& pes, unsigned& cc) {
  std::vector<Bytes> out;
  for (std::size_t at = 0; at < pes.size(); at += 184) {
    PacketSpec s;
    s.pid = 0x200;
    s.cc = cc++ & 0x0F;
    s.pusi = at == 0;
    s.data.assign(pes.begin() + static_cast<std::ptrdiff_t>(at),
                  pes.begin() + static_cast<std::ptrdiff_t>(std::min(pes.size(), at + 184)));
    out.push_back(test::ts_packet(s));
  }
  return out;
}

struct Synthetic {
  Collector c;
  std::unique_ptr<ts::Analyzer> a = std::make_unique<ts::Analyzer>();
  Synthetic() {
    a->subscribe_pes(0x200, &c);
    a->assemble_pes(0x200, true);
  }
};

Bytes data_of(const Bytes& pes) { return Bytes(pes.begin() + 14, pes.end()); }

TEST(TsPes, SpanningPacketsALegalDuplicateIsSkippedAndALossDropsOnlyThatPes) {
  // 538 data bytes: exactly three full packets (support/ts_build.cpp pads a
  // short payload with an adaptation field whose stuffing also sets its
  // flags byte, discontinuity_indicator included, which would excuse a loss).
  const Bytes one = pes_bytes(9000, 538, true, 1), two = pes_bytes(12600, 300, true, 2),
              three = pes_bytes(16200, 40, true, 3);
  unsigned cc = 0;
  auto p1 = packetize(one, cc), p2 = packetize(two, cc), p3 = packetize(three, cc);
  ASSERT_EQ(p1.size(), 3u);
  {  // As sent: three PES, each whole.
    Synthetic s;
    std::vector<Bytes> all = p1;
    all.insert(all.end(), p2.begin(), p2.end());
    all.insert(all.end(), p3.begin(), p3.end());
    feed_all(*s.a, test::join(all));
    ASSERT_EQ(s.c.whole.size(), 3u);
    EXPECT_EQ(s.c.whole[0].data, data_of(one));
    EXPECT_EQ(s.c.whole[0].pts, 9000);
    EXPECT_EQ(s.c.whole[1].data, data_of(two));
    EXPECT_EQ(s.c.whole[2].data, data_of(three));
    EXPECT_EQ(s.c.whole[2].pts, 16200);
  }
  {  // The middle packet of the first sent twice (legal): not read twice.
    Synthetic s;
    std::vector<Bytes> all = {p1[0], p1[1], p1[1], p1[2]};
    all.insert(all.end(), p2.begin(), p2.end());
    feed_all(*s.a, test::join(all));
    EXPECT_EQ(s.a->counts()[ts::idx(ts::Indicator::ContinuityCountError)], 0u);
    ASSERT_EQ(s.c.whole.size(), 2u);
    EXPECT_EQ(s.c.whole[0].data, data_of(one));
  }
  {  // The middle packet of the first lost: the first is dropped, the second whole.
    Synthetic s;
    std::vector<Bytes> all = {p1[0], p1[2]};
    all.insert(all.end(), p2.begin(), p2.end());
    feed_all(*s.a, test::join(all));
    EXPECT_EQ(s.a->counts()[ts::idx(ts::Indicator::ContinuityCountError)], 1u);
    ASSERT_EQ(s.c.whole.size(), 1u);
    EXPECT_EQ(s.c.whole[0].data, data_of(two));
    EXPECT_EQ(s.a->pes_dropped(0x200), 1u);
  }
  {  // Its last packet scrambled: dropped too.
    Synthetic s;
    Bytes scrambled = p1[2];
    scrambled[3] = static_cast<std::uint8_t>(scrambled[3] | 0x80);
    std::vector<Bytes> all = {p1[0], p1[1], scrambled};
    all.insert(all.end(), p2.begin(), p2.end());
    feed_all(*s.a, test::join(all));
    ASSERT_EQ(s.c.whole.size(), 1u);
    EXPECT_EQ(s.c.whole[0].data, data_of(two));
    EXPECT_EQ(s.a->pes_dropped(0x200), 1u);
  }
}

TEST(TsPes, AnUnboundedPesEndsAtTheNextStartOrAtTheEndOfInput) {
  const Bytes one = pes_bytes(9000, 700, false, 5), two = pes_bytes(12600, 200, false, 6);
  unsigned cc = 0;
  auto p1 = packetize(one, cc), p2 = packetize(two, cc);
  Synthetic s;
  std::vector<Bytes> all = p1;
  all.insert(all.end(), p2.begin(), p2.end());
  feed_all(*s.a, test::join(all));
  ASSERT_EQ(s.c.whole.size(), 2u);
  // Unbounded: the rest of the last packet (0xFF padding here) is its data.
  Bytes first = s.c.whole[0].data;
  ASSERT_GE(first.size(), data_of(one).size());
  EXPECT_EQ(Bytes(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(data_of(one).size())), data_of(one));
  EXPECT_EQ(s.c.whole[1].pts, 12600);  // handed over by finish()
  // Switched off, nothing more is assembled.
  s.a->assemble_pes(0x200, false);
  EXPECT_EQ(s.a->pes_delivered(0x200), 0u);
}

}  // namespace
}  // namespace avmon
