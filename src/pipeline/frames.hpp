// The frame bus's concrete frames: a decoded AVFrame owned once and shared
// read-only by every detector through shared_ptr<const VideoFrame>. Derived
// products are computed on first use under std::call_once, so however many
// detectors ask, each is made once per frame.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/frame.hpp"
#include "pipeline/av_ptr.hpp"

namespace avmon {

// Counts of derived products actually computed, for the frame-bus tests and
// the metrics: they prove sharing, not just claim it.
struct DerivedStats {
  std::atomic<std::uint64_t> luma{0};
  std::atomic<std::uint64_t> luma_even_rows{0};
  std::atomic<std::uint64_t> luma_full_converted{0};
  std::atomic<std::uint64_t> bgr{0};
};

// Analysis size: the coded size divided by the smallest whole factor that
// brings the width to at most this many pixels (1920 -> 480, 1280 -> 426,
// 720 -> 360): whole pixels of analysis luma cover whole boxes of the picture.
inline constexpr int kAnalysisMaxWidth = 480;

class BusVideoFrame final : public VideoFrame {
 public:
  BusVideoFrame(AVFramePtr frame, std::uint64_t index, double media_time_s, double duration_s,
                DecodeInfo info, DerivedStats* stats = nullptr);

  std::uint64_t index() const override { return index_; }
  double media_time_s() const override { return media_time_s_; }
  double duration_s() const override { return duration_s_; }
  int width() const override { return frame_->width; }
  int height() const override { return frame_->height; }
  int pixel_format() const override { return frame_->format; }
  const AVFrame* av_frame() const override { return frame_.get(); }
  const DecodeInfo& decode_info() const override { return info_; }
  const cv::Mat& luma() const override;
  const cv::Mat& luma_even_rows() const override;
  const cv::Mat& luma_full() const override;
  const cv::Mat& bgr() const override;

  static cv::Size analysis_size(int width, int height);
  static int analysis_factor(int width);

 private:
  AVFramePtr frame_;
  std::uint64_t index_;
  double media_time_s_, duration_s_;
  DecodeInfo info_;
  DerivedStats* stats_;
  mutable std::once_flag luma_once_, even_once_, full_once_, bgr_once_;
  mutable cv::Mat luma_, even_, full_, bgr_;
  mutable std::atomic<bool> luma_ready_{false};
};

// Planar float audio (AV_SAMPLE_FMT_FLTP), converted once by the decoder.
class BusAudioBlock final : public AudioBlock {
 public:
  BusAudioBlock(AVFramePtr fltp, std::uint64_t index, double media_time_s,
                std::shared_ptr<const std::vector<std::string>> channel_names);

  std::uint64_t index() const override { return index_; }
  double media_time_s() const override { return media_time_s_; }
  int sample_rate() const override { return frame_->sample_rate; }
  int channels() const override { return frame_->ch_layout.nb_channels; }
  int samples() const override { return frame_->nb_samples; }
  const float* channel(int c) const override {
    return reinterpret_cast<const float*>(frame_->extended_data[c]);
  }
  const std::string& channel_name(int c) const override { return (*names_)[static_cast<size_t>(c)]; }
  const AVFrame* av_frame() const { return frame_.get(); }

 private:
  AVFramePtr frame_;
  std::uint64_t index_;
  double media_time_s_;
  std::shared_ptr<const std::vector<std::string>> names_;
};

// Channel names of a layout ("FL", "FR", ...; "c3" where the layout has none).
std::vector<std::string> channel_names(const AVChannelLayout& layout);

}  // namespace avmon
