// Owning handles for libav objects.
#pragma once

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

namespace avmon {

struct AVFrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct AVPacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct AVCodecContextFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};

using AVFramePtr = std::unique_ptr<AVFrame, AVFrameFree>;
using AVPacketPtr = std::unique_ptr<AVPacket, AVPacketFree>;
using AVCodecContextPtr = std::unique_ptr<AVCodecContext, AVCodecContextFree>;

inline AVFramePtr make_av_frame() { return AVFramePtr(av_frame_alloc()); }

}  // namespace avmon
