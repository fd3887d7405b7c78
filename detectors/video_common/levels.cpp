#include "video_common/levels.hpp"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace avmon::video {

int black_level_of(const VideoFrame& f) {
  const AVFrame* av = f.av_frame();
  if (av && av->color_range == AVCOL_RANGE_JPEG) return 0;
  switch (f.pixel_format()) {
    case AV_PIX_FMT_YUVJ420P: case AV_PIX_FMT_YUVJ422P: case AV_PIX_FMT_YUVJ444P: case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_GRAY8: case AV_PIX_FMT_RGB24: case AV_PIX_FMT_BGR24: case AV_PIX_FMT_RGBA: case AV_PIX_FMT_BGRA:
      return 0;
    default:
      return 16;
  }
}

}  // namespace avmon::video
