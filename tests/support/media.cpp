#include "support/media.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

namespace avmon::test {

std::shared_ptr<const VideoFrame> make_video_frame(const cv::Mat& image, double media_time_s,
                                                   std::uint64_t index, double duration_s, DecodeInfo info,
                                                   DerivedStats* stats) {
  if (image.cols % 2 || image.rows % 2) throw std::invalid_argument("make_video_frame: odd size");
  AVFramePtr f = make_av_frame();
  f->width = image.cols;
  f->height = image.rows;
  f->format = AV_PIX_FMT_YUV420P;
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::runtime_error("av_frame_get_buffer");
  const int w = image.cols, h = image.rows;
  if (image.type() == CV_8UC1) {
    for (int y = 0; y < h; ++y) std::memcpy(f->data[0] + y * f->linesize[0], image.ptr(y), static_cast<size_t>(w));
    for (int p = 1; p <= 2; ++p)
      for (int y = 0; y < h / 2; ++y) std::memset(f->data[p] + y * f->linesize[p], 128, static_cast<size_t>(w / 2));
  } else if (image.type() == CV_8UC3) {
    // OpenCV's I420 conversion is BT.601 limited range (Y 16..235), like a broadcast encoder.
    cv::Mat yuv;
    cv::cvtColor(image, yuv, cv::COLOR_BGR2YUV_I420);
    const uint8_t* src = yuv.ptr();
    for (int y = 0; y < h; ++y) std::memcpy(f->data[0] + y * f->linesize[0], src + y * w, static_cast<size_t>(w));
    const uint8_t* u = src + w * h;
    const uint8_t* v = u + (w / 2) * (h / 2);
    for (int y = 0; y < h / 2; ++y) {
      std::memcpy(f->data[1] + y * f->linesize[1], u + y * (w / 2), static_cast<size_t>(w / 2));
      std::memcpy(f->data[2] + y * f->linesize[2], v + y * (w / 2), static_cast<size_t>(w / 2));
    }
  } else {
    throw std::invalid_argument("make_video_frame: CV_8UC1 or CV_8UC3 expected");
  }
  return std::make_shared<BusVideoFrame>(std::move(f), index, media_time_s, duration_s, info, stats);
}

cv::Mat natural_picture(int width, int height, int type, std::uint64_t seed, double sigma, double lo, double hi) {
  cv::Mat img(height, width, type);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, 0, 255);
  cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
  cv::normalize(img, img, lo, hi, cv::NORM_MINMAX);
  return img;
}

std::shared_ptr<const AudioBlock> make_audio_block(const std::vector<std::vector<float>>& channels,
                                                   int sample_rate, double media_time_s, std::uint64_t index) {
  if (channels.empty()) throw std::invalid_argument("make_audio_block: no channels");
  AVFramePtr f = make_av_frame();
  f->format = AV_SAMPLE_FMT_FLTP;
  f->sample_rate = sample_rate;
  f->nb_samples = static_cast<int>(channels[0].size());
  av_channel_layout_default(&f->ch_layout, static_cast<int>(channels.size()));
  if (av_frame_get_buffer(f.get(), 0) < 0) throw std::runtime_error("av_frame_get_buffer");
  for (size_t c = 0; c < channels.size(); ++c)
    std::memcpy(f->extended_data[c], channels[c].data(), channels[c].size() * sizeof(float));
  auto names = std::make_shared<const std::vector<std::string>>(channel_names(f->ch_layout));
  return std::make_shared<BusAudioBlock>(std::move(f), index, media_time_s, std::move(names));
}

}  // namespace avmon::test
