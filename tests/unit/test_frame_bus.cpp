// The frame bus: one decoded picture shared by every detector, no pixel
// copies, each derived product computed once however many detectors ask; and
// the dispatcher's lossless / drop-when-behind behaviour and determinism.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

extern "C" {
#include <libavutil/buffer.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

#include "pipeline/dispatcher.hpp"
#include "pipeline/engine.hpp"
#include "pipeline/frames.hpp"
#include "support/media.hpp"

namespace avmon {
namespace {

struct Seen {
  std::mutex mu;
  // per frame index: the pixel addresses each detector saw
  std::map<std::uint64_t, std::vector<std::tuple<const void*, const void*, const void*>>> by_frame;
  std::map<std::uint64_t, int> refcounts;
};

class Probe final : public Detector {
 public:
  explicit Probe(Seen& seen) : seen_(seen) {}
  void on_video(const VideoFrame& f, ObservationSink&) override {
    const void* luma = f.luma().data;
    const void* full = f.luma_full().data;
    std::lock_guard lk(seen_.mu);
    seen_.by_frame[f.index()].emplace_back(f.av_frame()->data[0], luma, full);
    seen_.refcounts[f.index()] = av_buffer_get_ref_count(f.av_frame()->buf[0]);
  }

 private:
  Seen& seen_;
};

struct NullSink : EventSink {
  void emit(const nlohmann::json&) override {}
};

TEST(FrameBus, OneDecodedPictureAndOneDerivedPlanePerFrameForAllDetectors) {
  constexpr int kDetectors = 6, kFrames = 40;
  Seen seen;
  NullSink sink;
  EventEngine engine("s", sink);
  DerivedStats stats;
  std::vector<DetectorSlot> slots;
  for (int i = 0; i < kDetectors; ++i)
    slots.push_back({"probe" + std::to_string(i), kVideo, std::make_unique<Probe>(seen)});
  {
    Dispatcher d(std::move(slots), engine, Dispatcher::Mode::Lossless, 4, 4);
    for (int i = 0; i < kFrames; ++i) {
      cv::Mat img(720, 1280, CV_8UC1, cv::Scalar(16 + i));
      d.video(test::make_video_frame(img, i * 0.04, static_cast<std::uint64_t>(i), 0.04, {}, &stats));
    }
    d.drain();
  }
  ASSERT_EQ(seen.by_frame.size(), static_cast<size_t>(kFrames));
  for (const auto& [index, views] : seen.by_frame) {
    ASSERT_EQ(views.size(), static_cast<size_t>(kDetectors));
    for (const auto& v : views) {
      EXPECT_EQ(v, views[0]) << "frame " << index << ": a detector saw other pixels";
      // The full-size luma is a header over the decoder's own plane.
      EXPECT_EQ(std::get<2>(v), std::get<0>(v));
    }
    // Nobody took an extra reference or copy of the picture buffer.
    EXPECT_EQ(seen.refcounts[index], 1);
  }
  EXPECT_EQ(stats.luma.load(), static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(stats.luma_full_converted.load(), 0u);
  EXPECT_EQ(stats.bgr.load(), 0u);
}

TEST(FrameBus, AnalysisLumaIsDownscaledWithAspectKept) {
  auto f = test::make_video_frame(cv::Mat(1080, 1920, CV_8UC1, cv::Scalar(100)), 0);
  EXPECT_EQ(f->luma().cols, kAnalysisMaxWidth);
  EXPECT_EQ(f->luma().rows, 270);
  EXPECT_NEAR(cv::mean(f->luma())[0], 100, 0.5);
  auto small = test::make_video_frame(cv::Mat(240, 320, CV_8UC1, cv::Scalar(50)), 0);
  EXPECT_EQ(small->luma().cols, 320);
}

// Reports "slow" active on every frame and takes its time about it.
class Slow final : public Detector {
 public:
  void on_video(const VideoFrame& f, ObservationSink& out) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out.observe({"slow", f.media_time_s(), true, {}, 0, -1, nlohmann::json::object()});
  }
};

// Alternates its state every 10 frames, to give the engine something to order.
class Blinker final : public Detector {
 public:
  void on_video(const VideoFrame& f, ObservationSink& out) override {
    out.observe({"blink", f.media_time_s(), (f.index() / 10) % 2 == 1, {}, 0, -1, nlohmann::json::object()});
  }
};

struct Lines : EventSink {
  std::vector<nlohmann::json> all;
  void emit(const nlohmann::json& e) override { all.push_back(e); }
};

// Pictures swscale converts (not 8-bit planar YUV) at sizes its vector code
// does not fill evenly: every derived plane has the picture's size, is
// continuous, and holds the picture's grey. (swscale may write a vector past
// a row's end: the planes keep spare rows for it, so under AddressSanitizer
// this also guards the allocator's bookkeeping after the plane.)
TEST(FrameBus, OddSizesInOtherPixelFormatsConvertToContinuousPlanes) {
  struct Case {
    AVPixelFormat format;
    int width, height;
  };
  for (const Case c : {Case{AV_PIX_FMT_RGB24, 15, 9}, Case{AV_PIX_FMT_GRAY16LE, 7, 7},
                       Case{AV_PIX_FMT_YUV420P10LE, 33, 17}, Case{AV_PIX_FMT_GBRP, 17, 33},
                       Case{AV_PIX_FMT_RGB24, 1, 1}}) {
    SCOPED_TRACE(std::string(av_get_pix_fmt_name(c.format)) + " " + std::to_string(c.width) + "x" +
                 std::to_string(c.height));
    AVFramePtr frame = make_av_frame();
    frame->format = c.format;
    frame->width = c.width;
    frame->height = c.height;
    ASSERT_EQ(av_frame_get_buffer(frame.get(), 0), 0);
    // Mid grey in each format (full-range RGB and grey, 10-bit YUV with
    // neutral chroma).
    for (int p = 0; p < 4 && frame->data[p]; ++p) {
      const int rows = (c.format == AV_PIX_FMT_YUV420P10LE && p > 0) ? (c.height + 1) / 2 : c.height;
      for (int y = 0; y < rows; ++y) {
        std::uint8_t* row = frame->data[p] + static_cast<std::ptrdiff_t>(y) * frame->linesize[p];
        if (c.format == AV_PIX_FMT_GRAY16LE || c.format == AV_PIX_FMT_YUV420P10LE) {
          const std::uint16_t v = c.format == AV_PIX_FMT_GRAY16LE ? 0x8080 : (p == 0 ? 502 : 512);
          for (int x = 0; x < frame->linesize[p] / 2; ++x) std::memcpy(row + 2 * x, &v, 2);
        } else {
          std::memset(row, 128, static_cast<std::size_t>(frame->linesize[p]));
        }
      }
    }
    BusVideoFrame f(std::move(frame), 0, 0.0, 0.04, {});
    for (const cv::Mat* m : {&f.luma_full(), &f.luma(), &f.bgr()}) {
      EXPECT_TRUE(m->isContinuous());
      EXPECT_EQ(m->cols, c.width);
      EXPECT_EQ(m->rows, c.height);
      double lo = 0, hi = 0;
      cv::minMaxLoc(m->reshape(1), &lo, &hi);
      EXPECT_LE(hi - lo, 2) << *m;
      EXPECT_NEAR(lo, 128, 12) << *m;
    }
  }
}

TEST(Dispatcher, LiveModeDropsFramesForASlowDetectorAndCountsThem) {
  Lines lines;
  EventEngine engine("s", lines);
  std::vector<DetectorSlot> slots;
  slots.push_back({"slow", kVideo, std::make_unique<Slow>()});
  slots.push_back({"blink", kVideo, std::make_unique<Blinker>()});
  Dispatcher d(std::move(slots), engine, Dispatcher::Mode::DropWhenBehind, 4, 2);
  cv::Mat img(64, 64, CV_8UC1, cv::Scalar(80));
  // Frames arrive every 5 ms, as from a live input: the slow detector needs
  // 20 ms per frame and must fall behind; the fast one never does.
  for (int i = 0; i < 60; ++i) {
    d.video(test::make_video_frame(img, i * 0.04, static_cast<std::uint64_t>(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.drain();
  EXPECT_GT(d.stats(0).dropped.load(), 0u);
  EXPECT_EQ(d.stats(0).processed.load() + d.stats(0).dropped.load(), 60u);
  // The fast detector lost nothing.
  EXPECT_EQ(d.stats(1).processed.load(), 60u);
  EXPECT_EQ(d.stats(1).dropped.load(), 0u);
}

TEST(Dispatcher, FileModeIsLosslessAndDeterministic) {
  auto run = [] {
    Lines lines;
    EventEngine engine("s", lines);
    engine.wall_time = [] { return std::string("-"); };
    engine.add_detector("blink", {0.1, 0.0, "minor"}, {"blink"}, {});
    engine.add_detector("slow", {0.1, 0.0, "minor"}, {"slow"}, {});
    std::vector<DetectorSlot> slots;
    slots.push_back({"blink", kVideo, std::make_unique<Blinker>()});
    slots.push_back({"slow", kVideo, std::make_unique<Slow>()});
    Dispatcher d(std::move(slots), engine, Dispatcher::Mode::Lossless, 2, 2);
    cv::Mat img(64, 64, CV_8UC1, cv::Scalar(80));
    for (int i = 0; i < 45; ++i) d.video(test::make_video_frame(img, i * 0.04, static_cast<std::uint64_t>(i)));
    d.finish(45 * 0.04);
    EXPECT_EQ(d.stats(1).processed.load(), 46u);  // 45 frames + finish()
    EXPECT_EQ(d.stats(1).dropped.load(), 0u);
    return lines.all;
  };
  auto first = run();
  auto second = run();
  // blink: active 0.4-0.8 and 1.2-1.6; slow: the whole run
  EXPECT_EQ(first.size(), 6u);
  EXPECT_EQ(first, second);
}


// Records the index of every audio block it is given.
class BlockOrder final : public Detector {
 public:
  std::vector<std::uint64_t> seen;
  void on_audio(const AudioBlock& b, ObservationSink&) override { seen.push_back(b.index()); }
};

TEST(Dispatcher, AudioBlocksArriveInBatchesEachOnceAndInOrder) {
  NullSink sink;
  EventEngine engine("s", sink);
  auto order = std::make_unique<BlockOrder>();
  BlockOrder* probe = order.get();
  std::vector<DetectorSlot> slots;
  slots.push_back({"order", kAudio, std::move(order)});
  Dispatcher d(std::move(slots), engine, Dispatcher::Mode::Lossless, 2, 4);
  std::vector<std::vector<float>> samples(2, std::vector<float>(1024, 0.1f));
  for (int i = 0; i < 100; ++i)
    d.audio(test::make_audio_block(samples, 48000, i * 1024 / 48000.0, static_cast<std::uint64_t>(i)));
  d.drain();  // also hands over a partly filled batch
  ASSERT_EQ(probe->seen.size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(probe->seen[i], i);
  // 100 blocks of 21.3 ms in batches of at least 100 ms: 5 blocks a call.
  EXPECT_EQ(d.stats(0).processed.load(), 100u);
  std::uint64_t calls = 0;
  for (const auto& b : d.stats(0).time_buckets) calls += b.load();
  EXPECT_EQ(calls, 20u);
}

// Takes 2 ms per audio block, far more than a real audio detector.
class SlowListener final : public Detector {
 public:
  void on_audio(const AudioBlock&, ObservationSink&) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
};

// A live input's first read hands over at once what probing the stream
// buffered; with the pictures skipped (keyframes-only decoding) that is well
// over a second of audio in a few milliseconds. The in-flight bound counts
// audio per batch, so 1.5 s of it in one burst (15 batches of 5 blocks,
// against queue_frames 16) reaches even a slow detector whole.
TEST(Dispatcher, LiveModeTakesABurstOfAudioWithoutLoss) {
  NullSink sink;
  EventEngine engine("s", sink);
  std::vector<DetectorSlot> slots;
  slots.push_back({"slow", kAudio, std::make_unique<SlowListener>()});
  Dispatcher d(std::move(slots), engine, Dispatcher::Mode::DropWhenBehind, 2, 16);
  std::vector<std::vector<float>> samples(2, std::vector<float>(960, 0.1f));
  for (int i = 0; i < 75; ++i)
    d.audio(test::make_audio_block(samples, 48000, i * 960 / 48000.0, static_cast<std::uint64_t>(i)));
  d.drain();
  EXPECT_EQ(d.stats(0).dropped.load(), 0u);
  EXPECT_EQ(d.stats(0).processed.load(), 75u);
}

// Records the index of every picture it is given.
class PictureOrder final : public Detector {
 public:
  std::vector<std::uint64_t> seen;
  void on_video(const VideoFrame& f, ObservationSink&) override { seen.push_back(f.index()); }
};

TEST(Dispatcher, PicturesArriveInBatchesOfATenthOfASecondEachOnceAndInOrder) {
  NullSink sink;
  EventEngine engine("s", sink);
  auto order = std::make_unique<PictureOrder>();
  PictureOrder* probe = order.get();
  std::vector<DetectorSlot> slots;
  slots.push_back({"order", kVideo, std::move(order)});
  Dispatcher d(std::move(slots), engine, Dispatcher::Mode::Lossless, 2, 4);
  cv::Mat img(64, 64, CV_8UC1, cv::Scalar(80));
  for (int i = 0; i < 50; ++i) d.video(test::make_video_frame(img, i * 0.04, static_cast<std::uint64_t>(i)));
  d.drain();  // also hands over the partly filled last batch
  ASSERT_EQ(probe->seen.size(), 50u);
  for (std::uint64_t i = 0; i < 50; ++i) EXPECT_EQ(probe->seen[i], i);
  // 25 fps: three pictures (120 ms) a call, then the two left at drain().
  EXPECT_EQ(d.stats(0).processed.load(), 50u);
  std::uint64_t calls = 0;
  for (const auto& b : d.stats(0).time_buckets) calls += b.load();
  EXPECT_EQ(calls, 17u);
}

}  // namespace
}  // namespace avmon
