#include "ancillary/scte35_monitor.hpp"

#include <algorithm>
#include <cmath>

namespace avmon::scte35 {

namespace {

double round_ms(double s) { return std::round(s * 1000) / 1000; }

constexpr std::int64_t kTicks = 90000;

}  // namespace

std::int64_t pts_diff(std::int64_t a, std::int64_t b) {
  std::int64_t d = (a - b) & static_cast<std::int64_t>(kPtsMask);
  if (d >= static_cast<std::int64_t>(kPtsModulus / 2)) d -= static_cast<std::int64_t>(kPtsModulus);
  return d;
}

double Monitor::media_of(std::int64_t pts, const ArrivalTime& at) const {
  if (!at.service_pts_90k) return at.media_time_s;
  const double near = at.media_time_s + static_cast<double>(pts_diff(pts, *at.service_pts_90k)) / kTicks;
  if (!at.origin_pts_90k) return near;
  // Exactly the pictures' media time: PTS minus origin, with as many turns
  // of the 33-bit clock as bring it nearest to the arrival's estimate.
  constexpr double kTurnS = static_cast<double>(std::int64_t{1} << 33) / kTicks;
  const double since_origin = static_cast<double>(pts_diff(pts, *at.origin_pts_90k)) / kTicks;
  return since_origin + std::round((near - since_origin) / kTurnS) * kTurnS;
}

void Monitor::on_section(std::uint16_t pid, const std::uint8_t* data, std::size_t size, bool crc_ok,
                         const ArrivalTime& at, MonitorSink& out) {
  ++sections_;
  last_media_s_ = std::max(last_media_s_, at.media_time_s);
  check_due(at.media_time_s, out);
  bool& bad = crc_bad_[pid];
  if (!crc_ok) {
    // The content of a damaged section cannot be trusted: counted, not acted on.
    ++crc_errors_;
    if (!bad) {
      bad = true;
      Observation o;
      o.type = kCrcError;
      o.media_time_s = at.media_time_s;
      o.active = true;
      o.details = {{"pid", pid}, {"table_id", size ? data[0] : 0}};
      out.observe(std::move(o));
    }
    return;
  }
  if (bad) {
    bad = false;
    Observation o;
    o.type = kCrcError;
    o.media_time_s = at.media_time_s;
    o.active = false;
    out.observe(std::move(o));
  }
  auto parsed = parse(data, size);
  if (!parsed.section) {
    ++malformed_;
    out.cue(at.media_time_s, {{"pid", pid}, {"error", parsed.error}});
    return;
  }
  const SpliceInfoSection& s = *parsed.section;
  const char* name = s.encrypted_packet ? "encrypted" : command_name(s.splice_command_type);
  ++commands_[name];
  // splice_null is the encoders' heartbeat and bandwidth_reservation holds
  // bandwidth: counted, not cues.
  if (!s.encrypted_packet && (std::holds_alternative<SpliceNull>(s.command) ||
                              std::holds_alternative<BandwidthReservation>(s.command)))
    return;

  // A cue is new unless the same bytes came before for the same event
  // (encoders repeat a cue until its splice time).
  std::string key = name;
  if (auto* i = std::get_if<SpliceInsert>(&s.command)) key += ":" + std::to_string(i->event_id);
  for (const auto& d : s.descriptors)
    if (auto* seg = std::get_if<SegmentationDescriptor>(&d.body)) key += ":" + std::to_string(seg->event_id);
  std::vector<std::uint8_t> body(data, data + size);
  auto& last = last_[key];
  const bool fresh = last != body;
  if (!fresh) {
    ++repeats_;
    return;
  }
  last = std::move(body);
  ++cues_;

  nlohmann::json details = to_json(s);
  details["pid"] = pid;
  if (at.service_pts_90k) details["arrival_pts"] = *at.service_pts_90k;

  std::optional<std::int64_t> signal_pts;
  if (auto* i = std::get_if<SpliceInsert>(&s.command)) {
    handle_insert(s, *i, at, fresh, details, out);
  } else if (auto* t = std::get_if<TimeSignal>(&s.command)) {
    if (t->time.specified) signal_pts = static_cast<std::int64_t>(s.adjusted_pts(t->time.pts));
    else if (at.service_pts_90k) signal_pts = *at.service_pts_90k;
    if (signal_pts) {
      const double splice_s = media_of(*signal_pts, at);
      details["splice_pts"] = *signal_pts;
      details["splice_media_time"] = round_ms(splice_s);
      if (at.service_pts_90k) {
        const double preroll = static_cast<double>(pts_diff(*signal_pts, *at.service_pts_90k)) / kTicks;
        details["preroll_s"] = round_ms(preroll);
        check_preroll(*signal_pts, preroll, splice_s, 0, out);
      }
      schedule_splice(*signal_pts, splice_s, 0, "time_signal");
    }
    for (const auto& d : s.descriptors)
      if (auto* seg = std::get_if<SegmentationDescriptor>(&d.body))
        handle_segmentation(s, *seg, signal_pts, at, details, out);
  }
  out.cue(at.media_time_s, std::move(details));
}

void Monitor::handle_insert(const SpliceInfoSection& s, const SpliceInsert& i, const ArrivalTime& at, bool fresh,
                            nlohmann::json& details, MonitorSink& out) {
  const std::string key = "insert:" + std::to_string(i.event_id);
  if (i.cancel) {
    if (breaks_.erase(key)) details["break"] = {{"event_id", i.event_id}, {"state", "cancelled"}};
    std::erase_if(pending_splices_, [&](const Splice& p) { return p.event_id == i.event_id && p.what == "splice_insert"; });
    return;
  }
  std::optional<std::int64_t> pts;
  if (i.immediate) {
    if (at.service_pts_90k) pts = *at.service_pts_90k;
  } else if (i.program_splice) {
    if (i.time.specified) pts = static_cast<std::int64_t>(s.adjusted_pts(i.time.pts));
  } else if (!i.components.empty() && i.components[0].time.specified) {
    pts = static_cast<std::int64_t>(s.adjusted_pts(i.components[0].time.pts));
  }
  double splice_s = at.media_time_s;
  if (pts) {
    splice_s = media_of(*pts, at);
    details["splice_pts"] = *pts;
    details["splice_media_time"] = round_ms(splice_s);
    if (at.service_pts_90k) {
      const double preroll = static_cast<double>(pts_diff(*pts, *at.service_pts_90k)) / kTicks;
      details["preroll_s"] = round_ms(preroll);
      if (fresh) check_preroll(*pts, preroll, splice_s, i.event_id, out);
    }
    schedule_splice(*pts, splice_s, i.event_id, "splice_insert");
  }
  if (i.out_of_network) {
    std::optional<double> duration;
    if (i.duration) duration = static_cast<double>(i.duration->duration) / kTicks;
    open_break(key, i.event_id, splice_s, duration, i.duration && i.duration->auto_return, details);
  } else {
    close_break(key, splice_s, "in", details, out);
  }
}

void Monitor::handle_segmentation(const SpliceInfoSection& /*s*/, const SegmentationDescriptor& d,
                                  std::optional<std::int64_t> pts, const ArrivalTime& at, nlohmann::json& details,
                                  MonitorSink& out) {
  const std::string key = "segmentation:" + std::to_string(d.event_id);
  if (d.cancel) {
    if (breaks_.erase(key)) details["break"] = {{"segmentation_event_id", d.event_id}, {"state", "cancelled"}};
    return;
  }
  const double splice_s = pts ? media_of(*pts, at) : at.media_time_s;
  if (segmentation_type_is_start(d.type_id)) {
    std::optional<double> duration;
    if (d.duration_flag) duration = static_cast<double>(d.duration) / kTicks;
    open_break(key, d.event_id, splice_s, duration, false, details);
  } else if (segmentation_type_is_end(d.type_id)) {
    close_break(key, splice_s, "end", details, out);
  }
}

void Monitor::open_break(const std::string& key, std::uint32_t id, double out_s, std::optional<double> duration_s,
                         bool auto_return, nlohmann::json& details) {
  auto [it, inserted] = breaks_.try_emplace(key);
  if (inserted) ++breaks_opened_;
  Break& b = it->second;
  b.key = key;
  b.event_id = id;
  b.out_media_s = out_s;
  b.duration_s = duration_s;
  b.auto_return = auto_return;
  nlohmann::json j = {{"event_id", id}, {"state", "out"}, {"out_media_time", round_ms(out_s)}};
  if (duration_s) {
    j["duration_s"] = round_ms(*duration_s);
    j["auto_return"] = auto_return;
    j["return_due_media_time"] = round_ms(out_s + *duration_s);
  }
  details["break"] = j;
}

void Monitor::close_break(const std::string& key, double in_s, const char* how, nlohmann::json& details,
                          MonitorSink& out) {
  auto it = breaks_.find(key);
  if (it == breaks_.end()) {
    details["break"] = {{"state", how}, {"paired", false}};
    return;
  }
  const Break& b = it->second;
  ++breaks_closed_;
  details["break"] = {{"event_id", b.event_id}, {"state", how}, {"paired", true},
                      {"out_media_time", round_ms(b.out_media_s)}, {"length_s", round_ms(in_s - b.out_media_s)}};
  if (b.overdue) {
    Observation o;
    o.type = kMissingReturn;
    o.media_time_s = std::max(in_s, last_media_s_);
    o.active = false;
    o.since_s = std::max(in_s, b.out_media_s + b.duration_s.value_or(0) + o_.return_tolerance_s);
    out.observe(std::move(o));
  }
  breaks_.erase(it);
}

void Monitor::check_preroll(std::int64_t /*splice_pts*/, double preroll_s, double splice_media_s, std::uint32_t id,
                            MonitorSink& out) {
  if (preroll_s >= o_.min_preroll_s) return;
  ++short_prerolls_;
  Observation o;
  o.type = kShortPreroll;
  o.media_time_s = last_media_s_;
  o.active = true;
  o.details = {{"event_id", id}, {"preroll_s", round_ms(preroll_s)}, {"min_preroll_s", o_.min_preroll_s},
               {"splice_media_time", round_ms(splice_media_s)}};
  out.observe(std::move(o));
  short_preroll_until_ = std::max(short_preroll_until_.value_or(last_media_s_), std::max(splice_media_s, last_media_s_));
}

void Monitor::schedule_splice(std::int64_t pts, double media_s, std::uint32_t id, const std::string& what) {
  for (const auto& p : pending_splices_)
    if (p.pts == pts) return;
  pending_splices_.push_back({pts, media_s, what, id});
}

void Monitor::on_video(std::int64_t pts, bool random_access, double media_time_s, MonitorSink& out) {
  last_media_s_ = std::max(last_media_s_, media_time_s);
  recent_video_.emplace_back(pts, random_access);
  if (last_video_pts_ < 0 || pts_diff(pts, last_video_pts_) > 0) last_video_pts_ = pts;
  // Pictures come in decode order: keep 10 s, enough to see around a splice.
  while (!recent_video_.empty() && pts_diff(last_video_pts_, recent_video_.front().first) > 10 * kTicks)
    recent_video_.pop_front();
  // A splice point is judged once the video is half a second past it (every
  // picture around it has been demuxed by then).
  const auto tolerance = static_cast<std::int64_t>(o_.rap_tolerance_s * kTicks);
  for (auto it = pending_splices_.begin(); it != pending_splices_.end();) {
    if (pts_diff(last_video_pts_, it->pts) < kTicks / 2) {
      ++it;
      continue;
    }
    // Judged only when the pictures around it were seen (not a splice
    // point from before the video started).
    bool covered = false;
    for (const auto& [vp, rap] : recent_video_) covered = covered || pts_diff(vp, it->pts) <= 0;
    if (!covered) {
      it = pending_splices_.erase(it);
      continue;
    }
    ++splices_checked_;
    bool on_rap = false;
    for (const auto& [vp, rap] : recent_video_) on_rap = on_rap || (rap && std::llabs(pts_diff(vp, it->pts)) <= tolerance);
    if (!on_rap) {
      ++splices_not_on_rap_;
      Observation o;
      o.type = kNotOnRap;
      o.media_time_s = last_media_s_;
      o.since_s = it->media_time_s;
      o.active = true;
      o.details = {{"command", it->what}, {"event_id", it->event_id}, {"splice_pts", it->pts},
                   {"splice_media_time", round_ms(it->media_time_s)}};
      out.observe(std::move(o));
      not_on_rap_until_ = last_media_s_;
    }
    it = pending_splices_.erase(it);
  }
  check_due(media_time_s, out);
}

void Monitor::check_due(double now_s, MonitorSink& out) {
  if (short_preroll_until_ && now_s > *short_preroll_until_) {
    Observation o;
    o.type = kShortPreroll;
    o.media_time_s = now_s;
    o.since_s = *short_preroll_until_;
    o.active = false;
    out.observe(std::move(o));
    short_preroll_until_.reset();
  }
  if (not_on_rap_until_ && now_s > *not_on_rap_until_) {
    Observation o;
    o.type = kNotOnRap;
    o.media_time_s = now_s;
    o.active = false;
    out.observe(std::move(o));
    not_on_rap_until_.reset();
  }
  for (auto it = breaks_.begin(); it != breaks_.end();) {
    Break& b = it->second;
    if (!b.duration_s) {
      ++it;
      continue;
    }
    const double due = b.out_media_s + *b.duration_s;
    if (b.auto_return && now_s >= due) {  // returns by itself
      ++breaks_closed_;
      it = breaks_.erase(it);
      continue;
    }
    if (!b.auto_return && !b.overdue && now_s >= due + o_.return_tolerance_s) {
      b.overdue = true;
      ++returns_missing_;
      Observation o;
      o.type = kMissingReturn;
      o.media_time_s = now_s;
      o.since_s = due + o_.return_tolerance_s;
      o.active = true;
      o.details = {{"event_id", b.event_id}, {"break", b.key}, {"out_media_time", round_ms(b.out_media_s)},
                   {"duration_s", round_ms(*b.duration_s)}, {"tolerance_s", o_.return_tolerance_s}};
      out.observe(std::move(o));
    }
    ++it;
  }
}

void Monitor::finish(double end_media_time_s, MonitorSink& out) { check_due(end_media_time_s, out); }

nlohmann::json Monitor::summary() const {
  nlohmann::json open = nlohmann::json::array();
  for (const auto& [key, b] : breaks_) open.push_back({{"break", key}, {"out_media_time", round_ms(b.out_media_s)}});
  return {{"scte35",
           {{"sections", sections_},
            {"crc_errors", crc_errors_},
            {"malformed", malformed_},
            {"cues", cues_},
            {"repeats", repeats_},
            {"commands", commands_},
            {"breaks_opened", breaks_opened_},
            {"breaks_closed", breaks_closed_},
            {"breaks_open", open},
            {"missing_returns", returns_missing_},
            {"short_prerolls", short_prerolls_},
            {"splices_checked", splices_checked_},
            {"splices_not_on_rap", splices_not_on_rap_}}}};
}

}  // namespace avmon::scte35
