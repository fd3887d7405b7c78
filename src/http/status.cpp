// /status: the telemetry snapshot as one JSON document (the status page
// polls it).
#include <cmath>

#include "http/server.hpp"

namespace avmon {

namespace {

nlohmann::json format_json(const TelemetrySnapshot& s) {
  if (!s.have_format) return nullptr;
  const StreamInfo& f = s.format;
  nlohmann::json j = {{"live", f.live}, {"video", f.has_video}, {"audio", f.has_audio}};
  if (f.has_video)
    j.update({{"width", f.width}, {"height", f.height}, {"frame_rate", f.frame_rate}, {"video_codec", f.video_codec}});
  if (f.has_audio)
    j.update({{"sample_rate", f.sample_rate}, {"channels", f.channels}, {"channel_names", f.channel_names},
              {"audio_codec", f.audio_codec}});
  return j;
}

}  // namespace

nlohmann::json render_status(const TelemetrySnapshot& s) {
  nlohmann::json j;
  j["version"] = s.version;
  j["stream"] = s.stream;
  j["input"] = {{"url", s.input}, {"up", s.input_up}, {"last_media_age_s", s.last_media_age_s}};
  j["uptime_s"] = s.uptime_s;
  j["format"] = format_json(s);
  j["frames"] = {{"video", s.pipeline.video_frames}, {"audio_blocks", s.pipeline.audio_blocks},
                 {"decode_errors", s.pipeline.decode_errors}, {"corrupt", s.pipeline.corrupt_frames}};
  j["decode"] = s.pipeline.decode;  // mode, pictures decoded and skipped, starved detectors
  j["active_defects"] = s.active;
  j["recent_events"] = s.recent;
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : s.channels) channels.push_back({{"name", c.name}, {"peak_dbfs", c.peak_dbfs}, {"rms_dbfs", c.rms_dbfs}});
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(std::round(*v * 10) / 10) : nlohmann::json(); };
  j["levels"] = {{"channels", channels},
                 {"loudness", {{"momentary_lufs", opt(s.momentary_lufs)}, {"short_term_lufs", opt(s.short_term_lufs)},
                               {"integrated_lufs", opt(s.integrated_lufs)}}}};
  nlohmann::json detectors = nlohmann::json::object();
  for (const auto& d : s.pipeline.detectors)
  {
    detectors[d.name] = {{"processed", d.processed}, {"dropped", d.dropped}, {"errors", d.errors}, {"cpu_s", d.cpu_s},
                         {"state", d.state}, {"lag_s", std::round(d.lag_s * 1000) / 1000}};
    if (!d.levels.is_null()) detectors[d.name]["levels"] = d.levels;
  }
  j["detectors"] = detectors;
  nlohmann::json notifiers = nlohmann::json::object();
  for (const auto& [name, c] : s.notifiers)
    notifiers[name] = {{"depth", c->depth.load()}, {"delivered", c->delivered.load()}, {"retries", c->retries.load()},
                       {"dropped", c->dropped.load()}, {"rejected", c->rejected.load()}, {"disabled", c->disabled.load()}};
  j["notifiers"] = notifiers;
  nlohmann::json outputs = nlohmann::json::object();
  for (const auto& [output, f] : s.output_failures)
    outputs[output] = {{"write_errors", f.write_errors}, {"events_lost", f.events_lost}, {"last_error", f.last_error}};
  j["output_errors"] = outputs;
  if (!s.pipeline.transport.is_null()) j["transport"] = s.pipeline.transport;  // MPEG-TS (docs/transport.md)
  if (!s.pipeline.evidence.is_null()) j["evidence"] = s.pipeline.evidence;  // evidence.dir (docs/operations.md)
  return j;
}

}  // namespace avmon
