#include "reports/taps.hpp"

#include <algorithm>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "reports/ac3_bsi.hpp"
#include "reports/options.hpp"

namespace avmon::reports {

namespace {

std::optional<double> number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<std::uint32_t> event_id(const nlohmann::json& brk) {
  for (const char* key : {"event_id", "segmentation_event_id"}) {
    const auto it = brk.find(key);
    if (it != brk.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0)
      return static_cast<std::uint32_t>(it->get<std::int64_t>());
  }
  return std::nullopt;
}

bool has(const std::vector<std::string>& v, const char* s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

SegmenterOptions segmenter_options(const Config& cfg, bool live) {
  SegmenterOptions o;
  o.segment_s = settings().get_double("segment_s");
  o.wall_aligned = live;
  o.on_interval = has(settings().get_strings("segment_on"), "interval");
  o.preset = report_preset(cfg);
  o.dialnorm_tolerance_db = settings().get_double("dialnorm_tolerance_db");
  return o;
}

bool segments_on_splices() { return has(settings().get_strings("segment_on"), "scte35"); }

void feed_dialnorm(const InputPacket& p, LoudnessSegmenter& log) {
  if (p.video || !p.packet || !p.stream || !p.stream->codecpar) return;
  const AVCodecID codec = p.stream->codecpar->codec_id;
  if (codec != AV_CODEC_ID_AC3 && codec != AV_CODEC_ID_EAC3) {
    log.set_dialnorm(std::nullopt);
    return;
  }
  if (!p.packet->data || p.packet->size <= 0) return;
  if (const auto db = packet_dialnorm_db(p.packet->data, static_cast<std::size_t>(p.packet->size))) log.set_dialnorm(db);
}

void feed_cue(const nlohmann::json& line, LoudnessSegmenter& log) {
  if (!line.is_object() || line.value("kind", "") != "scte35.cue") return;
  const auto d = line.find("details");
  if (d == line.end() || !d->is_object()) return;
  const auto brk = d->find("break");
  if (brk == d->end() || !brk->is_object()) return;
  const std::string state = brk->value("state", "");
  auto id = event_id(*brk);
  if (!id) {
    // A return without its out has no id in the break: the command's.
    const auto cmd = d->find("splice_insert");
    if (cmd != d->end() && cmd->is_object()) {
      const auto it = cmd->find("splice_event_id");
      if (it != cmd->end() && it->is_number_integer() && it->get<std::int64_t>() >= 0)
        id = static_cast<std::uint32_t>(it->get<std::int64_t>());
    }
  }
  if (state == "cancelled") {
    if (id) log.cancel_splice(*id);
    return;
  }
  // Where the splice is on the programme's clock; an immediate one without
  // a known PTS is where the cue arrived.
  const double at_s = number(*d, "splice_media_time").value_or(number(line, "media_time").value_or(0.0));
  if (state == "out") {
    const auto out_s = number(*brk, "out_media_time").value_or(at_s);
    log.splice(out_s, true, id);
    if (brk->value("auto_return", false))
      if (const auto due = number(*brk, "return_due_media_time")) log.splice(*due, false, id, true);
  } else if (state == "in" || state == "end") {
    log.splice(at_s, false, id);
  }
}

}  // namespace avmon::reports
