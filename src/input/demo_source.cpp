// The built-in demo: a generated programme (moving picture, chords with
// noise) made in process, with known defects, so `avmon demo` needs no file
// and no network. Frames go through the same bus as decoded ones.
//
// Schedule (media time, seconds):
//   10 - 14  black picture with a small station logo left on it
//   25 - 29  frozen picture (the encoder keeps sending the held frame)
//   40 - 44  programme audio silent (picture goes on)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>

#include <opencv2/imgproc.hpp>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "input/source.hpp"

namespace avmon {

namespace {

constexpr int kWidth = 640, kHeight = 360;
constexpr int kFps = 25;
constexpr int kRate = 48000, kBlock = 1024;

struct Segment {
  double start_s, end_s;
  bool contains(double t) const { return t >= start_s && t < end_s; }
};
constexpr Segment kBlack{10, 14}, kFreeze{25, 29}, kSilence{40, 44};

class DemoSource final : public MediaSource {
 public:
  DemoSource(DemoOptions opts, const std::atomic<bool>* stop_flag) : opts_(opts), external_stop_(stop_flag) {
    info_.has_video = true;
    info_.width = kWidth;
    info_.height = kHeight;
    info_.frame_rate = kFps;
    info_.video_codec = "rawvideo (generated)";
    info_.has_audio = true;
    info_.sample_rate = kRate;
    info_.channels = 2;
    info_.channel_names = {"FL", "FR"};
    info_.audio_codec = "pcm (generated)";
    names_ = std::make_shared<const std::vector<std::string>>(info_.channel_names);
  }

  void open() override {}
  const StreamInfo& info() const override { return info_; }
  void stop() override {
    stop_ = true;
    cv_.notify_all();
  }
  double end_media_time_s() const override { return end_s_; }
  double duration_s() const override { return opts_.duration_s; }
  bool live() const override { return false; }

  std::string run(SourceConsumer& consumer) override {
    consumer.on_stream_info(info_, false);
    const auto origin = std::chrono::steady_clock::now();
    std::uint64_t frame = 0, block = 0;
    const auto frames = static_cast<std::uint64_t>(opts_.duration_s * kFps);
    while (frame < frames) {
      if (stopping()) return "stopped";
      double tv = static_cast<double>(frame) / kFps;
      double ta = static_cast<double>(block) * kBlock / kRate;
      // Interleave like a muxer: whichever medium is behind goes next.
      double next = std::min(tv, ta);
      if (opts_.realtime) {
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, origin + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(next)),
                       [&] { return stopping(); });
        if (stopping()) return "stopped";
      }
      if (tv <= ta) {
        consumer.on_video(make_picture(frame, tv));
        ++stats_.video_frames;
        ++frame;
        end_s_ = std::max(end_s_, tv + 1.0 / kFps);
      } else {
        consumer.on_audio(make_sound(block, ta));
        ++stats_.audio_blocks;
        ++block;
      }
    }
    return "end of input";
  }

 private:
  bool stopping() const { return stop_ || (external_stop_ && external_stop_->load()); }

  // A busy picture: drifting colour gradient, moving shapes, a running clock
  // and a little sensor noise, like camera footage.
  void draw(double t, cv::Mat& bgr) {
    for (int y = 0; y < kHeight; y += 4) {
      for (int x = 0; x < kWidth; x += 4) {
        double v = 0.5 + 0.5 * std::sin(x * 0.012 + t * 0.9) * std::cos(y * 0.017 - t * 0.6);
        cv::rectangle(bgr, {x, y, 4, 4},
                      cv::Scalar(60 + 120 * v, 80 + 100 * (1 - v), 70 + 90 * std::sin(t * 0.3 + v) * std::sin(t * 0.3 + v)),
                      cv::FILLED);
      }
    }
    for (int i = 0; i < 5; ++i) {
      cv::Point c(static_cast<int>(kWidth / 2 + (kWidth / 2.5) * std::sin(t * (0.7 + 0.2 * i) + i)),
                  static_cast<int>(kHeight / 2 + (kHeight / 2.5) * std::cos(t * (0.5 + 0.15 * i) + 2 * i)));
      cv::circle(bgr, c, 18 + 6 * i, cv::Scalar(40 * i, 220 - 30 * i, 120 + 25 * i), cv::FILLED, cv::LINE_AA);
    }
    char clock[32];
    std::snprintf(clock, sizeof clock, "%05.2f", t);
    cv::putText(bgr, clock, {20, kHeight - 24}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(255, 255, 255), 2);
    cv::Mat noise(bgr.size(), bgr.type());
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(3));
    bgr += noise;
  }

  std::shared_ptr<const VideoFrame> make_picture(std::uint64_t index, double t) {
    if (kFreeze.contains(t) && held_) {
      // The held picture re-sent: a new reference to the same pixels, as a
      // decoder hands out for a repeated picture.
      return std::make_shared<BusVideoFrame>(AVFramePtr(av_frame_clone(held_.get())), index, t, 1.0 / kFps,
                                             DecodeInfo{}, &derived_);
    }
    cv::Mat bgr(kHeight, kWidth, CV_8UC3, cv::Scalar(0, 0, 0));
    if (kBlack.contains(t)) {
      // Black, but the station logo stays on screen (about 1% of the picture).
      cv::rectangle(bgr, {kWidth - 110, 20, 86, 30}, cv::Scalar(200, 200, 200), cv::FILLED);
      cv::putText(bgr, "avmon", {kWidth - 106, 43}, cv::FONT_HERSHEY_SIMPLEX, 0.7, cv::Scalar(30, 30, 30), 2);
    } else {
      draw(t, bgr);
    }
    AVFramePtr f = make_av_frame();
    f->width = kWidth;
    f->height = kHeight;
    f->format = AV_PIX_FMT_YUV420P;
    av_frame_get_buffer(f.get(), 0);
    // OpenCV's I420 conversion is BT.601 limited range (black Y 16), as broadcast video is.
    cv::Mat yuv;
    cv::cvtColor(bgr, yuv, cv::COLOR_BGR2YUV_I420);
    const uint8_t* y = yuv.ptr();
    for (int r = 0; r < kHeight; ++r) std::memcpy(f->data[0] + r * f->linesize[0], y + r * kWidth, kWidth);
    const uint8_t* u = y + kWidth * kHeight;
    const uint8_t* v = u + kWidth * kHeight / 4;
    for (int r = 0; r < kHeight / 2; ++r) {
      std::memcpy(f->data[1] + r * f->linesize[1], u + r * kWidth / 2, kWidth / 2);
      std::memcpy(f->data[2] + r * f->linesize[2], v + r * kWidth / 2, kWidth / 2);
    }
    if (kFreeze.contains(t)) held_.reset(av_frame_clone(f.get()));
    return std::make_shared<BusVideoFrame>(std::move(f), index, t, 1.0 / kFps, DecodeInfo{}, &derived_);
  }

  // Programme sound: chords that change twice a second with a little noise,
  // about -20 dBFS RMS, different on the two channels.
  std::shared_ptr<const AudioBlock> make_sound(std::uint64_t index, double t0) {
    AVFramePtr f = make_av_frame();
    f->format = AV_SAMPLE_FMT_FLTP;
    f->sample_rate = kRate;
    f->nb_samples = kBlock;
    av_channel_layout_default(&f->ch_layout, 2);
    av_frame_get_buffer(f.get(), 0);
    static constexpr double kChords[4][3] = {{220.0, 277.2, 329.6}, {196.0, 246.9, 293.7},
                                             {174.6, 220.0, 261.6}, {164.8, 207.7, 246.9}};
    std::normal_distribution<float> noise(0.0f, 0.01f);
    for (int c = 0; c < 2; ++c) {
      auto* out = reinterpret_cast<float*>(f->extended_data[c]);
      for (int i = 0; i < kBlock; ++i) {
        double t = t0 + static_cast<double>(i) / kRate;
        if (kSilence.contains(t)) {
          out[i] = 0.0f;
          continue;
        }
        const auto& chord = kChords[static_cast<int>(t * 2) % 4];
        double phase = t - std::floor(t * 2) / 2;      // time into the current chord
        // Plucked and decaying; 5 ms in and out at a chord change, so the
        // change is not a step in the waveform (a click the audio_dropout
        // detector would rightly report).
        double env = std::exp(-phase * 3.0) * std::min({1.0, phase / 0.005, (0.5 - phase) / 0.005});
        double s = 0;
        for (int k = 0; k < 3; ++k) s += std::sin(2 * M_PI * chord[k] * (1 + 0.002 * c) * t + k);
        out[i] = static_cast<float>(0.09 * env * s) + noise(rng_);
      }
    }
    return std::make_shared<BusAudioBlock>(std::move(f), index, t0, names_);
  }

  DemoOptions opts_;
  const std::atomic<bool>* external_stop_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  StreamInfo info_;
  std::shared_ptr<const std::vector<std::string>> names_;
  AVFramePtr held_;
  std::mt19937 rng_{20261126};
  double end_s_ = 0;
};

}  // namespace

std::unique_ptr<MediaSource> make_demo_source(const DemoOptions& opts, const std::atomic<bool>* stop_flag) {
  return std::make_unique<DemoSource>(opts, stop_flag);
}

}  // namespace avmon
