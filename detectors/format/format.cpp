#include "format/format.hpp"

#include <cmath>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

#include "ancillary/expect.hpp"

namespace avmon::format {

namespace {

nlohmann::json name_or_null(const char* s) { return s ? nlohmann::json(s) : nlohmann::json(nullptr); }

const char* hdr_name(int mask) {
  switch (mask) {
    case 1: return "mastering_display";
    case 2: return "content_light_level";
    case 3: return "mastering_display+content_light_level";
    default: return "none";
  }
}

}  // namespace

FormatDetector::FormatDetector(const Options& o) {
  const auto& specs = expect::options();
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    if (!o.has(spec.name)) continue;
    const auto& v = o.values().at(spec.name);
    if (expect::is_unset(spec, v)) continue;
    checks_.push_back({spec.name, static_cast<int>(i), v, -1, {}});
  }
}

void FormatDetector::configure(const StreamInfo& info) {
  has_video_ = info.has_video;
  auto text_or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  if (info.has_video) {
    found_["frame_rate"] = info.frame_rate > 0 ? nlohmann::json(std::round(info.frame_rate * 1000) / 1000) : nullptr;
    found_["video_codec"] = text_or_null(info.video_codec);
    found_["profile"] = text_or_null(info.video_profile);
    found_["level"] = text_or_null(info.video_level);
  } else {
    for (const char* k : {"width", "height", "frame_rate", "scan", "video_codec", "profile", "level",
                          "color_primaries", "color_transfer", "color_space", "color_range", "hdr",
                          "display_aspect_ratio", "afd"})
      found_[k] = nullptr;
    picture_ = {};
  }
  found_["audio_codec"] = info.has_audio ? text_or_null(info.audio_codec) : nlohmann::json(nullptr);
  found_["channel_layout"] = info.has_audio ? text_or_null(info.channel_layout) : nlohmann::json(nullptr);
  found_["sample_rate"] = info.has_audio && info.sample_rate > 0 ? nlohmann::json(info.sample_rate) : nullptr;
  found_["audio_languages"] = info.audio_languages;
  stream_changed_ = true;
}

void FormatDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const AVFrame* f = frame.av_frame();
  // HDR metadata and AFD may ride only on some pictures (key frames): what
  // a key frame carries holds until the next one says otherwise.
  int hdr = 0;
  if (av_frame_get_side_data(f, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA)) hdr |= 1;
  if (av_frame_get_side_data(f, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL)) hdr |= 2;
  if (hdr) hdr_mask_ = hdr;
  else if (frame.decode_info().key_frame || hdr_mask_ < 0) hdr_mask_ = 0;
  const AVFrameSideData* afd = av_frame_get_side_data(f, AV_FRAME_DATA_AFD);
  if (afd && afd->size >= 1) afd_ = afd->data[0] & 0x0F;
  else if (frame.decode_info().key_frame || afd_ == -2) afd_ = -1;

  PictureKey k;
  k.width = f->width;
  k.height = f->height;
  k.scan = f->interlaced_frame ? (f->top_field_first ? 1 : 2) : 0;
  k.primaries = f->color_primaries;
  k.transfer = f->color_trc;
  k.space = f->colorspace;
  k.range = f->color_range;
  k.sar_num = f->sample_aspect_ratio.num;
  k.sar_den = f->sample_aspect_ratio.den;
  k.hdr = hdr_mask_;
  k.afd = afd_;
  if (!(k == picture_)) {
    picture_ = k;
    found_["width"] = k.width;
    found_["height"] = k.height;
    found_["scan"] = k.scan == 0 ? "progressive" : (k.scan == 1 ? "tff" : "bff");
    found_["color_primaries"] = name_or_null(av_color_primaries_name(f->color_primaries));
    found_["color_transfer"] = name_or_null(av_color_transfer_name(f->color_trc));
    found_["color_space"] = name_or_null(av_color_space_name(f->colorspace));
    found_["color_range"] = name_or_null(av_color_range_name(f->color_range));
    found_["hdr"] = hdr_name(k.hdr);
    // An unknown sample aspect ratio is square pixels.
    const long sn = k.sar_num > 0 && k.sar_den > 0 ? k.sar_num : 1, sd = k.sar_num > 0 && k.sar_den > 0 ? k.sar_den : 1;
    found_["display_aspect_ratio"] = expect::aspect_ratio_name(static_cast<long>(k.width) * sn, static_cast<long>(k.height) * sd);
    found_["afd"] = k.afd >= 0 ? nlohmann::json(k.afd) : nlohmann::json(nullptr);
    evaluate(frame.media_time_s(), out);
  } else if (stream_changed_) {
    evaluate(frame.media_time_s(), out);
  }
}

void FormatDetector::on_audio(const AudioBlock& block, ObservationSink& out) {
  // An audio-only stream, or a change announced before the next picture.
  if (stream_changed_ && (!has_video_ || picture_.width >= 0)) evaluate(block.media_time_s(), out);
}

void FormatDetector::evaluate(double t, ObservationSink& out) {
  stream_changed_ = false;
  for (auto& c : checks_) {
    const nlohmann::json& found = found_.contains(c.key) ? found_[c.key] : nlohmann::json(nullptr);
    auto differs = expect::mismatch(c.key, c.expected, found);
    const int state = differs ? 1 : 0;
    const std::string text = expect::found_text(found);
    if (state == c.state && (state == 0 || text == c.reported)) continue;
    c.state = state;
    c.reported = text;
    Observation o;
    o.type = expect::kDefectType;
    o.media_time_s = t;
    o.active = differs.has_value();
    o.channel = c.index;
    if (differs)
      o.details = {{"field", c.key}, {"expected", expect::to_text(c.expected)}, {"found", *differs}};
    out.observe(std::move(o));
  }
}

DetectorInfo describe_format() {
  DetectorInfo d;
  d.name = expect::kDetector;
  d.summary = "the stream's format against the expect: section (format_mismatch names the field); reports what it finds";
  d.media = kVideo | kAudio;
  // Pictures needed: size, pixel format, field order and HDR/AFD side data change at reference pictures (a
  // new sequence starts with a keyframe).
  d.pictures = PictureNeed::Reference;
  d.types = {expect::kDefectType};
  d.min_duration_s = 1.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  // Its reference is the top-level expect: section, not options of its own.
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<FormatDetector>(o); };
  return d;
}

AVMON_REGISTER_DETECTOR(format, describe_format);

}  // namespace avmon::format
