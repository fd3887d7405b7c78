// libavformat/libavcodec source, what to decode: in an MPEG-TS the service
// the operator chose (input.program / --program, by number or name) or by
// default the first service with video, and of it the first video and the
// first audio stream in PMT order; elsewhere libavformat's best streams.
// Media time's origin is the first timestamp of the streams decoded: not of
// the whole file, whose other services and data PIDs run on other clocks
// or start earlier or later.
#include <cstring>

#include <spdlog/spdlog.h>

#include "input/av_source.hpp"

namespace avmon::av_source_detail {

namespace {

bool same_name(const char* a, const std::string& b) {
  if (!a || std::strlen(a) != b.size()) return false;
  for (std::size_t i = 0; i < b.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool program_has(const AVFormatContext* fmt, const AVProgram* p, AVMediaType type) {
  for (unsigned k = 0; k < p->nb_stream_indexes; ++k)
    if (fmt->streams[p->stream_index[k]]->codecpar->codec_type == type) return true;
  return false;
}

}  // namespace

std::optional<std::uint16_t> AvSource::choose_program() {
  if (analyzer_ && analyzer_->synced()) {
    analyzer_->decide_selection();
    if (auto sel = analyzer_->selected()) return sel;
  }
  // The demuxer's programs (PAT order; service_name from the SDT).
  ts::ServiceChoice choice{cfg_.program};
  for (unsigned i = 0; i < fmt_->nb_programs; ++i) {
    const AVProgram* p = fmt_->programs[i];
    const AVDictionaryEntry* name = av_dict_get(p->metadata, "service_name", nullptr, 0);
    if (cfg_.program.empty() ? program_has(fmt_, p, AVMEDIA_TYPE_VIDEO)
                             : (choice.number() == p->id || same_name(name ? name->value : nullptr, cfg_.program)))
      return static_cast<std::uint16_t>(p->id);
  }
  if (cfg_.program.empty() && fmt_->nb_programs > 0) return static_cast<std::uint16_t>(fmt_->programs[0]->id);
  return std::nullopt;
}

std::optional<AvSource::OpenError> AvSource::choose_streams() {
  video_index_ = audio_index_ = -1;
  const bool ts_input = fmt_->iformat && std::strcmp(fmt_->iformat->name, "mpegts") == 0;
  const AVProgram* program = nullptr;
  if (ts_input) {
    auto number = choose_program();
    for (unsigned i = 0; number && i < fmt_->nb_programs; ++i)
      if (fmt_->programs[i]->id == *number) program = fmt_->programs[i];
    if (number && analyzer_) analyzer_->select(*number);
    if (!cfg_.program.empty() && !program) {
      std::string services = analyzer_ && analyzer_->synced() ? analyzer_->services().describe() : "unknown";
      return OpenError{"no service '" + cfg_.program + "' in " + display_url_ + " (services: " + services + ")", !live_};
    }
  } else if (!cfg_.program.empty()) {
    spdlog::warn("input.program '{}' ignored: {} is not an MPEG-TS input", cfg_.program, display_url_);
  }
  if (program) {
    for (unsigned k = 0; k < program->nb_stream_indexes; ++k) {
      const int idx = static_cast<int>(program->stream_index[k]);
      const AVCodecParameters* par = fmt_->streams[idx]->codecpar;
      if (par->codec_id == AV_CODEC_ID_NONE) continue;
      if (par->codec_type == AVMEDIA_TYPE_VIDEO && video_index_ < 0) video_index_ = idx;
      if (par->codec_type == AVMEDIA_TYPE_AUDIO && audio_index_ < 0) audio_index_ = idx;
    }
    const AVDictionaryEntry* name = av_dict_get(program->metadata, "service_name", nullptr, 0);
    spdlog::info("service {}{}{}", program->id, name ? ": " : "", name ? name->value : "");
    return std::nullopt;
  }
  video_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  audio_index_ = av_find_best_stream(fmt_, AVMEDIA_TYPE_AUDIO, -1, video_index_ >= 0 ? video_index_ : -1, nullptr, 0);
  return std::nullopt;
}

void AvSource::set_origin() {
  double origin = NAN;
  for (int idx : {video_index_, audio_index_}) {
    if (idx < 0) continue;
    const AVStream* st = fmt_->streams[idx];
    if (st->start_time == AV_NOPTS_VALUE) continue;
    const double t = st->start_time * av_q2d(st->time_base);
    if (std::isnan(origin) || t < origin) origin = t;
  }
  if (std::isnan(origin) && analyzer_ && tap_ && analyzer_->selected()) {
    // The demuxer saw no timestamp of them (scrambled, or absent so far):
    // the service's own clock at its first PCR.
    analyzer_->set_origin_from_transport();
    if (auto pts = analyzer_->transport_origin_pts()) timeline_.set_origin(static_cast<double>(*pts) / 90000);
    return;
  }
  if (std::isnan(origin) && fmt_->start_time != AV_NOPTS_VALUE)
    origin = fmt_->start_time / static_cast<double>(AV_TIME_BASE);
  if (std::isnan(origin)) return;
  timeline_.set_origin(origin);
  // The transport's events on the same scale, on the first session's clock.
  if (analyzer_ && tap_ && !analyzer_->has_origin()) analyzer_->set_origin_pts(std::llround(origin * 90000));
}

}  // namespace avmon::av_source_detail
