// The declared format of the input as the stream describes it: codec
// profile and level, audio channel layout, and the language of every audio
// stream (not only the one decoded), for the expect: checks and
// stream.summary.
#pragma once

#include "avmon/frame.hpp"

struct AVCodecContext;
struct AVFormatContext;

namespace avmon {

// Fills video_profile, video_level, channel_layout and audio_languages of
// `info`; `video`/`audio` may be null.
void fill_declared_format(StreamInfo& info, const AVFormatContext* fmt, const AVCodecContext* video,
                          const AVCodecContext* audio);

// "4.0" for H.264 level_idc 40, "4.1" for HEVC general_level_idc 123, "Main"
// for MPEG-2 level 8; empty when unknown.
std::string level_name(int codec_id, int level);

}  // namespace avmon
