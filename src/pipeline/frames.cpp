#include "pipeline/frames.hpp"

#include "pipeline/box_downscale.hpp"

#include <vector>

#include <opencv2/imgproc.hpp>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace avmon {

namespace {

// One-shot conversion of the whole picture into a packed 8-bit destination.
// A fresh SwsContext per call is cheap next to decoding (it is cached per
// thread by size/format below) and keeps frames independent of each other.
void convert(const AVFrame* src, AVPixelFormat dst_fmt, cv::Mat& dst) {
  struct Cache {
    SwsContext* ctx = nullptr;
    ~Cache() { sws_freeContext(ctx); }
  };
  thread_local Cache cache;
  cache.ctx = sws_getCachedContext(cache.ctx, src->width, src->height,
                                   static_cast<AVPixelFormat>(src->format), dst.cols, dst.rows, dst_fmt,
                                   SWS_AREA, nullptr, nullptr, nullptr);
  if (!cache.ctx) {
    dst.setTo(0);
    return;
  }
  uint8_t* dst_data[4] = {dst.data, nullptr, nullptr, nullptr};
  int dst_stride[4] = {static_cast<int>(dst.step[0]), 0, 0, 0};
  sws_scale(cache.ctx, src->data, src->linesize, 0, src->height, dst_data, dst_stride);
}

// A picture swscale will write into. Its vector code stores whole vectors
// and may run past the end of a row (it expects FFmpeg's padded frames);
// rows are written top to bottom, so a row's overrun is overwritten by the
// next row and only the last row's goes past the picture. Spare rows under
// the picture take it, never the allocator's bookkeeping of the next block.
// The picture stays continuous (a row range of a continuous matrix).
void create_for_swscale(cv::Mat& m, cv::Size size, int type) {
  constexpr std::size_t kOverrunBytes = 256;
  const std::size_t row_bytes = static_cast<std::size_t>(size.width) * CV_ELEM_SIZE(type);
  const int spare_rows = static_cast<int>((kOverrunBytes + row_bytes - 1) / row_bytes);
  cv::Mat storage(size.height + spare_rows, size.width, type);
  m = storage.rowRange(0, size.height);
}

bool is_8bit_planar_yuv(int fmt) {
  switch (fmt) {
    case AV_PIX_FMT_YUV420P: case AV_PIX_FMT_YUVJ420P: case AV_PIX_FMT_YUV422P:
    case AV_PIX_FMT_YUVJ422P: case AV_PIX_FMT_YUV444P: case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_NV12: case AV_PIX_FMT_NV21: case AV_PIX_FMT_GRAY8:
    case AV_PIX_FMT_YUV411P: case AV_PIX_FMT_YUV410P: case AV_PIX_FMT_YUV440P:
      return true;
    default:
      return false;
  }
}

}  // namespace

BusVideoFrame::BusVideoFrame(AVFramePtr frame, std::uint64_t index, double media_time_s, double duration_s,
                             DecodeInfo info, DerivedStats* stats)
    : frame_(std::move(frame)), index_(index), media_time_s_(media_time_s), duration_s_(duration_s),
      info_(info), stats_(stats) {}

int BusVideoFrame::analysis_factor(int width) {
  return std::max(1, (width + kAnalysisMaxWidth - 1) / kAnalysisMaxWidth);
}

cv::Size BusVideoFrame::analysis_size(int width, int height) {
  const int f = analysis_factor(width);
  return {std::max(1, width / f), std::max(1, height / f)};
}

const cv::Mat& BusVideoFrame::luma_full() const {
  std::call_once(full_once_, [this] {
    if (is_8bit_planar_yuv(frame_->format)) {
      // A header over the decoder's plane: no pixel is copied.
      full_ = cv::Mat(frame_->height, frame_->width, CV_8UC1, frame_->data[0],
                      static_cast<size_t>(frame_->linesize[0]));
    } else {
      create_for_swscale(full_, {frame_->width, frame_->height}, CV_8UC1);
      convert(frame_.get(), AV_PIX_FMT_GRAY8, full_);
      if (stats_) ++stats_->luma_full_converted;
    }
  });
  return full_;
}

const cv::Mat& BusVideoFrame::luma() const {
  std::call_once(luma_once_, [this] {
    cv::Size s = analysis_size(frame_->width, frame_->height);
    if (s.width == frame_->width && s.height == frame_->height) {
      luma_ = luma_full();
    } else if (is_8bit_planar_yuv(frame_->format)) {
      // Scale the Y plane alone, in the coded range (no limited->full
      // expansion) and without touching chroma. Whole-factor sizes are exact
      // box averages, so the SIMD box kernels do it (a seventh of swscale's
      // cost at 1080p, a third at 720p); swscale's area filter where there
      // is no kernel (CPUs other than x86-64).
      create_for_swscale(luma_, s, CV_8UC1);
      if (!box_downscale(frame_->data[0], frame_->linesize[0], frame_->width, frame_->height,
                         analysis_factor(frame_->width), luma_.data, static_cast<int>(luma_.step[0]))) {
        AVFrame y{};
        y.width = frame_->width;
        y.height = frame_->height;
        y.format = AV_PIX_FMT_GRAY8;
        y.data[0] = frame_->data[0];
        y.linesize[0] = frame_->linesize[0];
        convert(&y, AV_PIX_FMT_GRAY8, luma_);
      }
    } else {
      create_for_swscale(luma_, s, CV_8UC1);
      convert(frame_.get(), AV_PIX_FMT_GRAY8, luma_);
    }
    if (stats_) ++stats_->luma;
    luma_ready_ = true;
  });
  return luma_;
}

const cv::Mat& BusVideoFrame::luma_even_rows() const {
  std::call_once(even_once_, [this] {
    const int factor = analysis_factor(frame_->width);
    const cv::Size s = analysis_size(frame_->width, frame_->height);
    const int rows = (s.height + 1) / 2;
    if (!luma_ready_ && factor > 1 && is_8bit_planar_yuv(frame_->format)) {
      even_.create(rows, s.width, CV_8UC1);
      if (box_downscale(frame_->data[0], frame_->linesize[0], frame_->width, frame_->height, factor, even_.data,
                        static_cast<int>(even_.step[0]), BoxKernel::Auto, 2 * factor)) {
        if (stats_) ++stats_->luma_even_rows;
        return;
      }
    }
    // The full analysis luma exists (or there is no kernel, or no scaling):
    // every other row of it, as a header. It does not own its pixels, so a
    // detector that keeps it must copy it.
    const cv::Mat& full = luma();
    even_ = cv::Mat(rows, full.cols, CV_8UC1, full.data, full.step[0] * 2);
  });
  return even_;
}

const cv::Mat& BusVideoFrame::bgr() const {
  std::call_once(bgr_once_, [this] {
    create_for_swscale(bgr_, analysis_size(frame_->width, frame_->height), CV_8UC3);
    convert(frame_.get(), AV_PIX_FMT_BGR24, bgr_);
    if (stats_) ++stats_->bgr;
  });
  return bgr_;
}

BusAudioBlock::BusAudioBlock(AVFramePtr fltp, std::uint64_t index, double media_time_s,
                             std::shared_ptr<const std::vector<std::string>> names)
    : frame_(std::move(fltp)), index_(index), media_time_s_(media_time_s), names_(std::move(names)) {}

std::vector<std::string> channel_names(const AVChannelLayout& layout) {
  std::vector<std::string> names;
  for (int c = 0; c < layout.nb_channels; ++c) {
    char buf[64] = {0};
    AVChannel ch = av_channel_layout_channel_from_index(&layout, static_cast<unsigned>(c));
    if (ch != AV_CHAN_NONE && av_channel_name(buf, sizeof buf, ch) > 0 && buf[0] != 'U')
      names.emplace_back(buf);
    else
      names.push_back(std::string("c").append(std::to_string(c)));  // not "c" + ...: GCC 12's false -Wrestrict at -O3
  }
  return names;
}

}  // namespace avmon
