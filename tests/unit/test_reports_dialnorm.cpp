// The loudness log's two outside inputs: the AC-3 / E-AC-3 syncframe parser
// on frames the ffmpeg CLI encoded with a known -dialnorm (and on damaged
// and synthetic ones), and segments that end at SCTE-35 splice points.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "reports/ac3_bsi.hpp"
#include "reports/loudness_segments.hpp"
#include "reports/taps.hpp"
#include "support/media.hpp"
#include "support/run.hpp"
#include "support/ts_sections.hpp"

namespace avmon::reports {
namespace {

struct Encoded {
  std::vector<Ac3Frame> frames;
  std::size_t bytes = 0;
};

// Encodes 0.5 s of a sine with `args` (codec, channels, rate, -dialnorm...)
// and parses the raw elementary stream frame by frame.
Encoded encode_and_parse(const std::string& name, const std::vector<std::string>& args) {
  const auto dir = test::scratch_dir("ac3_" + name);
  const auto out = (dir / name).string();
  std::vector<std::string> a = {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=0.5"};
  a.insert(a.end(), args.begin(), args.end());
  a.push_back(out);
  test::ffmpeg(a);
  const auto data = test::read_file_bytes(out);
  Encoded e;
  e.bytes = data.size();
  std::size_t pos = 0;
  while (pos < data.size()) {
    const Ac3Parse p = parse_ac3_frame(data.data() + pos, data.size() - pos);
    if (!p.frame) {
      ADD_FAILURE() << name << ": " << ac3_error_name(p.error) << " at byte " << pos;
      break;
    }
    e.frames.push_back(*p.frame);
    pos += p.frame->frame_bytes;
  }
  return e;
}

TEST(Ac3Dialnorm, ReadsWhatTheEncoderWasTold) {
  struct Case {
    std::string name;
    std::vector<std::string> args;
    bool eac3;
    int dialnorm_db, acmod, rate_hz;
    bool lfe;
    std::size_t frame_bytes;
  };
  const Case cases[] = {
      // 192 kbit/s at 48 kHz: 1536 samples in 768 bytes.
      {"stereo.ac3", {"-ac", "2", "-c:a", "ac3", "-b:a", "192k", "-dialnorm", "-27", "-f", "ac3"}, false, -27, 2, 48000, false, 768},
      {"surround.ac3", {"-ac", "6", "-c:a", "ac3", "-b:a", "384k", "-dialnorm", "-12", "-f", "ac3"}, false, -12, 7, 48000, true, 1536},
      // 44.1 kHz frames alternate 278 and 280 bytes (a padding word).
      {"mono44.ac3", {"-ac", "1", "-ar", "44100", "-c:a", "ac3", "-b:a", "64k", "-dialnorm", "-31", "-f", "ac3"}, false, -31, 1, 44100, false, 0},
      {"stereo.eac3", {"-ac", "2", "-c:a", "eac3", "-b:a", "96k", "-dialnorm", "-20", "-f", "eac3"}, true, -20, 2, 48000, false, 384},
      {"surround.eac3", {"-ac", "6", "-c:a", "eac3", "-b:a", "256k", "-dialnorm", "-1", "-f", "eac3"}, true, -1, 7, 48000, true, 1024},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Encoded e = encode_and_parse(c.name, c.args);
    ASSERT_GE(e.frames.size(), 5u);
    std::size_t sum = 0;
    for (const auto& f : e.frames) {
      EXPECT_EQ(f.eac3, c.eac3);
      EXPECT_EQ(f.bsid, c.eac3 ? 16 : 8);
      EXPECT_EQ(f.dialnorm_db, c.dialnorm_db);
      EXPECT_EQ(f.acmod, c.acmod);
      EXPECT_EQ(f.lfe, c.lfe);
      EXPECT_EQ(f.sample_rate_hz, c.rate_hz);
      EXPECT_EQ(f.blocks, 6);
      EXPECT_EQ(f.stream_type, 0);
      EXPECT_EQ(f.substream_id, 0);
      if (c.frame_bytes) EXPECT_EQ(f.frame_bytes, c.frame_bytes);
      else EXPECT_TRUE(f.frame_bytes == 278 || f.frame_bytes == 280) << f.frame_bytes;
      sum += f.frame_bytes;
    }
    EXPECT_EQ(sum, e.bytes);  // the sizes account for every byte: each frame was found where the last ended
  }
}

// A frame with its CRC word recomputed after an edit (x^16 + x^15 + x^2 + 1,
// MSB first, over everything after the syncword).
void reseal(std::vector<std::uint8_t>& f) {
  unsigned crc = 0;
  for (std::size_t i = 2; i + 2 < f.size(); ++i) {
    crc ^= static_cast<unsigned>(f[i]) << 8;
    for (int k = 0; k < 8; ++k) crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x8005u) & 0xFFFFu : (crc << 1) & 0xFFFFu;
  }
  f[f.size() - 2] = static_cast<std::uint8_t>(crc >> 8);
  f[f.size() - 1] = static_cast<std::uint8_t>(crc & 0xFF);
}

TEST(Ac3Dialnorm, DamagedFramesAreNotBelievedAndPacketsPickTheProgramme) {
  const auto dir = test::scratch_dir("ac3_damage");
  const auto path = (dir / "x.eac3").string();
  test::ffmpeg({"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=0.1", "-ac", "2", "-c:a", "eac3",
                "-b:a", "96k", "-dialnorm", "-20", "-f", "eac3", path});
  const auto data = test::read_file_bytes(path);
  ASSERT_GE(data.size(), 384u);
  const std::vector<std::uint8_t> frame(data.begin(), data.begin() + 384);
  ASSERT_TRUE(parse_ac3_frame(frame.data(), frame.size()).frame);

  auto damaged = frame;
  damaged[200] ^= 0x10;
  EXPECT_EQ(parse_ac3_frame(damaged.data(), damaged.size()).error, Ac3Error::Crc);
  EXPECT_EQ(parse_ac3_frame(frame.data(), 383).error, Ac3Error::Truncated);
  EXPECT_EQ(parse_ac3_frame(frame.data(), 7).error, Ac3Error::TooShort);
  EXPECT_EQ(parse_ac3_frame(frame.data() + 1, 383).error, Ac3Error::NoSync);
  EXPECT_FALSE(packet_dialnorm_db(damaged.data(), damaged.size()));

  // The same frame as a dependent substream (strmtyp 1) with dialnorm -5,
  // and as independent substream 1 with -9: neither is the programme.
  auto dependent = frame;
  dependent[2] = static_cast<std::uint8_t>((dependent[2] & 0x3F) | 0x40);  // strmtyp 01
  dependent[5] = static_cast<std::uint8_t>((dependent[5] & 0xF8) | (5 >> 2));
  dependent[6] = static_cast<std::uint8_t>((dependent[6] & 0x3F) | ((5 & 3) << 6));
  reseal(dependent);
  const auto dep = parse_ac3_frame(dependent.data(), dependent.size());
  ASSERT_TRUE(dep.frame) << ac3_error_name(dep.error);
  EXPECT_EQ(dep.frame->stream_type, 1);
  EXPECT_EQ(dep.frame->dialnorm_db, -5);
  auto other = frame;
  other[2] = static_cast<std::uint8_t>((other[2] & 0xC7) | (1 << 3));  // substreamid 1
  reseal(other);
  ASSERT_TRUE(parse_ac3_frame(other.data(), other.size()).frame);

  std::vector<std::uint8_t> packet;
  for (const auto& part : {damaged, dependent, other, frame}) packet.insert(packet.end(), part.begin(), part.end());
  EXPECT_EQ(packet_dialnorm_db(packet.data(), packet.size()), -20);
  EXPECT_FALSE(packet_dialnorm_db(dependent.data(), dependent.size()));
}

constexpr int kRate = 48000;

// Feeds `seconds` of a stereo 997 Hz sine at `amplitude` from media time
// `t0_s`, in 1024-sample blocks; returns the lines it completed.
std::vector<nlohmann::json> feed_sine(LoudnessSegmenter& seg, double t0_s, double seconds, double amplitude) {
  std::vector<nlohmann::json> lines;
  const auto n = static_cast<long long>(seconds * kRate);
  for (long long at = 0; at < n; at += 1024) {
    const auto k = static_cast<std::size_t>(std::min<long long>(1024, n - at));
    std::vector<std::vector<float>> ch(2, std::vector<float>(k));
    for (std::size_t i = 0; i < k; ++i) {
      const double t = t0_s + static_cast<double>(at + static_cast<long long>(i)) / kRate;
      ch[0][i] = ch[1][i] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * 997 * t));
    }
    auto b = test::make_audio_block(ch, kRate, t0_s + static_cast<double>(at) / kRate);
    for (auto& l : seg.feed(*b, 0)) lines.push_back(std::move(l));
  }
  return lines;
}

TEST(ReportsDialnorm, SegmentCarriesDialnormAndFailsBeyondTheTolerance) {
  SegmenterOptions o{4.0, false, loudness_preset("ebu_r128")};
  o.dialnorm_tolerance_db = 2.0;
  LoudnessSegmenter seg(o);
  std::vector<nlohmann::json> lines;
  // -23 LUFS throughout: declared -27 (4 LU off), then -24 (1 LU off), then none.
  seg.set_dialnorm(-27);
  for (auto& l : feed_sine(seg, 0, 4, 0.0708)) lines.push_back(l);
  seg.set_dialnorm(-24);
  for (auto& l : feed_sine(seg, 4, 4, 0.0708)) lines.push_back(l);
  seg.set_dialnorm(std::nullopt);
  for (auto& l : feed_sine(seg, 8, 4, 0.0708)) lines.push_back(l);
  if (auto l = seg.finish()) lines.push_back(*l);
  ASSERT_EQ(lines.size(), 3u);
  const auto& a = lines[0]["details"];
  SCOPED_TRACE(a.dump());
  const double integrated = a["integrated_lufs"].get<double>();
  EXPECT_NEAR(integrated, -23.0, 0.1);
  EXPECT_EQ(a["dialnorm_db"], -27);
  EXPECT_NEAR(a["dialnorm_offset_lu"].get<double>(), integrated + 27, 0.011);
  EXPECT_EQ(a["dialnorm_tolerance_db"], 2.0);
  EXPECT_EQ(a["pass"], false);
  ASSERT_EQ(a["why"].size(), 1u);
  EXPECT_EQ(a["why"][0], "integrated -23.0 LUFS is 4.0 LU above dialnorm -27 dB");
  EXPECT_FALSE(a.contains("dialnorm_values_db"));
  EXPECT_EQ(lines[1]["details"]["dialnorm_db"], -24);
  EXPECT_EQ(lines[1]["details"]["pass"], true);
  EXPECT_TRUE(lines[2]["details"]["dialnorm_db"].is_null());
  EXPECT_TRUE(lines[2]["details"]["dialnorm_offset_lu"].is_null());
  EXPECT_EQ(lines[2]["details"]["pass"], true);
}

TEST(ReportsDialnorm, ASegmentWithTwoLevelsNamesBothAndJudgesTheMainOne) {
  LoudnessSegmenter seg({10.0, false, loudness_preset("ebu_r128")});
  seg.set_dialnorm(-23);
  auto lines = feed_sine(seg, 0, 7, 0.0708);
  seg.set_dialnorm(-31);
  for (auto& l : feed_sine(seg, 7, 3, 0.0708)) lines.push_back(l);
  if (auto l = seg.finish()) lines.push_back(*l);
  ASSERT_EQ(lines.size(), 1u);
  const auto& d = lines[0]["details"];
  EXPECT_EQ(d["dialnorm_db"], -23);
  EXPECT_EQ(d["dialnorm_values_db"], nlohmann::json::array({-31, -23}));
  EXPECT_EQ(d["pass"], true) << d.dump();
}

std::vector<nlohmann::json> details_of(const std::vector<nlohmann::json>& lines) {
  std::vector<nlohmann::json> d;
  for (const auto& l : lines) d.push_back(l["details"]);
  return d;
}

TEST(ReportsSplices, SegmentsEndAtSplicePointsAndSayWhy) {
  SegmenterOptions o{3600.0, false, loudness_preset("ebu_r128")};
  LoudnessSegmenter seg(o);
  // Announced ahead, as cues are: out at 4.03 s (event 7) with a 4 s break
  // and auto_return, so the return is implied at 8.03 s.
  seg.splice(4.03, true, 7u);
  seg.splice(8.03, false, 7u, true);
  auto lines = feed_sine(seg, 0, 12, 0.0708);
  if (auto l = seg.finish()) lines.push_back(*l);
  const auto d = details_of(lines);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_DOUBLE_EQ(d[0]["start_media_time"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(d[0]["end_media_time"].get<double>(), 4.0);
  EXPECT_EQ(d[0]["start_reason"], "start");
  EXPECT_TRUE(d[0]["splice_event_id"].is_null());
  EXPECT_EQ(d[0]["part"], "programme");
  EXPECT_DOUBLE_EQ(d[1]["end_media_time"].get<double>(), 8.0);
  EXPECT_EQ(d[1]["start_reason"], "splice_out");
  EXPECT_EQ(d[1]["splice_event_id"], 7);
  EXPECT_EQ(d[1]["part"], "break");
  EXPECT_DOUBLE_EQ(d[2]["start_media_time"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(d[2]["end_media_time"].get<double>(), 12.0);
  EXPECT_EQ(d[2]["start_reason"], "splice_in");
  EXPECT_EQ(d[2]["splice_event_id"], 7);
  EXPECT_EQ(d[2]["part"], "programme");
}

TEST(ReportsSplices, ExplicitReturnReplacesTheImpliedOneAndCancelForgets) {
  LoudnessSegmenter seg({4.0, false, loudness_preset("ebu_r128")});
  seg.splice(2.0, true, 1u);
  seg.splice(6.0, false, 1u, true);
  seg.splice(5.0, false, 1u);    // back early: the implied return at 6 s is gone
  seg.splice(9.0, true, 2u);
  seg.cancel_splice(2u);         // never happens
  seg.splice(8.0, true, 3u);     // on an interval boundary: that segment is the break
  auto lines = feed_sine(seg, 0, 10, 0.0708);
  if (auto l = seg.finish()) lines.push_back(*l);
  const auto d = details_of(lines);
  ASSERT_EQ(d.size(), 5u);
  const double ends[] = {2.0, 4.0, 5.0, 8.0, 10.0};
  const char* reasons[] = {"start", "splice_out", "interval", "splice_in", "splice_out"};
  const char* parts[] = {"programme", "break", "break", "programme", "break"};
  for (std::size_t i = 0; i < d.size(); ++i) {
    SCOPED_TRACE(d[i].dump());
    EXPECT_DOUBLE_EQ(d[i]["end_media_time"].get<double>(), ends[i]);
    EXPECT_EQ(d[i]["start_reason"], reasons[i]);
    EXPECT_EQ(d[i]["part"], parts[i]);
  }
  EXPECT_EQ(d[4]["splice_event_id"], 3);
}

TEST(ReportsSplices, CueLinesBecomeSplices) {
  LoudnessSegmenter seg({3600.0, false, loudness_preset("ebu_r128")});
  feed_cue({{"kind", "scte35.cue"}, {"media_time", 1.0},
            {"details", {{"splice_media_time", 3.0},
                         {"break", {{"event_id", 42}, {"state", "out"}, {"out_media_time", 3.0}, {"duration_s", 2.0},
                                    {"auto_return", true}, {"return_due_media_time", 5.0}}}}}}, seg);
  feed_cue({{"kind", "defect.start"}, {"media_time", 1.0}}, seg);  // not a cue: nothing
  auto lines = feed_sine(seg, 0, 7, 0.0708);
  if (auto l = seg.finish()) lines.push_back(*l);
  const auto d = details_of(lines);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_DOUBLE_EQ(d[0]["end_media_time"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(d[1]["end_media_time"].get<double>(), 5.0);
  EXPECT_EQ(d[1]["splice_event_id"], 42);
  EXPECT_EQ(d[2]["start_reason"], "splice_in");
}

}  // namespace
}  // namespace avmon::reports
