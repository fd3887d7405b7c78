// The analyser against TSDuck's own results on the same captures (tests/data/
// tsduck, from the TSDuck test suite): exact agreement where TSDuck counts.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "ts/analyzer.hpp"

namespace {

using avmon::ts::Analyzer;
using avmon::ts::AnalyzerOptions;
using avmon::ts::Indicator;
using avmon::ts::TsEvent;

std::string data(const std::string& name) { return std::string(AVMON_TSDUCK_DATA_DIR) + "/" + name; }

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f) << path;
  return {std::istreambuf_iterator<char>(f), {}};
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Analysis {
  std::vector<TsEvent> events;
  avmon::ts::PerIndicator<std::uint64_t> counts{};
  std::unique_ptr<Analyzer> analyzer;
};

Analysis analyse(const std::string& file, AnalyzerOptions opts = {}, std::size_t chunk = 1316) {
  Analysis r;
  r.analyzer = std::make_unique<Analyzer>(opts);
  auto bytes = read_file(data(file));
  // Fed in datagram-sized pieces: packets split across reads must not matter.
  for (std::size_t i = 0; i < bytes.size(); i += chunk)
    r.analyzer->feed(bytes.data() + i, std::min(chunk, bytes.size() - i));
  r.analyzer->finish();
  r.events = r.analyzer->take_events();
  r.counts = r.analyzer->counts();
  return r;
}

// "packet index: 9, PID: 0x007B (123), 3 duplicate packets" -> "9 123 3 duplicate packets"
std::vector<std::string> tsduck_cc_lines(const std::string& log) {
  std::vector<std::string> out;
  std::regex line(R"(packet index: (\d+), PID: 0x[0-9A-F]+ \((\d+)\), (.*))");
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) out.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str());
  }
  return out;
}

std::vector<std::string> our_cc_lines(const Analysis& r) {
  std::vector<std::string> out;
  for (const auto& e : r.events)
    if (e.indicator == Indicator::ContinuityCountError)
      out.push_back(std::to_string(e.packet) + " " + std::to_string(e.pid) + " " + e.what);
  return out;
}

TEST(TsduckContinuity, Test024TwoLossesOnPid210AsTsduckReports) {
  Analysis r = analyse("test-024.ts");
  // tsp -P continuity: "packet index: 10, PID: 0x00D2 (210), missing 3 packets" and index 20, 7 packets.
  auto expected = tsduck_cc_lines(read_text(data("test-024.tsp.1.log")));
  ASSERT_EQ(expected, (std::vector<std::string>{"10 210 missing 3 packets", "20 210 missing 7 packets"}));
  EXPECT_EQ(our_cc_lines(r), expected);
  EXPECT_EQ(r.counts[avmon::ts::idx(Indicator::ContinuityCountError)], 2u);
  // The JSON form of the same report agrees too.
  std::regex json(R"re("index": (\d+), "packets": (\d+), "pid": (\d+), "type": "missing")re");
  std::string log3 = read_text(data("test-024.tsp.3.log"));
  std::vector<std::string> from_json;
  for (std::sregex_iterator it(log3.begin(), log3.end(), json), end; it != end; ++it)
    from_json.push_back((*it)[1].str() + " " + (*it)[3].str() + " missing " + (*it)[2].str() + " packets");
  EXPECT_EQ(our_cc_lines(r), from_json);
}

TEST(TsduckContinuity, Test041DuplicatesDiscontinuityIndicatorAndIncrementWithoutPayload) {
  Analysis r = analyse("test-041.ts");
  // Three copies of a packet at index 9 are an error, two (index 8) and the
  // pair at 13/14 are legal; the jump at index 2 has discontinuity_indicator;
  // index 20 increments the counter without a payload.
  auto expected = tsduck_cc_lines(read_text(data("test-041.tsp.log")));
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(our_cc_lines(r), expected);
  EXPECT_EQ(r.counts[avmon::ts::idx(Indicator::ContinuityCountError)], 3u);
}

TEST(TsduckContinuity, Test049TrueDuplicatesAcceptedFalseOnesReported) {
  Analysis r = analyse("test-049.in.ts");
  // A repeated packet whose payload differs (index 7) or whose adaptation
  // field differs beyond the PCR (index 16) is not a duplicate: 15 missing.
  // A repeat that differs only in its PCR (index 12) is one.
  auto expected = tsduck_cc_lines(read_text(data("test-049.out.log")));
  ASSERT_EQ(expected, (std::vector<std::string>{"7 100 missing 15 packets", "16 100 missing 15 packets"}));
  EXPECT_EQ(our_cc_lines(r), expected);
}

TEST(TsduckPcr, Test064IntervalsOf100MsPassTheStandardProfileAndFailDvbLegacy) {
  // test-064.pcr.csv: TSDuck's pcrextract of the same file, every PCR of PID 0x100.
  std::istringstream csv(read_text(data("test-064.pcr.csv")));
  std::string line;
  std::getline(csv, line);  // header
  std::vector<long long> pcrs;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    ASSERT_GE(f.size(), 6u);
    if (f[0] == "256" && f[3] == "PCR") pcrs.push_back(std::stoll(f[5]));
  }
  ASSERT_EQ(pcrs.size(), 101u);
  int over_40ms = 0, over_100ms = 0;
  for (std::size_t i = 1; i < pcrs.size(); ++i) {
    over_40ms += pcrs[i] - pcrs[i - 1] > 40 * 27000;
    over_100ms += pcrs[i] - pcrs[i - 1] > 100 * 27000;
  }
  ASSERT_EQ(over_100ms, 0);  // every interval is exactly 100 ms
  ASSERT_EQ(over_40ms, 99);  // one interval of the 100 is shorter

  Analysis standard = analyse("test-064.ts");
  EXPECT_EQ(standard.counts[avmon::ts::idx(Indicator::PcrRepetitionError)], 0u);
  EXPECT_EQ(standard.counts[avmon::ts::idx(Indicator::PcrError)], 0u);
  EXPECT_EQ(standard.counts[avmon::ts::idx(Indicator::PcrDiscontinuityIndicatorError)], 0u);
  EXPECT_EQ(standard.analyzer->pcr_figures().pcrs, 101u);

  AnalyzerOptions legacy;
  legacy.pcr_repetition_s = 0.04;
  Analysis dvb = analyse("test-064.ts", legacy);
  EXPECT_EQ(dvb.counts[avmon::ts::idx(Indicator::PcrRepetitionError)], static_cast<std::uint64_t>(over_40ms));
  EXPECT_EQ(dvb.counts[avmon::ts::idx(Indicator::PcrError)], static_cast<std::uint64_t>(over_40ms));
  EXPECT_EQ(dvb.counts[avmon::ts::idx(Indicator::PcrDiscontinuityIndicatorError)], 0u);
}

TEST(TsduckPsi, Test012MissingSdtTdtAndPcrAsTsanalyzeReports) {
  // tsanalyze: "No SDT Actual", "No BAT", "No TDT", "No TOT", "No PCR, PCR
  // PID of service 0x0FA6" (PID 0x0424). BAT and TOT are optional in TR 101
  // 290; the others map to sdt_error, tdt_error and the PCR checks, counted
  // here with DVB SI required from the start.
  std::string errors = read_text(data("test-012.tsanalyze.errors.txt"));
  ASSERT_NE(errors.find("No SDT Actual"), std::string::npos);
  ASSERT_NE(errors.find("No TDT"), std::string::npos);
  ASSERT_NE(errors.find("PID:1060:0x0424: No PCR"), std::string::npos);
  AnalyzerOptions opts;
  opts.si_required = true;
  Analysis r = analyse("test-012.ts", opts);
  auto count = [&](Indicator i) { return r.counts[avmon::ts::idx(i)]; };
  EXPECT_GT(count(Indicator::SdtError), 0u);
  EXPECT_GT(count(Indicator::TdtError), 0u);
  EXPECT_GT(count(Indicator::PcrRepetitionError), 0u);
  bool pcr_on_0424 = false;
  for (const auto& e : r.events) pcr_on_0424 |= e.indicator == Indicator::PcrRepetitionError && e.pid == 0x0424;
  EXPECT_TRUE(pcr_on_0424);
  // What tsanalyze found intact is intact here too.
  EXPECT_EQ(count(Indicator::PatError), 0u);
  EXPECT_EQ(count(Indicator::PmtError), 0u);
  EXPECT_EQ(count(Indicator::ContinuityCountError), 0u);
  EXPECT_EQ(count(Indicator::CrcError), 0u);
  EXPECT_EQ(count(Indicator::TransportError), 0u);
  EXPECT_EQ(count(Indicator::SyncByteError), 0u);
  ASSERT_TRUE(r.analyzer->selected());
  EXPECT_EQ(*r.analyzer->selected(), 0x0FA6);
  // Without the DVB SI requirement (the default), absent tables are not errors.
  Analysis relaxed = analyse("test-012.ts");
  EXPECT_EQ(relaxed.counts[avmon::ts::idx(Indicator::SdtError)], 0u);
  EXPECT_EQ(relaxed.counts[avmon::ts::idx(Indicator::TdtError)], 0u);
}

TEST(TsduckScrambling, Test026ClearAndCsaScrambledService) {
  Analysis clear = analyse("test-026.ts");
  Analysis csa = analyse("test-026.csa.ts");
  // tsanalyze on the scrambled file: service 0x0101 "France 2", 4 scrambled
  // PIDs (video 0x78, audio 0x82-0x84), subtitles clear; no CAT in either.
  ASSERT_NE(read_text(data("test-026.csa.analyze.txt")).find("Scrambled: ...... 4"), std::string::npos);
  for (Analysis* r : {&clear, &csa}) {
    ASSERT_TRUE(r->analyzer->selected());
    EXPECT_EQ(*r->analyzer->selected(), 0x0101);
    const auto* svc = r->analyzer->services().find(0x0101);
    ASSERT_TRUE(svc);
    EXPECT_EQ(svc->name, "France 2");
    EXPECT_EQ(svc->provider, "GR1 A");
  }
  std::vector<std::uint16_t> scrambled;
  for (const auto& f : csa.analyzer->pid_figures())
    if (f.scrambled_packets > 0) scrambled.push_back(f.pid);
  EXPECT_EQ(scrambled, (std::vector<std::uint16_t>{0x78, 0x82, 0x83, 0x84}));
  for (const auto& f : clear.analyzer->pid_figures()) EXPECT_EQ(f.scrambled_packets, 0u) << f.pid;

  auto has = [](const Analysis& r, const std::string& type, TsEvent::State st) {
    for (const auto& e : r.events)
      if (e.type == type && e.state == st) return true;
    return false;
  };
  EXPECT_TRUE(has(csa, "scrambled", TsEvent::State::Begin));
  EXPECT_FALSE(has(clear, "scrambled", TsEvent::State::Begin));
  // 2.6: scrambled packets with no CAT in the multiplex.
  EXPECT_GT(csa.counts[avmon::ts::idx(Indicator::CatError)], 0u);
  EXPECT_EQ(clear.counts[avmon::ts::idx(Indicator::CatError)], 0u);
  // Scrambling hides PES headers: no PTS_error for it.
  EXPECT_EQ(csa.counts[avmon::ts::idx(Indicator::PtsError)], 0u);
}

}  // namespace
