#include "input/declared_format.hpp"

#include <cstdio>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
}

namespace avmon {

std::string level_name(int codec_id, int level) {
  if (level <= 0) return "";  // FF_LEVEL_UNKNOWN (-99) or not given
  char buf[32];
  switch (codec_id) {
    case AV_CODEC_ID_H264:
      if (level == 9) return "1b";
      std::snprintf(buf, sizeof buf, "%d.%d", level / 10, level % 10);
      return buf;
    case AV_CODEC_ID_HEVC:
      // general_level_idc is 30 times the level number.
      std::snprintf(buf, sizeof buf, "%d.%d", level / 30, (level % 30) / 3);
      return buf;
    case AV_CODEC_ID_MPEG2VIDEO:
      switch (level) {
        case 4: return "High";
        case 6: return "High 1440";
        case 8: return "Main";
        case 10: return "Low";
        default: break;
      }
      break;
    default: break;
  }
  return std::to_string(level);
}

void fill_declared_format(StreamInfo& info, const AVFormatContext* fmt, const AVCodecContext* video,
                          const AVCodecContext* audio) {
  if (video) {
    const char* profile = avcodec_profile_name(video->codec_id, video->profile);
    info.video_profile = profile ? profile : "";
    info.video_level = level_name(video->codec_id, video->level);
  }
  if (audio) {
    char buf[128] = {0};
    if (av_channel_layout_describe(&audio->ch_layout, buf, sizeof buf) > 0) info.channel_layout = buf;
  }
  info.audio_languages.clear();
  if (!fmt) return;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    const AVDictionaryEntry* lang = av_dict_get(st->metadata, "language", nullptr, 0);
    info.audio_languages.push_back(lang && lang->value[0] ? lang->value : "und");
  }
}

}  // namespace avmon
