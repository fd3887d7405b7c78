// The evidence buffer on synthetic packets: it begins at a keyframe, keeps
// buffer_s of media time (a whole GOP more at most), keeps a pinned
// pre-roll, gives way to its byte bound, places packets in media time from
// the latest frame's anchor (also those read before it), and a clip's
// material starts at the keyframe at or before its start.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

extern "C" {
#include <libavformat/avformat.h>
}

#include "evidence/ring.hpp"

namespace avmon::evidence {
namespace {

constexpr double kNoPin = std::numeric_limits<double>::infinity();

class RingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fmt_ = avformat_alloc_context();
    video_ = avformat_new_stream(fmt_, nullptr);
    video_->time_base = {1, 90000};
    video_->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    video_->codecpar->codec_id = AV_CODEC_ID_H264;
    audio_ = avformat_new_stream(fmt_, nullptr);
    audio_->time_base = {1, 90000};
    audio_->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
    audio_->codecpar->codec_id = AV_CODEC_ID_AAC;
  }
  void TearDown() override { avformat_free_context(fmt_); }

  // A picture at `t_s` (raw = media + 100 s), `bytes` long; a keyframe
  // every `gop` pictures (25 per second).
  void picture(Ring& ring, int n, int gop = 25, int bytes = 1000, double keep = kNoPin, bool anchored = true) {
    const double t_s = n / 25.0;
    AVPacketPtr p(av_packet_alloc());
    ASSERT_EQ(av_new_packet(p.get(), bytes), 0);
    p->pts = p->dts = std::llround((t_s + 100.0) * 90000);
    if (n % gop == 0) p->flags |= AV_PKT_FLAG_KEY;
    InputPacket in;
    in.packet = p.get();
    in.stream = video_;
    in.video = true;
    in.session = 1;
    // As the read loop gives it: the mapping of the latest decoded picture
    // (the ring places only packets within its span of that anchor).
    in.anchor_raw_s = anchored ? t_s + 100.0 : NAN;
    in.anchor_media_s = anchored ? t_s : NAN;
    ring.add(in, keep);
  }

  AVFormatContext* fmt_ = nullptr;
  AVStream* video_ = nullptr;
  AVStream* audio_ = nullptr;
};

TEST_F(RingTest, BeginsAtAKeyframeAndKeepsBufferSecondsAtMostAGopMore) {
  Ring ring(4.0, 1 << 30);
  ring.reset(true);
  for (int n = 10; n < 250; ++n) picture(ring, n);  // starts inside a GOP: 10..24 are not kept
  // Newest 9.96 s; whole GOPs of 1 s: the oldest kept starts at 5 s (9.96 - 5 < 5 < 4 + 1).
  EXPECT_NEAR(ring.oldest_s(), 5.0, 1e-6);
  EXPECT_NEAR(ring.newest_s(), 9.96, 1e-6);
  EXPECT_EQ(ring.packets(), 125u);
  EXPECT_EQ(ring.bytes(), 125000);
  EXPECT_EQ(ring.container(), "mpegts");
}

TEST_F(RingTest, APinnedPreRollStaysAndTheByteBoundWinsOverIt) {
  Ring ring(4.0, 1 << 30);
  ring.reset(true);
  for (int n = 0; n < 250; ++n) picture(ring, n, 25, 1000, 2.5);
  EXPECT_NEAR(ring.oldest_s(), 2.0, 1e-6);  // the keyframe at or before 2.5 s
  Ring small(4.0, 60000);
  small.reset(true);
  for (int n = 0; n < 250; ++n) picture(small, n, 25, 1000, 0.0);
  EXPECT_LE(small.bytes(), 60000);
  EXPECT_NEAR(small.oldest_s(), 8.0, 1e-6);  // whole GOPs of 25000 bytes
}

TEST_F(RingTest, PacketsReadBeforeTheFirstFrameArePlacedOnceItComes) {
  Ring ring(30.0, 1 << 30);
  ring.reset(true);
  for (int n = 0; n < 5; ++n) picture(ring, n, 25, 100, kNoPin, false);
  EXPECT_TRUE(std::isnan(ring.oldest_s()));
  picture(ring, 5);
  EXPECT_NEAR(ring.oldest_s(), 0.0, 1e-6);
  EXPECT_EQ(ring.packets(), 6u);
}

TEST_F(RingTest, AClipStartsAtTheKeyframeAtOrBeforeItsStart) {
  Ring ring(30.0, 1 << 30);
  ring.reset(true);
  for (int n = 0; n < 300; ++n) picture(ring, n, 50);
  ClipMaterial m = ring.collect(5.5, 9.0);
  EXPECT_NEAR(m.start_s, 4.0, 1e-6);
  EXPECT_NEAR(m.end_s, 9.0, 1e-6);
  EXPECT_FALSE(m.start_cut);
  ASSERT_FALSE(m.packets.empty());
  EXPECT_TRUE(m.packets.front().packet->flags & AV_PKT_FLAG_KEY);
  EXPECT_EQ(m.packets.size(), 126u);  // 4.00 .. 9.00
  // Asked for more than the buffer holds: from its oldest keyframe, and said so.
  Ring short_ring(4.0, 1 << 30);
  short_ring.reset(true);
  for (int n = 0; n < 300; ++n) picture(short_ring, n, 50);
  ClipMaterial cut = short_ring.collect(2.0, 11.0);
  EXPECT_TRUE(cut.start_cut);
  EXPECT_NEAR(cut.start_s, 6.0, 1e-6);
}

TEST_F(RingTest, ACodecMpegTsCannotCarryMakesTheClipMatroska) {
  video_->codecpar->codec_id = AV_CODEC_ID_VP9;
  Ring ring(30.0, 1 << 30);
  ring.reset(true);
  picture(ring, 0);
  EXPECT_EQ(ring.container(), "matroska");
}

}  // namespace
}  // namespace avmon::evidence
