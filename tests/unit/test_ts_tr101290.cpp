// TR 101 290 indicators on synthetic multiplexes (support/ts_mux.hpp): each
// impairment gives an exact count, and the clean multiplex gives none.
#include <gtest/gtest.h>

#include <cmath>

#include "support/ts_mux.hpp"
#include "ts/analyzer.hpp"
#include "ts/crc32.hpp"

namespace {

using avmon::test::Bytes;
using avmon::test::MuxSim;
using avmon::ts::Analyzer;
using avmon::ts::AnalyzerOptions;
using avmon::ts::Indicator;
using avmon::ts::TsEvent;

struct Result {
  avmon::ts::PerIndicator<std::uint64_t> counts{};
  std::vector<TsEvent> events;
  std::unique_ptr<Analyzer> analyzer;
  std::uint64_t operator[](Indicator i) const { return counts[avmon::ts::idx(i)]; }
  // Every indicator other than `expected` is zero.
  std::string others_nonzero(std::initializer_list<Indicator> expected) const {
    std::string out;
    for (std::size_t k = 0; k < avmon::ts::kIndicatorCount; ++k) {
      auto i = static_cast<Indicator>(k);
      bool listed = false;
      for (auto e : expected) listed |= e == i;
      if (!listed && counts[k]) out += std::string(avmon::ts::indicator_name(i)) + "=" + std::to_string(counts[k]) + " ";
    }
    return out;
  }
};

Result analyse(const Bytes& bytes, AnalyzerOptions opts = {}) {
  Result r;
  r.analyzer = std::make_unique<Analyzer>(opts);
  for (std::size_t i = 0; i < bytes.size(); i += 1316) r.analyzer->feed(bytes.data() + i, std::min<std::size_t>(1316, bytes.size() - i));
  r.analyzer->finish();
  r.counts = r.analyzer->counts();
  r.events = r.analyzer->take_events();
  return r;
}


TEST(Tr101290, CleanMultiplexHasNoErrorAndItsServiceIsChosen) {
  MuxSim m;
  m.run(12);
  Result r = analyse(m.out);
  EXPECT_EQ(r.others_nonzero({}), "");
  EXPECT_TRUE(r.events.empty());
  ASSERT_TRUE(r.analyzer->selected());
  EXPECT_EQ(*r.analyzer->selected(), 1);
  EXPECT_EQ(r.analyzer->services().find(1)->name, "Test One");
  EXPECT_NEAR(r.analyzer->clock_s(), 12.0, 0.01);
}

TEST(Tr101290, OneCorruptSyncByteIsASyncByteErrorTwoInARowLoseSync) {
  MuxSim m;
  m.hook = [](double t, Bytes& p, const std::string&) {
    if (std::abs(t - 1.0) < 1e-6) p[0] = 0x48;                               // one alone
    if (std::abs(t - 2.0) < 1e-6 || std::abs(t - 2.0005) < 1e-6) p[0] = 0x00;  // two in a row
    return true;
  };
  m.run(4);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::SyncByteError], 3u);
  EXPECT_EQ(r[Indicator::TsSyncLoss], 1u);
  int begins = 0, ends = 0;
  for (const auto& e : r.events)
    if (e.indicator == Indicator::TsSyncLoss) (e.state == TsEvent::State::Begin ? begins : ends)++;
  EXPECT_EQ(begins, 1);
  EXPECT_EQ(ends, 1);  // five good sync bytes later
  // The packets lost in the resync are continuity errors on the PIDs they
  // belonged to, at most one per PID: no cascade.
  EXPECT_LE(r[Indicator::ContinuityCountError], 3u);
}

TEST(Tr101290, PatWithheldCountsOneErrorPerHalfSecondAsOneLastingDefect) {
  MuxSim m;
  // PATs at 0.0, 0.1, ... 0.9, then none until 2.3: deadlines 1.4 and 1.9 pass.
  m.hook = [](double t, Bytes&, const std::string& kind) { return !(kind == "pat" && t > 0.95 && t < 2.25); };
  m.run(4);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::PatError], 2u);
  EXPECT_EQ(r.others_nonzero({Indicator::PatError}), "");
  std::vector<TsEvent::State> states;
  for (const auto& e : r.events) states.push_back(e.state);
  EXPECT_EQ(states, (std::vector<TsEvent::State>{TsEvent::State::Begin, TsEvent::State::Error, TsEvent::State::End}));
  EXPECT_NEAR(r.events[0].clock_s, 1.4, 0.01);
}

TEST(Tr101290, PatWithAnotherTableIdOrScrambledIsAPatError) {
  MuxSim m;
  m.hook = [](double t, Bytes& p, const std::string& kind) {
    if (kind != "pat") return true;
    if (std::abs(t - 1.0) < 0.01) {
      p[5] = 0x02;  // table_id 0x02 on PID 0 (CRC redone so that only the id is wrong)
      std::size_t len = 3 + (((p[6] & 0x0F) << 8) | p[7]);
      std::uint32_t crc = avmon::ts::crc32_mpeg(p.data() + 5, len - 4);
      for (int k = 0; k < 4; ++k) p[5 + len - 4 + k] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
    }
    if (std::abs(t - 2.0) < 0.01) p[3] |= 0x80;  // scrambling_control 10
    return true;
  };
  m.run(3);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::PatError], 2u);
  // A scrambled packet with no CAT in the multiplex is also a CAT error.
  EXPECT_EQ(r[Indicator::CatError], 1u);
  EXPECT_EQ(r.others_nonzero({Indicator::PatError, Indicator::CatError}), "");
}

TEST(Tr101290, ContinuityLossAndDuplicates) {
  MuxSim m;
  int audio = 0;
  Bytes held;
  MuxSim* mp = &m;
  m.hook = [&](double, Bytes& p, const std::string& kind) {
    if (kind != "audio") return true;
    ++audio;
    if (audio == 10) p.clear();  // lost: 1 error
    if (audio == 20 || audio == 30) {
      // Sent twice (legal) at 20; three times at 30 (one error).
      mp->out.insert(mp->out.end(), p.begin(), p.end());
      if (audio == 30) mp->out.insert(mp->out.end(), p.begin(), p.end());
    }
    return true;
  };
  m.run(2);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::ContinuityCountError], 2u);
  EXPECT_EQ(r.others_nonzero({Indicator::ContinuityCountError}), "");
  std::vector<std::string> what;
  for (const auto& e : r.events) what.push_back(e.what);
  EXPECT_EQ(what, (std::vector<std::string>{"missing 1 packets", "3 duplicate packets"}));
}

TEST(Tr101290, PmtWithheldAndPmtScrambled) {
  MuxSim m;
  m.hook = [](double t, Bytes& p, const std::string& kind) {
    if (kind != "pmt") return true;
    if (std::abs(t - 3.0) < 0.01) p[3] |= 0xC0;
    return !(t > 0.95 && t < 1.75);  // last at ~0.9, back at ~1.8: deadline 1.4 only
  };
  m.run(4);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::PmtError], 2u);
  EXPECT_EQ(r[Indicator::CatError], 1u);
  EXPECT_EQ(r.others_nonzero({Indicator::PmtError, Indicator::CatError}), "");
}

TEST(Tr101290, AudioPidAbsentLongerThanThePeriodIsAPidError) {
  MuxSim m;
  m.hook = [](double t, Bytes&, const std::string& kind) { return !(kind == "audio" && t > 1.0 && t < 7.5); };
  m.run(9);
  Result r = analyse(m.out);
  // Last audio at ~0.984, back at ~7.5: the 5 s deadline passed once. Its
  // PTS stopped as long: 0.7 s deadlines at 1.68 ... 7.28 (9 of them).
  EXPECT_EQ(r[Indicator::PidError], 1u);
  EXPECT_EQ(r[Indicator::PtsError], 9u);
  EXPECT_EQ(r.others_nonzero({Indicator::PidError, Indicator::PtsError}), "");
}

TEST(Tr101290, TransportErrorIndicatorIsCountedPerPacketAndNothingElse) {
  MuxSim m;
  int n = 0;
  m.hook = [&](double, Bytes& p, const std::string& kind) {
    if (kind == "null" && ++n % 500 == 0 && n <= 1500) p[1] |= 0x80;
    return true;
  };
  m.run(2);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::TransportError], 3u);
  EXPECT_EQ(r.others_nonzero({Indicator::TransportError}), "");
}

TEST(Tr101290, BrokenCrcIsACrcErrorAndTheTableIsNotUsed) {
  MuxSim m;
  m.hook = [](double t, Bytes& p, const std::string& kind) {
    if ((kind == "pat" && std::abs(t - 1.0) < 0.01) || (kind == "sdt" && std::abs(t - 1.5) < 0.01)) p[12] ^= 0x01;
    return true;
  };
  m.run(3);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::CrcError], 2u);
  EXPECT_EQ(r.others_nonzero({Indicator::CrcError}), "");
}

TEST(Tr101290, LatePcrIsARepetitionErrorUnderBothProfiles) {
  MuxSim m;
  // PCRs every 40 ms; those between 1.0 and 1.15 s are not sent: one
  // interval of 160 ms.
  m.hook = [](double t, Bytes&, const std::string& kind) { return !(kind == "pcr" && t > 1.0 && t < 1.15); };
  m.run(3);
  Result standard = analyse(m.out);
  EXPECT_EQ(standard[Indicator::PcrRepetitionError], 1u);
  EXPECT_EQ(standard[Indicator::PcrError], 1u);
  EXPECT_EQ(standard.others_nonzero({Indicator::PcrRepetitionError, Indicator::PcrError}), "");
  AnalyzerOptions legacy;
  legacy.pcr_repetition_s = 0.04;  // dvb_legacy: the 40 ms intervals themselves pass
  Result dvb = analyse(m.out, legacy);
  EXPECT_EQ(dvb[Indicator::PcrRepetitionError], 1u);
  EXPECT_EQ(dvb.others_nonzero({Indicator::PcrRepetitionError, Indicator::PcrError}), "");
}

TEST(Tr101290, PcrJumpWithoutDiscontinuityIndicatorIsA23bError) {
  for (bool indicated : {false, true}) {
    MuxSim m;
    bool first = true;
    m.hook = [&](double t, Bytes& p, const std::string& kind) {
      if (kind != "pcr" || t < 2.0) return true;
      avmon::test::PacketSpec s;
      s.pid = 0x100;
      s.cc = p[3] & 0x0F;
      s.payload = false;
      s.pcr = m.pcr_base_27m + static_cast<std::int64_t>(std::llround((t + 5.0) * 27e6));  // 5 s ahead
      s.discontinuity = indicated && first;
      first = false;
      p = avmon::test::ts_packet(s);
      return true;
    };
    m.run(3);
    Result r = analyse(m.out);
    EXPECT_EQ(r[Indicator::PcrDiscontinuityIndicatorError], indicated ? 0u : 1u) << indicated;
    EXPECT_EQ(r[Indicator::PcrError], indicated ? 0u : 1u);
    EXPECT_EQ(r[Indicator::PcrRepetitionError], 0u);
  }
}

TEST(Tr101290, PcrAccuracyAgainstTheConstantRateFit) {
  MuxSim m;
  int n = 0;
  m.hook = [&](double, Bytes& p, const std::string& kind) {
    if (kind != "pcr" || (++n != 30 && n != 45 && n != 60)) return true;
    avmon::test::PacketSpec s;
    s.pid = 0x100;
    s.cc = p[3] & 0x0F;
    s.payload = false;
    std::int64_t base = (std::int64_t{p[6]} << 25) | (std::int64_t{p[7]} << 17) | (std::int64_t{p[8]} << 9) |
                        (std::int64_t{p[9]} << 1) | (p[10] >> 7);
    s.pcr = base * 300 + (((p[10] & 1) << 8) | p[11]) + (n == 45 ? -27 : 27);  // +-1000 ns
    p = avmon::test::ts_packet(s);
    return true;
  };
  m.run(4);
  AnalyzerOptions opts;
  EXPECT_EQ(analyse(m.out, opts)[Indicator::PcrAccuracyError], 0u) << "files are not checked by default";
  opts.pcr_accuracy = AnalyzerOptions::PcrAccuracy::On;
  Result r = analyse(m.out, opts);
  EXPECT_EQ(r[Indicator::PcrAccuracyError], 3u);
  EXPECT_EQ(r.others_nonzero({Indicator::PcrAccuracyError}), "");
  EXPECT_NEAR(r.analyzer->pcr_figures().max_accuracy_ns, 1000, 100);
}

TEST(Tr101290, VideoPtsGapIsAPtsError) {
  MuxSim m;
  m.hook = [](double t, Bytes&, const std::string& kind) { return !(kind == "video" && t > 1.0 && t < 2.0); };
  m.run(3);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::PtsError], 1u);  // last PTS ~0.96 + 0.7 = 1.66 < 2.0 < 2.36
  // The video PID still carries its PCR packets: no PID error.
  EXPECT_EQ(r.others_nonzero({Indicator::PtsError}), "");
}

TEST(Tr101290, ScrambledPacketsWithoutCatAreACatErrorAndTheServiceIsScrambled) {
  MuxSim m;
  m.hook = [](double t, Bytes& p, const std::string& kind) {
    if (kind == "audio" && t > 1.0 && t < 3.55) p[3] |= 0x80;
    return true;
  };
  m.run(5);
  Result r = analyse(m.out);
  // First scrambled packet at ~1.008, then one more per second while the
  // condition lasts: until a second after the last one (~4.55).
  EXPECT_EQ(r[Indicator::CatError], 4u);
  EXPECT_EQ(r.others_nonzero({Indicator::CatError}), "");
  std::vector<std::string> scrambled;
  for (const auto& e : r.events)
    if (e.type == "scrambled") scrambled.push_back(e.state == TsEvent::State::Begin ? "begin" : "end");
  EXPECT_EQ(scrambled, (std::vector<std::string>{"begin", "end"}));
}

TEST(Tr101290, SdtRepetitionOnceSeenAndRequiredFromTheStart) {
  MuxSim m;
  m.hook = [](double t, Bytes&, const std::string& kind) { return !(kind == "sdt" && t > 1.6 && t < 4.9); };
  m.run(6);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::SdtError], 1u);  // last at 1.5, back at 5.0: deadline 3.5 passed
  EXPECT_EQ(r.others_nonzero({Indicator::SdtError}), "");

  MuxSim none;
  none.sdt = false;
  none.run(6);
  EXPECT_EQ(analyse(none.out)[Indicator::SdtError], 0u);
  AnalyzerOptions req;
  req.si_required = true;
  Result rr = analyse(none.out, req);
  EXPECT_EQ(rr[Indicator::SdtError], 2u);  // deadlines 2 and 4 s
  EXPECT_EQ(rr[Indicator::NitError], 0u);  // 10 s
  EXPECT_EQ(rr[Indicator::EitError], 2u);
  EXPECT_EQ(rr[Indicator::TdtError], 0u);  // 30 s
}

TEST(Tr101290, WrongTablesOnSiPidsAndSectionsRepeatedTooFast) {
  MuxSim m;
  unsigned cc10 = 0, cc14 = 0, cc13 = 0;
  bool nit = false, tdt = false, rst = false;
  m.hook = [&](double t, Bytes& p, const std::string& kind) {
    if (kind != "null") return true;
    auto once = [&](bool& done, double at, std::uint16_t pid, std::uint8_t tid, unsigned& cc) {
      if (done || t < at) return;
      done = true;
      p = avmon::test::section_packets(pid, avmon::test::psi_section(tid, 1, 0, {}), cc)[0];
    };
    once(nit, 1.0, 0x10, 0x50, cc10);  // EIT schedule on the NIT PID
    once(tdt, 1.5, 0x14, 0x42, cc14);  // SDT on the TDT PID
    once(rst, 1.7, 0x13, 0x4E, cc13);  // EIT on the RST PID
    return true;
  };
  m.run(2);
  // An SDT sent twice within 25 ms.
  unsigned cc11 = m.cc[0x11];
  for (int k = 0; k < 2; ++k)
    for (auto& p : avmon::test::section_packets(0x11, avmon::test::sdt_section(1, {{1, "Test One"}}), cc11))
      m.out.insert(m.out.end(), p.begin(), p.end());
  m.cc[0x11] = cc11;
  m.next["sdt"] = m.now() + 0.3;
  m.run(1);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::NitError], 1u);
  EXPECT_EQ(r[Indicator::TdtError], 1u);
  EXPECT_EQ(r[Indicator::RstError], 1u);
  EXPECT_EQ(r[Indicator::SiRepetitionError], 1u);
  EXPECT_EQ(r.others_nonzero({Indicator::NitError, Indicator::TdtError, Indicator::RstError, Indicator::SiRepetitionError}), "");
}

TEST(Tr101290, UnreferencedPidIsCountedOnce) {
  MuxSim m;
  unsigned cc = 0;
  m.hook = [&](double t, Bytes& p, const std::string& kind) {
    if (kind == "null" && t > 1.0 && t < 3.0 && static_cast<int>(t * 2000) % 50 == 0) {
      avmon::test::PacketSpec s;
      s.pid = 0x200;
      s.cc = cc++ & 0x0F;
      s.data = Bytes(184, 0x11);
      p = avmon::test::ts_packet(s);
    }
    return true;
  };
  m.run(4);
  Result r = analyse(m.out);
  EXPECT_EQ(r[Indicator::UnreferencedPid], 1u);
  EXPECT_EQ(r.others_nonzero({Indicator::UnreferencedPid}), "");
  bool on_0200 = false;
  for (const auto& e : r.events) on_0200 |= e.indicator == Indicator::UnreferencedPid && e.pid == 0x200;
  EXPECT_TRUE(on_0200);
}

TEST(Tr101290, AnIndicatorSwitchedOffIsNeitherCountedNorReported) {
  MuxSim m;
  int audio = 0;
  m.hook = [&](double, Bytes& p, const std::string& kind) {
    if (kind == "audio" && ++audio == 10) p.clear();
    return true;
  };
  m.run(2);
  AnalyzerOptions opts;
  opts.enabled[avmon::ts::idx(Indicator::ContinuityCountError)] = false;
  Result r = analyse(m.out, opts);
  EXPECT_FALSE(r.analyzer->checked(Indicator::ContinuityCountError));
  EXPECT_EQ(r[Indicator::ContinuityCountError], 0u);
  EXPECT_TRUE(r.events.empty());
}

TEST(Tr101290, IndicatorNamesAreTheStandardsInLowerCase) {
  EXPECT_EQ(avmon::ts::indicator_name(Indicator::TsSyncLoss), "ts_sync_loss");
  EXPECT_EQ(avmon::ts::indicator_name(Indicator::PcrDiscontinuityIndicatorError), "pcr_discontinuity_indicator_error");
  EXPECT_EQ(avmon::ts::indicator_number(Indicator::PcrRepetitionError), "2.3a");
  EXPECT_EQ(avmon::ts::indicator_priority(Indicator::CatError), 2);
  EXPECT_EQ(avmon::ts::indicator_priority(Indicator::UnreferencedPid), 3);
  EXPECT_EQ(avmon::ts::indicator_from_name("tdt_error"), Indicator::TdtError);
  EXPECT_FALSE(avmon::ts::indicator_from_name("tdt"));
}

}  // namespace
