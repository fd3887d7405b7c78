// SCTE-35 cue monitoring on synthetic cues written with the section writer:
// pre-roll to the millisecond (across the 33-bit wrap), repeats, break
// pairing, and each defect type raised and cleared.
#include <gtest/gtest.h>

#include "ancillary/random_access.hpp"
#include "ancillary/scte35_monitor.hpp"

namespace avmon {
namespace {

using namespace scte35;

struct Collect : MonitorSink {
  std::vector<std::pair<double, nlohmann::json>> cues;
  std::vector<Observation> obs;
  void cue(double t, nlohmann::json d) override { cues.emplace_back(t, std::move(d)); }
  void observe(Observation o) override { obs.push_back(std::move(o)); }
  std::vector<Observation> of(const std::string& type) const {
    std::vector<Observation> r;
    for (const auto& o : obs)
      if (o.type == type) r.push_back(o);
    return r;
  }
};

// A 25 fps programme whose video PTS at media time 0 is `origin`; a random
// access picture every second.
struct Programme {
  std::int64_t origin = 900000;
  Monitor mon;
  Collect out;
  int next = 0;  // the next picture to play
  explicit Programme(std::int64_t o = 900000, MonitorOptions opts = {}) : origin(o), mon(opts) {}
  static double time_of(int n) { return n * 4 / 100.0; }
  std::int64_t pts(double t) const { return (origin + static_cast<std::int64_t>(std::llround(t * 90000))) & kPtsMask; }
  // Plays the pictures up to media time `t`; one random-access picture a second.
  void play_to(double t) {
    for (; time_of(next) <= t + 1e-9; ++next) mon.on_video(pts(time_of(next)), next % 25 == 0, time_of(next), out);
  }
  // A section arriving with the last picture played.
  void send(const SpliceInfoSection& s, bool corrupt = false) {
    auto bytes = write(s);
    if (corrupt) bytes[bytes.size() - 6] ^= 0x40;
    const double t = time_of(next - 1);
    mon.on_section(500, bytes.data(), bytes.size(), !corrupt, {t, pts(t), {}}, out);
  }
};

SpliceInfoSection insert(std::uint32_t id, bool out, std::optional<std::int64_t> pts, std::optional<double> duration_s = {},
                         bool auto_return = false, std::uint64_t adjustment = 0) {
  SpliceInfoSection s;
  s.pts_adjustment = adjustment;
  SpliceInsert i;
  i.event_id = id;
  i.out_of_network = out;
  i.program_splice = true;
  i.immediate = !pts;
  if (pts) i.time = {true, static_cast<std::uint64_t>((*pts - static_cast<std::int64_t>(adjustment)) & kPtsMask)};
  if (duration_s) {
    i.duration_flag = true;
    i.duration = BreakDuration{auto_return, static_cast<std::uint64_t>(*duration_s * 90000)};
  }
  s.command = i;
  return s;
}

TEST(Scte35Monitor, PrerollIsSpliceTimeMinusTheVideoPtsAtArrival) {
  Programme p;
  p.play_to(5.0);  // the cue arrives with the picture of 5.0 s
  p.send(insert(1, true, p.pts(11.5), 60.0, true));
  ASSERT_EQ(p.out.cues.size(), 1u);
  const auto& [t, d] = p.out.cues[0];
  EXPECT_DOUBLE_EQ(t, 5.0);
  EXPECT_EQ(d["preroll_s"], 6.5);
  EXPECT_EQ(d["splice_media_time"], 11.5);
  EXPECT_EQ(d["command"], "splice_insert");
  EXPECT_EQ(d["splice_insert"]["splice_event_id"], 1);
  EXPECT_EQ(d["break"]["state"], "out");
  EXPECT_EQ(d["break"]["return_due_media_time"], 71.5);
  EXPECT_TRUE(p.out.of(Monitor::kShortPreroll).empty());
}

TEST(Scte35Monitor, PrerollHonoursPtsAdjustmentAcrossThe33BitWrap) {
  // Video PTS 2 s before the wrap at media time 0; the splice is 3.25 s
  // after the cue, carried as pts_time + pts_adjustment beyond 2^33.
  Programme p(static_cast<std::int64_t>(kPtsModulus) - 2 * 90000);
  p.play_to(1.0);
  p.send(insert(7, true, p.pts(4.25), 30.0, true, 5000));
  ASSERT_EQ(p.out.cues.size(), 1u);
  EXPECT_EQ(p.out.cues[0].second["preroll_s"], 3.25);
  EXPECT_EQ(p.out.cues[0].second["splice_media_time"], 4.25);
  EXPECT_EQ(p.out.cues[0].second["splice_pts"], 202500);  // 2.25 s past the wrap
  // 3.25 s is under the 4 s minimum.
  ASSERT_EQ(p.out.of(Monitor::kShortPreroll).size(), 1u);
}

TEST(Scte35Monitor, AShortPrerollIsRaisedAtTheCueAndClearedAtTheSplice) {
  Programme p;
  p.play_to(10.0);
  p.send(insert(2, true, p.pts(12.0), 30.0, true));
  p.play_to(14.0);
  auto o = p.out.of(Monitor::kShortPreroll);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_TRUE(o[0].active);
  EXPECT_DOUBLE_EQ(o[0].media_time_s, 10.0);
  EXPECT_EQ(o[0].details["preroll_s"], 2.0);
  EXPECT_FALSE(o[1].active);
  EXPECT_NEAR(*o[1].since_s, 12.0, 1e-9);
}

TEST(Scte35Monitor, RepeatsOfACueAreNotNewCues) {
  Programme p;
  p.play_to(2.0);
  auto cue = insert(3, true, p.pts(10.0), 30.0, true);
  for (int k = 0; k < 7; ++k) {  // every second until 1 s before the splice
    p.send(cue);
    p.play_to(3.0 + k);
  }
  EXPECT_EQ(p.out.cues.size(), 1u);
  EXPECT_TRUE(p.out.of(Monitor::kShortPreroll).empty());  // only the first cue's pre-roll counts
  EXPECT_EQ(p.mon.summary()["scte35"]["repeats"], 6);
}

TEST(Scte35Monitor, AnOutAndItsInArePaired) {
  Programme p;
  p.play_to(4.0);
  p.send(insert(10, true, p.pts(10.0), 30.0));
  p.play_to(36.0);
  p.send(insert(10, false, p.pts(40.0)));
  p.play_to(45.0);
  EXPECT_TRUE(p.out.of(Monitor::kMissingReturn).empty());
  const auto& in = p.out.cues.back().second;
  EXPECT_EQ(in["break"]["state"], "in");
  EXPECT_EQ(in["break"]["paired"], true);
  EXPECT_EQ(in["break"]["length_s"], 30.0);
  EXPECT_EQ(p.mon.summary()["scte35"]["breaks_closed"], 1);
}

TEST(Scte35Monitor, AMissingReturnIsRaisedAfterDurationAndToleranceAndClearedByTheReturn) {
  Programme p;
  p.play_to(4.0);
  p.send(insert(11, true, p.pts(10.0), 30.0));
  p.play_to(44.0);
  p.send(insert(11, false, p.pts(48.0)));
  p.play_to(50.0);
  auto o = p.out.of(Monitor::kMissingReturn);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_TRUE(o[0].active);
  EXPECT_NEAR(*o[0].since_s, 42.0, 1e-9);  // out 10 s + 30 s + 2 s tolerance
  EXPECT_FALSE(o[1].active);
  EXPECT_NEAR(*o[1].since_s, 48.0, 1e-9);  // the return's splice time
  EXPECT_EQ(p.mon.summary()["scte35"]["missing_returns"], 1);
}

TEST(Scte35Monitor, AutoReturnAndCancelNeedNoReturn) {
  Programme p;
  p.play_to(4.0);
  p.send(insert(12, true, p.pts(10.0), 20.0, /*auto_return=*/true));
  p.send(insert(13, true, p.pts(12.0), 20.0));
  SpliceInfoSection cancel;
  SpliceInsert c;
  c.event_id = 13;
  c.cancel = true;
  cancel.command = c;
  p.send(cancel);
  p.play_to(60.0);
  EXPECT_TRUE(p.out.of(Monitor::kMissingReturn).empty());
  EXPECT_EQ(p.out.cues.back().second["break"]["state"], "cancelled");
  auto s = p.mon.summary()["scte35"];
  EXPECT_EQ(s["breaks_closed"], 1);
  EXPECT_TRUE(s["breaks_open"].empty());
}

TEST(Scte35Monitor, ACrcErrorLastsUntilTheNextGoodSection) {
  Programme p;
  p.play_to(3.0);
  p.send(insert(20, true, p.pts(9.0), 30.0, true), /*corrupt=*/true);
  p.play_to(4.0);
  p.send(insert(20, true, p.pts(9.0), 30.0, true));
  auto o = p.out.of(Monitor::kCrcError);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_TRUE(o[0].active);
  EXPECT_DOUBLE_EQ(o[0].media_time_s, 3.0);
  EXPECT_FALSE(o[1].active);
  EXPECT_DOUBLE_EQ(o[1].media_time_s, 4.0);
  EXPECT_EQ(p.out.cues.size(), 1u);  // the damaged one is not a cue
  EXPECT_EQ(p.mon.summary()["scte35"]["crc_errors"], 1);
}

TEST(Scte35Monitor, ASpliceBetweenRandomAccessPicturesIsReported) {
  Programme p;
  p.play_to(2.0);
  p.send(insert(30, true, p.pts(8.0), 30.0, true));   // on a random-access picture (every whole second)
  p.send(insert(31, true, p.pts(12.4), 30.0, true));  // between two
  p.play_to(20.0);
  auto o = p.out.of(Monitor::kNotOnRap);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_TRUE(o[0].active);
  EXPECT_NEAR(*o[0].since_s, 12.4, 1e-9);
  EXPECT_EQ(o[0].details["event_id"], 31);
  EXPECT_FALSE(o[1].active);
  EXPECT_EQ(p.mon.summary()["scte35"]["splices_checked"], 2);
}

TEST(Scte35Monitor, SegmentationStartAndEndArePaired) {
  Programme p;
  p.play_to(2.0);
  auto signal = [&](double at_s, std::uint8_t type_id) {
    SpliceInfoSection s;
    s.command = TimeSignal{{true, static_cast<std::uint64_t>(p.pts(at_s))}};
    SegmentationDescriptor d;
    d.event_id = 0x4000;
    d.type_id = type_id;
    d.duration_flag = type_id == 0x34;
    d.duration = 20 * 90000;
    d.has_sub_segments = type_id == 0x34;
    s.descriptors.push_back({2, 0, kCuei, d});
    return s;
  };
  p.send(signal(8.0, 0x34));  // Provider Placement Opportunity Start
  p.play_to(26.0);
  p.send(signal(28.0, 0x35));  // its End
  p.play_to(40.0);
  EXPECT_TRUE(p.out.of(Monitor::kMissingReturn).empty());
  EXPECT_EQ(p.out.cues[0].second["preroll_s"], 6.0);
  EXPECT_EQ(p.out.cues[1].second["break"]["length_s"], 20.0);
}

TEST(RandomAccess, RecognisesKeyPicturesOfEachCodec) {
  using ancillary::starts_random_access;
  using ancillary::VideoCodec;
  const std::uint8_t h264_idr[] = {0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0x64};
  const std::uint8_t h264_p[] = {0, 0, 0, 1, 0x09, 0x30, 0, 0, 0, 1, 0x41, 0x9A};
  const std::uint8_t hevc_idr[] = {0, 0, 0, 1, 0x46, 0x01, 0x10, 0, 0, 1, 0x40, 0x01};
  const std::uint8_t mpeg2_i[] = {0, 0, 1, 0x00, 0x00, 0x0F, 0xFF};  // picture_coding_type 1
  const std::uint8_t mpeg2_p[] = {0, 0, 1, 0x00, 0x00, 0x17, 0xFF};  // picture_coding_type 2
  EXPECT_TRUE(starts_random_access(VideoCodec::H264, h264_idr, sizeof h264_idr));
  EXPECT_FALSE(starts_random_access(VideoCodec::H264, h264_p, sizeof h264_p));
  EXPECT_TRUE(starts_random_access(VideoCodec::Hevc, hevc_idr, sizeof hevc_idr));
  EXPECT_TRUE(starts_random_access(VideoCodec::Mpeg2, mpeg2_i, sizeof mpeg2_i));
  EXPECT_FALSE(starts_random_access(VideoCodec::Mpeg2, mpeg2_p, sizeof mpeg2_p));
}

}  // namespace
}  // namespace avmon
