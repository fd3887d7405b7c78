// SCTE-35 through the whole binary: cues written with the section writer
// and packetised into a real capture (TSDuck's test-064: H.264 1080i on PID
// 0x100, 10 s) at known packet positions and splice times, and TSDuck's own
// SCTE-35 sections carried the same way. Pre-roll, pairing and every defect
// are checked to the millisecond in the event lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

#include "ts/crc32.hpp"
#include "ancillary/random_access.hpp"
#include "ancillary/scte35.hpp"
#include "support/run.hpp"
#include "support/ts_sections.hpp"

namespace avmon {
namespace {

constexpr int kVideo = 0x100, kCue = 0x1F0;
constexpr double kTicks = 90000.0;
// The cues' PID is not in the capture's PMT: named in the configuration.
const std::string kForced = "input:\n  scte35_pid: " + std::to_string(kCue) + "\n";

std::string data_dir() { return std::string(AVMON_SOURCE_DIR) + "/tests/data/tsduck/"; }

struct Capture {
  std::vector<std::uint8_t> ts = test::read_file_bytes(data_dir() + "test-064.ts");
  std::vector<test::Pes> video = test::pes_of_pid(ts, kVideo);

  std::size_t packets() const { return ts.size() / 188; }
  // The PTS of the last video PES that started before packet `index` (what
  // the service's clock says when a section ending there arrives).
  std::int64_t video_pts_before(std::size_t index) const {
    std::int64_t last = -1;
    for (const auto& p : video)
      if (p.first_packet < index && p.pts) last = *p.pts;
    return last;
  }
  bool random_access(const test::Pes& p) const {
    return ancillary::starts_random_access(ancillary::VideoCodec::H264, p.payload.data(),
                                           std::min<std::size_t>(p.payload.size(), 184));
  }
  // PTS of the pictures, random-access or not, in presentation order.
  std::vector<std::int64_t> pictures(bool rap) const {
    std::vector<std::int64_t> out;
    for (const auto& p : video)
      if (p.pts && random_access(p) == rap) out.push_back(*p.pts);
    std::sort(out.begin(), out.end());
    return out;
  }
};

// `cues` (packet index, section) inserted before those packets on kCue;
// the events of avmon on the result with `config` (YAML).
std::vector<nlohmann::json> run_with(const Capture& c, std::vector<std::pair<std::size_t, std::vector<std::uint8_t>>> cues,
                                     const std::string& name, const std::string& config = "",
                                     int* exit_status = nullptr) {
  std::stable_sort(cues.begin(), cues.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  int cc = 0;
  std::vector<std::uint8_t> out;
  std::size_t from = 0;
  for (const auto& [at, section] : cues) {
    out.insert(out.end(), c.ts.begin() + static_cast<long>(from * 188), c.ts.begin() + static_cast<long>(at * 188));
    auto packets = test::section_packets(section, kCue, cc);
    out.insert(out.end(), packets.begin(), packets.end());
    from = at;
  }
  out.insert(out.end(), c.ts.begin() + static_cast<long>(from * 188), c.ts.end());
  const auto dir = test::scratch_dir("scte35-" + name);
  const auto path = dir / "injected.ts";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<long>(out.size()));
  const auto cfg = dir / "avmon.yaml";
  std::ofstream(cfg) << config;
  const auto events = dir / "events.jsonl";
  auto r = test::run_avmon(path.string(), events, {"--config", cfg.string()});
  if (exit_status) *exit_status = r.exit_status;
  else EXPECT_EQ(r.exit_status, 0) << r.err;
  return test::read_events(events);
}

std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& events, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

nlohmann::json summary(const std::vector<nlohmann::json>& events) {
  auto s = of_kind(events, "stream.summary");
  return s.empty() ? nlohmann::json() : s.back();
}

double ms(double s) { return std::round(s * 1000) / 1000; }

scte35::SpliceInfoSection insert(std::uint32_t id, bool out, std::int64_t pts, std::optional<double> duration_s = {},
                                 bool auto_return = false) {
  scte35::SpliceInfoSection s;
  scte35::SpliceInsert i;
  i.event_id = id;
  i.out_of_network = out;
  i.program_splice = true;
  i.time = {true, static_cast<std::uint64_t>(pts)};
  if (duration_s) {
    i.duration_flag = true;
    i.duration = scte35::BreakDuration{auto_return, static_cast<std::uint64_t>(std::llround(*duration_s * kTicks))};
  }
  s.command = i;
  return s;
}

TEST(Scte35EndToEnd, PrerollAndPairingOnARealCapture) {
  Capture c;
  const std::size_t at_out = 4000, at_in = 8000;
  const std::int64_t out_arrival = c.video_pts_before(at_out), in_arrival = c.video_pts_before(at_in);
  ASSERT_GT(out_arrival, 0);
  const std::int64_t out_pts = out_arrival + 4 * 90000 + 4500, in_pts = in_arrival + 4 * 90000 + 9000;  // 4.050, 4.100 s ahead
  auto events = run_with(c, {{at_out, scte35::write(insert(77, true, out_pts, 30.0))},
                             {at_in, scte35::write(insert(77, false, in_pts))}},
                         "preroll", kForced + "scte35:\n  rap_tolerance_s: 10\n");
  auto cues = of_kind(events, "scte35.cue");
  ASSERT_EQ(cues.size(), 2u);
  const auto& o = cues[0]["details"];
  const auto& i = cues[1]["details"];
  EXPECT_EQ(o["preroll_s"], 4.05);
  EXPECT_EQ(i["preroll_s"], 4.1);
  EXPECT_EQ(o["arrival_pts"], out_arrival);
  EXPECT_EQ(o["splice_pts"], out_pts);
  EXPECT_EQ(o["command"], "splice_insert");
  EXPECT_EQ(o["splice_insert"]["splice_event_id"], 77);
  EXPECT_EQ(o["break"]["state"], "out");
  EXPECT_EQ(o["break"]["duration_s"], 30.0);
  EXPECT_EQ(i["break"]["state"], "in");
  EXPECT_EQ(i["break"]["paired"], true);
  // The break lasts from one splice time to the other, to the millisecond.
  EXPECT_EQ(i["break"]["length_s"], ms(static_cast<double>(in_pts - out_pts) / kTicks));
  EXPECT_NEAR(i["splice_media_time"].get<double>() - o["splice_media_time"].get<double>(),
              static_cast<double>(in_pts - out_pts) / kTicks, 0.0011);
  // A cue is reported when its section arrives, before its splice time.
  EXPECT_LT(cues[0]["media_time"].get<double>(), o["splice_media_time"].get<double>());
  EXPECT_TRUE(test::defects(events, "scte35.short_preroll").empty());
  EXPECT_TRUE(test::defects(events, "scte35.missing_return").empty());
  const auto s = summary(events)["scte35"];
  EXPECT_EQ(s["cues"], 2);
  EXPECT_EQ(s["breaks_opened"], 1);
  EXPECT_EQ(s["breaks_closed"], 1);
}

TEST(Scte35EndToEnd, ShortPrerollFromArrivalToTheSpliceTime) {
  Capture c;
  const std::size_t at = 3000;
  const std::int64_t arrival = c.video_pts_before(at);
  const std::int64_t splice = arrival + 90000 + 4500;  // 1.050 s ahead, under the default 4 s
  auto events = run_with(c, {{at, scte35::write(insert(5, true, splice, 1.0, true))}}, "short",
                         kForced + "scte35:\n  rap_tolerance_s: 10\n");
  auto cues = of_kind(events, "scte35.cue");
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(cues[0]["details"]["preroll_s"], 1.05);
  auto d = test::defects(events, "scte35.short_preroll");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].start_s, cues[0]["media_time"].get<double>());
  EXPECT_EQ(d[0].end_s, cues[0]["details"]["splice_media_time"].get<double>());
  EXPECT_EQ(d[0].start_event["detector"], "scte35");
  EXPECT_EQ(d[0].start_event["details"]["preroll_s"], 1.05);
  EXPECT_EQ(d[0].start_event["details"]["min_preroll_s"], 4.0);
  EXPECT_EQ(d[0].start_event["details"]["event_id"], 5);
  // auto_return: the break ends by itself, nothing missing.
  EXPECT_TRUE(test::defects(events, "scte35.missing_return").empty());
  EXPECT_EQ(summary(events)["scte35"]["short_prerolls"], 1);

  // The minimum is configurable: at 1 s the same cue is in time.
  events = run_with(c, {{at, scte35::write(insert(5, true, splice, 1.0, true))}}, "short-1s",
                    kForced + "scte35:\n  rap_tolerance_s: 10\n  min_preroll_s: 1\n");
  EXPECT_TRUE(test::defects(events, "scte35.short_preroll").empty());
}

TEST(Scte35EndToEnd, MissingReturnFromDurationAndToleranceToTheLateReturn) {
  Capture c;
  const std::size_t at_out = 1000, at_in = 9500;
  const std::int64_t out_pts = c.video_pts_before(at_out) + 5 * 90000;
  const std::int64_t in_pts = c.video_pts_before(at_in) + 5 * 90000;
  auto events = run_with(c, {{at_out, scte35::write(insert(9, true, out_pts - 4 * 90000, 1.5))},
                             {at_in, scte35::write(insert(9, false, in_pts - 4 * 90000))}},
                         "missing", kForced + "scte35:\n  rap_tolerance_s: 10\n  return_tolerance_s: 0.5\n");
  auto cues = of_kind(events, "scte35.cue");
  ASSERT_EQ(cues.size(), 2u);
  const double out_s = cues[0]["details"]["splice_media_time"].get<double>();
  const double in_s = cues[1]["details"]["splice_media_time"].get<double>();
  auto d = test::defects(events, "scte35.missing_return");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].start_s, ms(out_s + 1.5 + 0.5));  // duration + tolerance after the out
  EXPECT_EQ(d[0].end_s, in_s);                     // until the return
  EXPECT_EQ(d[0].start_event["details"]["event_id"], 9);
  EXPECT_EQ(d[0].start_event["details"]["duration_s"], 1.5);
  EXPECT_EQ(cues[1]["details"]["break"]["paired"], true);
  EXPECT_EQ(summary(events)["scte35"]["missing_returns"], 1);
}

TEST(Scte35EndToEnd, CrcErrorUntilTheNextGoodSection) {
  Capture c;
  const std::int64_t t0 = c.video_pts_before(2000);
  auto bad = scte35::write(insert(3, true, t0 + 6 * 90000));
  bad.back() ^= 0x01;  // CRC_32 no longer holds
  // Good cues just before the damaged section (the time of its arrival, to
  // the packet) and later (which ends the condition).
  auto events = run_with(c, {{1999, scte35::write(insert(2, true, t0 + 5 * 90000, 1.0, true))},
                             {2000, bad},
                             {6000, scte35::write(insert(4, true, t0 + 9 * 90000, 1.0, true))}},
                         "crc", kForced + "scte35:\n  rap_tolerance_s: 10\n  min_preroll_s: 0\n");
  auto cues = of_kind(events, "scte35.cue");
  ASSERT_EQ(cues.size(), 2u);  // a damaged section is not acted upon
  auto d = test::defects(events, "scte35.crc_error");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].start_event["details"]["pid"], kCue);
  EXPECT_EQ(d[0].start_event["details"]["table_id"], 0xFC);
  // (two packets later in the multiplex: under 2.5 ms at its rate)
  EXPECT_NEAR(d[0].start_s, cues[0]["media_time"].get<double>(), 0.0025);
  EXPECT_EQ(d[0].end_s, cues[1]["media_time"].get<double>());
  const auto s = summary(events)["scte35"];
  EXPECT_EQ(s["sections"], 3);
  EXPECT_EQ(s["crc_errors"], 1);
  EXPECT_EQ(s["cues"], 2);
}

TEST(Scte35EndToEnd, SpliceNotOnARandomAccessPicture) {
  Capture c;
  const auto raps = c.pictures(true), others = c.pictures(false);
  ASSERT_GE(raps.size(), 2u);
  ASSERT_FALSE(others.empty());
  // One splice on a random-access picture, one on a picture that is not.
  // Splice points well after the cues' arrival (packet 1000).
  const std::int64_t after = c.video_pts_before(1100) + 90000;
  std::int64_t on = 0, off = 0;
  for (auto p : raps)
    if (!on && p > after) on = p;
  for (auto p : others)
    if (!off && p > on + 90000) off = p;
  ASSERT_GT(on, 0);
  ASSERT_GT(off, 0);
  scte35::SpliceInfoSection ts_on, ts_off;
  ts_on.command = scte35::TimeSignal{{true, static_cast<std::uint64_t>(on)}};
  ts_off.command = scte35::TimeSignal{{true, static_cast<std::uint64_t>(off)}};
  auto events = run_with(c, {{1000, scte35::write(ts_on)}, {1100, scte35::write(ts_off)}}, "rap",
                         kForced + "scte35:\n  min_preroll_s: 0\n");
  auto cues = of_kind(events, "scte35.cue");
  ASSERT_EQ(cues.size(), 2u);
  auto d = test::defects(events, "scte35.splice_not_on_rap");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].start_event["details"]["splice_pts"], off);
  EXPECT_EQ(d[0].start_s, cues[1]["details"]["splice_media_time"].get<double>());
  EXPECT_TRUE(std::isfinite(d[0].end_s));
  const auto s = summary(events)["scte35"];
  EXPECT_EQ(s["splices_checked"], 2);
  EXPECT_EQ(s["splices_not_on_rap"], 1);
}

// TSDuck's SCTE-35 sections (every command type and descriptor) carried in
// the capture: each reaches the event lines decoded as the library decodes
// it, the decoding that matches TSDuck's line for line (test_scte35_tsduck).
TEST(Scte35EndToEnd, TsduckSectionsThroughTheBinary) {
  Capture c;
  std::vector<std::vector<std::uint8_t>> sections;
  for (const auto& [file, pid] : std::vector<std::pair<std::string, int>>{
           {"test-091.ts", 0x13}, {"test-027.pack.ts", 200}, {"test-160.pack.ts", 200}}) {
    auto s = test::sections_of_pid(test::read_file_bytes(data_dir() + file), pid);
    ASSERT_FALSE(s.empty()) << file;
    sections.insert(sections.end(), s.begin(), s.end());
  }
  ASSERT_EQ(sections.size(), 17u);
  std::vector<std::pair<std::size_t, std::vector<std::uint8_t>>> cues;
  std::vector<nlohmann::json> expected;
  std::map<std::string, int> commands;
  for (std::size_t k = 0; k < sections.size(); ++k) {
    cues.emplace_back(1000 + k * 500, sections[k]);
    auto parsed = scte35::parse(sections[k].data(), sections[k].size());
    ASSERT_TRUE(parsed.section) << k << ": " << parsed.error;
    const auto& s = *parsed.section;
    ++commands[s.encrypted_packet ? "encrypted" : scte35::command_name(s.splice_command_type)];
    if (std::holds_alternative<scte35::SpliceNull>(s.command) ||
        std::holds_alternative<scte35::BandwidthReservation>(s.command))
      continue;
    expected.push_back(scte35::to_json(s));
  }
  int status = 0;
  auto events = run_with(c, cues, "tsduck", kForced, &status);
  EXPECT_TRUE(status == 0 || status == 1) << status;
  auto got = of_kind(events, "scte35.cue");
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    nlohmann::json d = got[k]["details"];
    EXPECT_EQ(d["pid"], kCue);
    for (const auto& key : {"pid", "arrival_pts", "splice_pts", "splice_media_time", "preroll_s", "break"}) d.erase(key);
    EXPECT_EQ(d, expected[k]) << "cue " << k;
  }
  const auto s = summary(events)["scte35"];
  EXPECT_EQ(s["sections"], 17);
  EXPECT_EQ(s["crc_errors"], 0);
  EXPECT_EQ(s["malformed"], 0);
  for (const auto& [name, n] : commands) EXPECT_EQ(s["commands"][name], n) << name;
}

// The capture's PMT (PID 0x1000, one section per packet) with one more
// elementary stream: stream_type 0x86 on `pid` with the registration
// descriptor 'CUEI', as SCTE 35 announces cues.
std::vector<std::uint8_t> with_cues_in_pmt(std::vector<std::uint8_t> ts, int pid) {
  for (std::size_t off = 0; off + 188 <= ts.size(); off += 188) {
    std::uint8_t* p = &ts[off];
    if ((((p[1] & 0x1F) << 8) | p[2]) != 0x1000 || !(p[1] & 0x40) || (p[3] & 0x30) != 0x10) continue;
    std::uint8_t* sec = p + 5 + p[4];
    const std::size_t len = static_cast<std::size_t>(((sec[1] & 0x0F) << 8) | sec[2]);
    const std::uint8_t es[] = {0x86, static_cast<std::uint8_t>(0xE0 | (pid >> 8)), static_cast<std::uint8_t>(pid & 0xFF),
                               0xF0, 6, 0x05, 4, 'C', 'U', 'E', 'I'};
    const std::size_t body = 3 + len - 4;  // up to the CRC
    if (sec - p + body + sizeof es + 4 > 188) throw std::runtime_error("PMT does not fit");
    std::copy(es, es + sizeof es, sec + body);
    const std::size_t nlen = len + sizeof es;
    sec[1] = static_cast<std::uint8_t>((sec[1] & 0xF0) | (nlen >> 8));
    sec[2] = static_cast<std::uint8_t>(nlen & 0xFF);
    const std::uint32_t crc = ts::crc32_mpeg(sec, 3 + nlen - 4);
    for (int k = 0; k < 4; ++k) sec[3 + nlen - 4 + k] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));
  }
  return ts;
}

TEST(Scte35EndToEnd, PidFromThePmt) {
  Capture c;
  c.ts = with_cues_in_pmt(c.ts, kCue);
  const std::int64_t arrival = c.video_pts_before(4000);
  auto events = run_with(c, {{4000, scte35::write(insert(1, true, arrival + 5 * 90000))}}, "pmt",
                         "scte35:\n  rap_tolerance_s: 10\n");
  auto cues = of_kind(events, "scte35.cue");
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(cues[0]["details"]["pid"], kCue);
  EXPECT_EQ(cues[0]["details"]["preroll_s"], 5.0);
  // The PMT's stream is reported with the others.
  bool listed = false;
  const auto all = summary(events);
  for (const auto& pid : all["transport"]["pids"])
    listed = listed || (pid["pid"] == kCue && pid["role"] == "scte_35");
  EXPECT_TRUE(listed) << all["transport"]["pids"].dump();
}

TEST(Scte35EndToEnd, NotWatchedWhenSwitchedOff) {
  Capture c;
  const std::int64_t arrival = c.video_pts_before(4000);
  auto events = run_with(c, {{4000, scte35::write(insert(1, true, arrival + 5 * 90000))}}, "off",
                         kForced + "scte35:\n  enabled: false\n");
  EXPECT_TRUE(of_kind(events, "scte35.cue").empty());
  EXPECT_FALSE(summary(events).contains("scte35"));
}

}  // namespace
}  // namespace avmon
