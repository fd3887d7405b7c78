#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "av_sync/av_sync.hpp"
#include "unit/detectors/audio_signals.hpp"

namespace avmon::test::audio {
namespace {

using avmon::audio::AvSyncDetector;
using avmon::audio::describe_av_sync;

struct SyncClip {
  double fps = 25;
  double offset_ms = 0;       // audio later than video when positive
  double seconds = 12;
  bool programme = false;     // ordinary programme instead of the sync signal
};

struct Result {
  std::unique_ptr<Detector> det;
  CollectingSink sink;
  std::vector<Run> defects;
  std::vector<double> flash_times;
};

// Flash-and-beep line-up: grey picture with one white frame per second (the
// first frame at or after each whole second) and a 40 ms 1 kHz beep at that
// frame's time plus the offset. Frames and blocks are fed in time order,
// as the decoder delivers them.
Result run_clip(const SyncClip& c) {
  Result r;
  const auto info = describe_av_sync();
  r.det = make(info);
  StreamInfo si = stream_info(2);
  si.has_video = true;
  si.frame_rate = c.fps;
  r.det->configure(si);

  const int frames = static_cast<int>(c.seconds * c.fps);
  std::vector<double> frame_t(static_cast<size_t>(frames));
  std::vector<char> flash(static_cast<size_t>(frames), 0);
  int next_second = 1;
  for (int n = 0; n < frames; ++n) {
    frame_t[static_cast<size_t>(n)] = n / c.fps;
    if (frame_t[static_cast<size_t>(n)] >= next_second - 1e-9) {
      flash[static_cast<size_t>(n)] = 1;
      r.flash_times.push_back(frame_t[static_cast<size_t>(n)]);
      ++next_second;
    }
  }
  const size_t samples = static_cast<size_t>(c.seconds * kRate);
  Signal audio = silence(2, c.seconds);
  if (c.programme) {
    audio = {music(c.seconds, -25, 1), dialogue(c.seconds, -28, 2, -60)};
  } else {
    for (double ft : r.flash_times) {
      const double b = ft + c.offset_ms / 1000;
      const auto start = static_cast<size_t>(std::llround(b * kRate));
      for (size_t i = 0; i < static_cast<size_t>(0.04 * kRate) && start + i < samples; ++i)
        audio[0][start + i] = audio[1][start + i] =
            0.4f * static_cast<float>(std::sin(2 * std::numbers::pi * 1000 * static_cast<double>(i) / kRate));
    }
  }
  cv::Mat grey(36, 64, CV_8UC1, cv::Scalar(57)), white(36, 64, CV_8UC1, cv::Scalar(235));
  cv::Mat scene_a(36, 64, CV_8UC1, cv::Scalar(40)), scene_b(36, 64, CV_8UC1, cv::Scalar(200));

  const int block = 1024;
  int n = 0;
  std::uint64_t bi = 0;
  for (size_t pos = 0; pos < samples; pos += block) {
    const double bt = static_cast<double>(pos) / kRate;
    for (; n < frames && frame_t[static_cast<size_t>(n)] <= bt; ++n) {
      const cv::Mat* img = flash[static_cast<size_t>(n)] ? &white : &grey;
      if (c.programme) img = (n / 37) % 2 ? &scene_b : &scene_a;  // hard cuts between dark and bright scenes
      auto f = make_video_frame(*img, frame_t[static_cast<size_t>(n)], static_cast<std::uint64_t>(n), 1 / c.fps);
      r.det->on_video(*f, r.sink);
    }
    const size_t len = std::min(samples - pos, static_cast<size_t>(block));
    Signal part(2);
    for (int ch = 0; ch < 2; ++ch)
      part[static_cast<size_t>(ch)].assign(audio[static_cast<size_t>(ch)].begin() + static_cast<long>(pos),
                                           audio[static_cast<size_t>(ch)].begin() + static_cast<long>(pos + len));
    auto b = make_audio_block(part, kRate, bt, bi++);
    r.det->on_audio(*b, r.sink);
  }
  r.det->finish(c.seconds, r.sink);
  r.defects = defects_like_engine(runs(r.sink, "av_sync", -1, c.seconds), info.min_duration_s, info.hold_off_s);
  return r;
}

class AvSyncOffsets : public ::testing::TestWithParam<std::tuple<double, double>> {};

TEST_P(AvSyncOffsets, MeasuresTheOffsetToTheMillisecond) {
  const auto [fps, offset_ms] = GetParam();
  auto r = run_clip({fps, offset_ms});
  const auto s = r.det->summary();
  ASSERT_TRUE(s.contains("av_sync")) << s.dump();
  EXPECT_NEAR(s["av_sync"]["offset_ms"].get<double>(), offset_ms, 1.0);
  EXPECT_GE(s["av_sync"]["pairs"].get<int>(), 9);
  const bool outside = offset_ms > 60 || offset_ms < -40;
  if (outside) {
    ASSERT_EQ(r.defects.size(), 1u);
    EXPECT_LT(r.defects[0].start_s, 1.5);
    EXPECT_DOUBLE_EQ(r.defects[0].end_s, 12.0);
  } else {
    EXPECT_TRUE(r.defects.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(FrameRates, AvSyncOffsets,
                         ::testing::Combine(::testing::Values(25.0, 30000.0 / 1001, 50.0),
                                            ::testing::Values(-300.0, -100.0, -40.0, 0.0, 20.0, 60.0, 200.0, 300.0)));

TEST(AvSyncDetector, FindsEveryFlashAndBeepOnset) {
  auto r = run_clip({25, 120});
  auto* d = dynamic_cast<AvSyncDetector*>(r.det.get());
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->flash_onsets().size(), r.flash_times.size());
  ASSERT_EQ(d->beep_onsets().size(), r.flash_times.size());
  for (size_t i = 0; i < r.flash_times.size(); ++i) {
    EXPECT_DOUBLE_EQ(d->flash_onsets()[i], r.flash_times[i]);
    // A sine starting at phase 0 reaches a quarter of its peak on its third sample.
    EXPECT_NEAR(d->beep_onsets()[i], r.flash_times[i] + 0.120, 3.5 / kRate);
  }
}

TEST(AvSyncDetector, OrdinaryProgrammeGivesNoMeasurementAndNoEvent) {
  auto r = run_clip({25, 0, 12, true});
  EXPECT_TRUE(r.det->summary().is_null());
  EXPECT_TRUE(r.sink.seen.empty());
}

}  // namespace
}  // namespace avmon::test::audio
