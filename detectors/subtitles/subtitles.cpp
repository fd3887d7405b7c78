// subtitles: DVB teletext and DVB subtitle PIDs at the transport tap. For
// each such PID of the selected service (and each PID named in
// subtitles.pids): PES packets, whether their PTS moves forward, teletext
// subtitles shown (src/ancillary/teletext.hpp) and DVB subtitle display
// sets; caption_loss when a named PID has no PES with a progressing PTS for
// subtitles.min_duration_s. Subtitles come and go with the programme, so
// activity is the PID's PES stream, not the text on screen.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "ancillary/teletext.hpp"
#include "ancillary/ts_watch_options.hpp"
#include "config/config.hpp"
#include "transport/extension.hpp"
#include "ts/tables.hpp"

namespace avmon::subtitles_watch {

namespace {

constexpr double kTicks = 90000.0;
constexpr std::int64_t kWrap = std::int64_t{1} << 33;
constexpr const char* kLoss = "caption_loss";

double round_ms(double s) { return std::round(s * 1000) / 1000; }

std::int64_t pts_diff(std::int64_t a, std::int64_t b) {
  std::int64_t d = (a - b) % kWrap;
  if (d < 0) d += kWrap;
  return d >= kWrap / 2 ? d - kWrap : d;
}

struct Watched {
  std::uint16_t pid = 0;
  std::string kind;                    // "teletext", "dvb_subtitle" or "configured"
  std::string language;
  std::optional<int> channel;          // index in subtitles.pids: caption_loss is watched
  // Figures.
  std::uint64_t pes_count = 0, with_pts = 0, pts_backwards = 0, display_sets = 0;
  std::optional<std::int64_t> first_pts, last_pts;
  std::optional<double> first_media_s, last_media_s;
  double last_activity_s = 0;          // media time of the last PES with a progressing PTS
  bool loss = false;
  ancillary::TeletextDecoder teletext;
  std::size_t cues_reported = 0;
};

class SubtitlesWatch final : public TsExtension {
 public:
  SubtitlesWatch(std::vector<std::uint16_t> pids, double min_duration_s, bool cue_events)
      : configured_(std::move(pids)), min_duration_s_(min_duration_s), cue_events_(cue_events) {}

  void on_service(const ts::Service& service, TsHost& host) override {
    for (const auto& [pid, w] : watched_) host.unsubscribe(pid);
    if (clock_pid_) host.unsubscribe(*clock_pid_);
    clock_pid_.reset();
    std::map<std::uint16_t, Watched> before = std::move(watched_);
    watched_.clear();
    auto keep = [&](std::uint16_t pid) -> Watched& {
      auto it = before.find(pid);
      Watched& w = watched_[pid];
      if (it != before.end()) w = std::move(it->second);
      w.pid = pid;
      return w;
    };
    if (service.pmt) {
      for (const auto& es : service.pmt->streams) {
        const auto kind = ts::stream_kind(es);
        if (kind == ts::StreamKind::Teletext || kind == ts::StreamKind::Subtitles) {
          Watched& w = keep(es.pid);
          w.kind = kind == ts::StreamKind::Teletext ? "teletext" : "dvb_subtitle";
          w.language = ts::language(es.descriptors);
        }
        if (!clock_pid_ && kind == ts::StreamKind::Video) clock_pid_ = es.pid;
      }
      // Without video, the first audio stream keeps time.
      for (const auto& es : service.pmt->streams)
        if (!clock_pid_ && ts::stream_kind(es) == ts::StreamKind::Audio) clock_pid_ = es.pid;
    }
    for (std::size_t i = 0; i < configured_.size(); ++i) {
      Watched& w = keep(configured_[i]);
      if (w.kind.empty()) w.kind = "configured";
      w.channel = static_cast<int>(i);
    }
    for (const auto& [pid, w] : watched_) host.subscribe_whole_pes(pid);
    if (clock_pid_ && !watched_.count(*clock_pid_)) host.subscribe_pes(*clock_pid_);
  }

  // The clock PID's PES starts keep time while subtitle PIDs are silent.
  void on_pes_start(std::uint16_t /*pid*/, std::optional<std::int64_t> pts, const std::uint8_t* /*payload*/,
                    std::size_t /*size*/, const TapTime& at, TsHost& host) override {
    tick(pts, at, host);
  }

  void on_pes(const ts::Pes& pes, const TapTime& at, TsHost& host) override {
    tick(pes.pts, at, host);
    auto it = watched_.find(pes.pid);
    if (it == watched_.end()) return;
    Watched& w = it->second;
    note_pes(w, pes.pts, at.media_time_s, host);
    if (w.kind == "teletext") {
      w.teletext.feed(pes.data, pes.data_size, pes.pts);
      report_cues(w, at.media_time_s, host);
    } else if (w.kind == "dvb_subtitle") {
      count_display_sets(w, pes.data, pes.data_size);
    }
  }

  void on_end(double end_media_time_s, TsHost& host) override {
    for (auto& [pid, w] : watched_) {
      if (w.kind == "teletext" && w.last_pts) {
        w.teletext.flush(*w.last_pts);
        report_cues(w, end_media_time_s, host);
      }
    }
    check_loss(std::max(now_s_, end_media_time_s), host);
  }

  nlohmann::json summary() const override {
    nlohmann::json pids = nlohmann::json::array();
    for (const auto& [pid, w] : watched_) {
      nlohmann::json j = {{"pid", pid},
                          {"kind", w.kind},
                          {"pes", w.pes_count},
                          {"pes_with_pts", w.with_pts},
                          {"pts_backwards", w.pts_backwards},
                          {"watched", w.channel.has_value()}};
      if (!w.language.empty()) j["language"] = w.language;
      if (w.first_media_s) j["first_pts_media_time"] = round_ms(*w.first_media_s);
      if (w.last_media_s) j["last_pts_media_time"] = round_ms(*w.last_media_s);
      if (w.kind == "teletext") {
        std::map<int, int> pages;
        for (const auto& c : w.teletext.cues()) ++pages[c.page];
        nlohmann::json pj = nlohmann::json::object();
        for (const auto& [page, n] : pages) pj[std::to_string(page)] = n;
        j["teletext"] = {{"subtitles", w.teletext.cues().size()},
                         {"pages", pj},
                         {"subtitle_headers", w.teletext.subtitle_headers()},
                         {"hamming_errors", w.teletext.hamming_errors()}};
      }
      if (w.kind == "dvb_subtitle") j["display_sets"] = w.display_sets;
      pids.push_back(std::move(j));
    }
    return {{"subtitles", {{"pids", pids}}}};
  }

 private:
  // Media time of a PTS on the pictures' timeline; without one (a service
  // with nothing decodable, no PCR), relative to the first PES seen.
  std::optional<double> media_of(std::int64_t pts) const {
    if (origin_) return static_cast<double>(pts_diff(pts, *origin_)) / kTicks;
    if (anchor_) return anchor_->second + static_cast<double>(pts_diff(pts, anchor_->first)) / kTicks;
    return std::nullopt;
  }

  void tick(std::optional<std::int64_t> pts, const TapTime& at, TsHost& host) {
    origin_ = at.origin_pts_90k;
    if (!anchor_ && pts) anchor_ = {*pts, at.media_time_s};
    // Time goes by the PTS (the timeline activity is measured on), else the
    // arrival; a silence is judged before the PES that ends it is counted.
    std::optional<double> m;
    if (pts) m = media_of(*pts);
    now_s_ = std::max(now_s_, m.value_or(at.media_time_s));
    check_loss(now_s_, host);
  }

  void note_pes(Watched& w, std::optional<std::int64_t> pts, double media_s, TsHost& host) {
    ++w.pes_count;
    if (!pts) return;
    ++w.with_pts;
    const bool progress = !w.last_pts || pts_diff(*pts, *w.last_pts) > 0;
    if (!progress) {
      ++w.pts_backwards;
      return;
    }
    if (!w.first_pts) {
      w.first_pts = pts;
      w.first_media_s = media_of(*pts);
    }
    w.last_pts = pts;
    const auto m = media_of(*pts);
    if (m) w.last_media_s = m;
    // Activity on the PTS's own timeline (what the subtitles are shown on).
    w.last_activity_s = std::max(0.0, m.value_or(media_s));
    media_s = w.last_activity_s;
    if (w.loss && w.channel) {
      w.loss = false;
      Observation o;
      o.type = kLoss;
      o.channel = *w.channel;
      o.media_time_s = media_s;
      o.active = false;
      host.observe(std::move(o));
    }
  }

  // EN 300 743: data_identifier 0x20, subtitle_stream_id 0x00, then
  // segments (sync_byte 0x0F, type, page_id, length); a display set ends
  // with an end_of_display_set segment (0x80).
  static void count_display_sets(Watched& w, const std::uint8_t* d, std::size_t n) {
    if (n < 2 || d[0] != 0x20 || d[1] != 0x00) return;
    for (std::size_t i = 2; i + 6 <= n && d[i] == 0x0F;) {
      const std::size_t len = static_cast<std::size_t>(d[i + 4]) << 8 | d[i + 5];
      if (d[i + 1] == 0x80) ++w.display_sets;
      i += 6 + len;
    }
  }

  void report_cues(Watched& w, double media_s, TsHost& host) {
    const auto& cues = w.teletext.cues();
    for (; w.cues_reported < cues.size(); ++w.cues_reported) {
      if (!cue_events_) continue;
      const auto& c = cues[w.cues_reported];
      nlohmann::json d = {{"pid", w.pid},
                          {"page", c.page},
                          {"show_pts", c.show_pts},
                          {"hide_pts", c.hide_pts},
                          {"duration_s", round_ms(static_cast<double>(pts_diff(c.hide_pts, c.show_pts)) / kTicks)},
                          {"rows", c.rows}};
      if (auto m = media_of(c.show_pts)) d["show_media_time"] = round_ms(*m);
      if (auto m = media_of(c.hide_pts)) d["hide_media_time"] = round_ms(*m);
      host.emit({{"kind", "subtitles.cue"}, {"media_time", round_ms(media_s)}, {"details", std::move(d)}});
    }
  }

  void check_loss(double now_s, TsHost& host) {
    for (auto& [pid, w] : watched_) {
      if (!w.channel || w.loss || now_s - w.last_activity_s < min_duration_s_) continue;
      w.loss = true;
      Observation o;
      o.type = kLoss;
      o.channel = *w.channel;
      o.media_time_s = now_s;
      o.since_s = w.last_activity_s;
      o.active = true;
      o.details = {{"pid", pid}, {"subtitle_kind", w.kind}, {"min_duration_s", min_duration_s_}};
      if (w.last_media_s) o.details["last_pts_media_time"] = round_ms(*w.last_media_s);
      host.observe(std::move(o));
    }
  }

  std::vector<std::uint16_t> configured_;
  double min_duration_s_;
  bool cue_events_;
  std::map<std::uint16_t, Watched> watched_;
  std::optional<std::uint16_t> clock_pid_;
  std::optional<std::int64_t> origin_;
  std::optional<std::pair<std::int64_t, double>> anchor_;  // (PTS, media time) of the first PES
  double now_s_ = 0;
};

std::unique_ptr<TsExtension> make(const Config& cfg) {
  const Options& o = cfg.subtitles;
  if (!o.get_bool("enabled")) return nullptr;
  std::vector<std::uint16_t> pids;
  for (const auto& p : o.get_strings("pids"))
    if (auto pid = ancillary::parse_pid(p)) pids.push_back(*pid);  // validated with the configuration
  return std::make_unique<SubtitlesWatch>(std::move(pids), o.get_double("min_duration_s"), o.get_bool("cue_events"));
}

}  // namespace

AVMON_REGISTER_TS_EXTENSION(subtitles, ({kLoss}), {}, make);

}  // namespace avmon::subtitles_watch
