#include "captions/captions.hpp"

#include <cmath>

extern "C" {
#include <libavutil/frame.h>
}

namespace avmon::captions {

namespace {

std::vector<std::string> channel_choices() {
  std::vector<std::string> c = {"CC1", "CC2", "CC3", "CC4"};
  for (int s = 1; s <= 63; ++s) c.push_back("S" + std::to_string(s));
  return c;
}

}  // namespace

CaptionsDetector::CaptionsDetector(CaptionsParams p) : p_(std::move(p)) {
  for (const auto& name : p_.channels) {
    Watched w;
    w.name = name;
    w.is_service = name[0] == 'S';
    w.number = std::stoi(name.substr(w.is_service ? 1 : 2)) - (w.is_service ? 0 : 1);
    watched_.push_back(w);
  }
}

std::uint64_t CaptionsDetector::characters(size_t i) const {
  const auto& w = watched_[i];
  const auto& c = decoder_.counts();
  return w.is_service ? c.service_chars[static_cast<size_t>(w.number)] : c.cc_chars[static_cast<size_t>(w.number)];
}

void CaptionsDetector::on_discontinuity(double /*media_time_s*/) {
  // A gap in the media is signal loss, not a caption loss: count afresh.
  restart_ = true;
}

void CaptionsDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  ++pictures_;
  if (const AVFrameSideData* sd = av_frame_get_side_data(frame.av_frame(), AV_FRAME_DATA_A53_CC)) {
    ++pictures_with_cc_;
    decoder_.feed(sd->data, sd->size);
  }
  const double t = frame.media_time_s();
  for (size_t i = 0; i < watched_.size(); ++i) {
    auto& w = watched_[i];
    const std::uint64_t n = characters(i);
    if (restart_ || std::isnan(w.last_char_s) || n > w.last_count) w.last_char_s = t;
    w.last_count = n;
    if (!p_.expected) continue;
    // Captions come in bursts (a pop-on caption every few seconds): the
    // condition is a gap of min_duration_s since the last character, and it
    // began at that character.
    const bool absent = t - w.last_char_s >= p_.min_duration_s;
    if (absent == w.absent) continue;  // the engine holds the state
    w.absent = absent;
    Observation o;
    o.type = "caption_loss";
    o.media_time_s = t;
    o.active = absent;
    o.since_s = absent ? w.last_char_s : t;
    o.channel = static_cast<int>(i);
    o.details = {{"caption_channel", w.name}, {"characters", n}};
    out.observe(std::move(o));
  }
  restart_ = false;
}

nlohmann::json CaptionsDetector::summary() const {
  const auto& c = decoder_.counts();
  nlohmann::json channels = nlohmann::json::object();
  for (size_t i = 0; i < 4; ++i)
    if (c.cc_chars[i] || c.text_chars[i]) channels["CC" + std::to_string(i + 1)] = c.cc_chars[i];
  for (size_t s = 1; s < c.service_chars.size(); ++s)
    if (c.service_chars[s]) channels["S" + std::to_string(s)] = c.service_chars[s];
  for (const auto& w : watched_)
    if (!channels.contains(w.name)) channels[w.name] = 0;
  nlohmann::json text = nlohmann::json::object();
  for (size_t i = 0; i < 4; ++i)
    if (c.text_chars[i]) text["T" + std::to_string(i + 1)] = c.text_chars[i];
  return {{"captions",
           {{"characters", channels},
            {"text_characters", text},
            {"pictures", pictures_},
            {"pictures_with_cc_data", pictures_with_cc_},
            {"parity_errors", c.parity_errors},
            {"xds_bytes", c.xds_bytes},
            {"dtvcc_packets", c.dtvcc_packets},
            {"dtvcc_errors", c.dtvcc_errors}}}};
}

DetectorInfo describe_captions() {
  DetectorInfo d;
  d.name = "captions";
  d.summary = "closed captions (CEA-608 CC1-CC4, CEA-708 services) carried with the pictures: displayable "
              "characters per channel; caption_loss when an expected channel carries none";
  d.media = kVideo;
  // Pictures needed: caption data rides on every picture, non-reference ones included.
  d.pictures = PictureNeed::All;
  d.types = {"caption_loss"};
  d.options = {
      {"expected", OptionType::Bool, false, {}, {}, "",
       "the programme is captioned: raise caption_loss when a channel below carries no displayable character for "
       "min_duration_s (false: only count)", {}},
      {"channels", OptionType::StringList, std::vector<std::string>{"CC1"}, {}, {}, "",
       "CEA-608 channels (CC1-CC4) and CEA-708 services (S1-S63) to watch", channel_choices()},
  };
  d.min_duration_s = 30.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    CaptionsParams p;
    p.expected = o.get_bool("expected");
    p.channels = o.get_strings("channels");
    p.min_duration_s = o.has("min_duration_s") ? o.get_double("min_duration_s") : 30.0;
    return std::make_unique<CaptionsDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(captions, describe_captions);

}  // namespace avmon::captions
