#include "transport/events.hpp"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "transport/figures.hpp"
#include "util/time.hpp"

namespace avmon {

namespace {
constexpr double kLiveMaxWaitS = 1.0;     // a live event waits at most this long for frames
constexpr std::size_t kMaxQueued = 20000;  // beyond: released at once (a flood of errors)
constexpr std::size_t kMaxPidsInDetails = 16;

const std::string& severity_for(const TransportConfig& t, int priority) {
  return priority == 1 ? t.severity_priority1 : priority == 2 ? t.severity_priority2 : t.severity_priority3;
}
}  // namespace

void TransportEvents::declare(EventEngine& engine, const Config& cfg, const std::vector<std::string>& av_types) {
  const TransportConfig& t = cfg.input.transport;
  for (int p = 1; p <= 3; ++p) {
    std::vector<std::string> types;
    for (std::size_t k = 0; k < ts::kIndicatorCount; ++k) {
      auto i = static_cast<ts::Indicator>(k);
      if (ts::indicator_priority(i) == p) types.push_back("tr101290." + std::string(ts::indicator_name(i)));
    }
    engine.add_detector(priority_detector(p), DefectPolicy{0, t.hold_off_s, severity_for(t, p)}, types, {});
  }
  engine.add_detector(kServiceDetector, DefectPolicy{0, 0, t.severity_service}, {"scrambled", "service_missing"},
                      av_types);
  for (const auto& e : ts_extensions())
    engine.add_detector(e.name, DefectPolicy{e.min_duration_s, e.hold_off_s, e.severity}, e.types, e.suppresses);
}

TransportEvents::TransportEvents(const Config& cfg, TransportAccess access, Dispatcher& dispatcher, bool live)
    : cfg_(cfg), analyzer_(*access.analyzer), rtp_(access.rtp), dispatcher_(dispatcher), live_(live) {
  for (const auto& info : ts_extensions()) {
    std::unique_ptr<TsExtension> ext;
    try {
      ext = info.create ? info.create(cfg) : nullptr;
    } catch (const std::exception& e) {
      spdlog::error("transport extension {} could not start: {}", info.name, e.what());
    }
    if (ext) extensions_.push_back({&info, std::move(ext)});
  }
  // Extensions subscribe as soon as the service is known, not at the next
  // pump: the demuxer's probing reads seconds of packets at once.
  if (!extensions_.empty()) analyzer_.set_service_listener([this] { announce_service(); });
  else analyzer_.stop_retaining();
}

TransportEvents::~TransportEvents() {
  analyzer_.set_service_listener(nullptr);
  for (const auto& [pid, subs] : section_subs_) analyzer_.unsubscribe(pid, static_cast<ts::SectionListener*>(this));
  for (const auto& [pid, subs] : pes_subs_) analyzer_.unsubscribe(pid, static_cast<ts::PesListener*>(this));
  for (const auto& [pid, subs] : whole_pes_subs_) analyzer_.unsubscribe(pid, static_cast<ts::PesListener*>(this));
}

double TransportEvents::media_time(double clock_s) const { return std::max(0.0, analyzer_.media_time(clock_s)); }

TapTime TransportEvents::tap_time(std::uint64_t packet, double clock_s) const {
  TapTime t;
  t.packet = packet > 0 ? packet - 1 : 0;
  t.clock_s = clock_s;
  t.media_time_s = media_time(clock_s);
  t.arrival_s = analyzer_.arrival_s();
  t.service_pts_90k = analyzer_.service_pts_at(packet);
  t.origin_pts_90k = analyzer_.origin_pts();
  return t;
}

// --- TsHost -----------------------------------------------------------------

void TransportEvents::subscribe_sections(std::uint16_t pid) {
  auto& subs = section_subs_[pid & 0x1FFF];
  if (current_ && std::find(subs.begin(), subs.end(), current_) == subs.end()) subs.push_back(current_);
  analyzer_.subscribe_sections(pid, this);
}

void TransportEvents::subscribe_pes(std::uint16_t pid) {
  auto& subs = pes_subs_[pid & 0x1FFF];
  if (current_ && std::find(subs.begin(), subs.end(), current_) == subs.end()) subs.push_back(current_);
  analyzer_.subscribe_pes(pid, this);
}

void TransportEvents::subscribe_whole_pes(std::uint16_t pid) {
  auto& subs = whole_pes_subs_[pid & 0x1FFF];
  if (current_ && std::find(subs.begin(), subs.end(), current_) == subs.end()) subs.push_back(current_);
  analyzer_.assemble_pes(pid, true);
  analyzer_.subscribe_pes(pid, this);  // (replays what the analyser kept of the PID)
}

void TransportEvents::unsubscribe(std::uint16_t pid) {
  pid &= 0x1FFF;
  auto drop = [&](std::map<std::uint16_t, std::vector<Extension*>>& subs) {
    auto it = subs.find(pid);
    if (it == subs.end()) return false;
    std::erase(it->second, current_);
    if (!it->second.empty()) return false;
    subs.erase(it);
    return true;
  };
  if (drop(section_subs_)) analyzer_.unsubscribe(pid, static_cast<ts::SectionListener*>(this));
  const bool starts_gone = drop(pes_subs_);
  const bool whole_gone = drop(whole_pes_subs_);
  if (whole_gone) analyzer_.assemble_pes(pid, false);
  if ((starts_gone || whole_gone) && !pes_subs_.count(pid) && !whole_pes_subs_.count(pid))
    analyzer_.unsubscribe(pid, static_cast<ts::PesListener*>(this));
}

void TransportEvents::observe(Observation obs) {
  if (!current_) return;
  Item it;
  it.media_time_s = std::max(0.0, obs.media_time_s);
  it.detector = current_->info->name;
  it.obs = std::move(obs);
  it.queued = std::chrono::steady_clock::now();
  queue_.push_back(std::move(it));
}

void TransportEvents::emit(nlohmann::json line) {
  if (on_line) on_line(line);
  Item it;
  it.media_time_s = line.value("media_time", last_media_s_);
  it.line = std::move(line);
  it.queued = std::chrono::steady_clock::now();
  queue_.push_back(std::move(it));
}

void TransportEvents::on_section(const ts::Section& s, std::uint64_t packet, double clock_s) {
  if (!section_subs_.count(s.pid)) return;
  if (defer({Deferred::Kind::Section, s.pid, std::vector<std::uint8_t>(s.data, s.data + s.size), s.crc, std::nullopt,
             analyzer_.service_pts_at(packet), analyzer_.arrival_s(), packet, clock_s, 0, std::nullopt, 0}))
    return;
  dispatch_section(s, tap_time(packet, clock_s));
}

void TransportEvents::on_pes_start(std::uint16_t pid, std::optional<std::int64_t> pts_90k, const std::uint8_t* payload,
                                   std::size_t size, std::uint64_t packet, double clock_s) {
  if (!pes_subs_.count(pid)) return;
  if (defer({Deferred::Kind::PesStart, pid, std::vector<std::uint8_t>(payload, payload + size), ts::CrcStatus::None, pts_90k,
             analyzer_.service_pts_at(packet), analyzer_.arrival_s(), packet, clock_s, 0, std::nullopt, 0}))
    return;
  dispatch_pes(pid, pts_90k, payload, size, tap_time(packet, clock_s));
}

bool TransportEvents::defer(Deferred d) {
  if (analyzer_.has_origin()) {
    replay_deferred();
    return false;
  }
  // Bounded: without an origin for this long, what comes is told as it is.
  constexpr std::size_t kMaxDeferred = 20000;
  if (deferred_.size() >= kMaxDeferred) return false;
  deferred_.push_back(std::move(d));
  return true;
}

void TransportEvents::replay_deferred() {
  if (deferred_.empty()) return;
  auto held = std::move(deferred_);
  deferred_.clear();
  for (const Deferred& d : held) {
    TapTime t = tap_time(d.packet, d.clock_s);
    t.service_pts_90k = d.service_pts_90k;  // as it was when the bytes arrived
    t.arrival_s = d.arrival_s;
    if (d.kind == Deferred::Kind::WholePes) {
      ts::Pes pes;
      pes.pid = d.pid;
      pes.stream_id = d.stream_id;
      pes.pts = d.pts_90k;
      pes.dts = d.dts_90k;
      pes.packet = d.bytes.data();
      pes.packet_size = d.bytes.size();
      pes.data = d.bytes.data() + d.header_size;
      pes.data_size = d.bytes.size() - d.header_size;
      pes.first_packet = d.packet;
      pes.clock_s = d.clock_s;
      dispatch_whole_pes(pes, t);
    } else if (d.kind == Deferred::Kind::Section) {
      ts::Section s;
      s.pid = d.pid;
      s.data = d.bytes.data();
      s.size = d.bytes.size();
      s.crc = d.crc;
      dispatch_section(s, t);
    } else {
      dispatch_pes(d.pid, d.pts_90k, d.bytes.data(), d.bytes.size(), t);
    }
  }
}

void TransportEvents::dispatch_section(const ts::Section& s, const TapTime& t) {
  auto it = section_subs_.find(s.pid);
  if (it == section_subs_.end()) return;
  // (May run inside an extension's on_service: a subscription replays.)
  Extension* const calling = current_;
  for (Extension* e : it->second) {
    current_ = e;
    e->ext->on_section(s, t, *this);
  }
  current_ = calling;
}

void TransportEvents::dispatch_pes(std::uint16_t pid, std::optional<std::int64_t> pts_90k, const std::uint8_t* payload,
                                   std::size_t size, const TapTime& t) {
  auto it = pes_subs_.find(pid);
  if (it == pes_subs_.end()) return;
  Extension* const calling = current_;
  for (Extension* e : it->second) {
    current_ = e;
    e->ext->on_pes_start(pid, pts_90k, payload, size, t, *this);
  }
  current_ = calling;
}


void TransportEvents::on_pes(const ts::Pes& pes) {
  if (!whole_pes_subs_.count(pes.pid)) return;
  Deferred d{Deferred::Kind::WholePes, pes.pid, std::vector<std::uint8_t>(pes.packet, pes.packet + pes.packet_size),
             ts::CrcStatus::None, pes.pts, analyzer_.service_pts_at(pes.first_packet), analyzer_.arrival_s(),
             pes.first_packet, pes.clock_s, pes.stream_id, pes.dts,
             static_cast<std::size_t>(pes.data - pes.packet)};
  if (defer(std::move(d))) return;
  // Timed at its first packet, where its PTS belongs.
  dispatch_whole_pes(pes, tap_time(pes.first_packet, pes.clock_s));
}

void TransportEvents::dispatch_whole_pes(const ts::Pes& pes, const TapTime& t) {
  auto it = whole_pes_subs_.find(pes.pid);
  if (it == whole_pes_subs_.end()) return;
  Extension* const calling = current_;
  for (Extension* e : it->second) {
    current_ = e;
    e->ext->on_pes(pes, t, *this);
  }
  current_ = calling;
}

// --- events -------------------------------------------------------------------

void TransportEvents::announce_service() {
  auto sel = analyzer_.selected();
  if (!sel || extensions_.empty()) return;
  const ts::Service* s = analyzer_.services().find(*sel);
  if (!s || !s->pmt) return;
  const bool same = announced_program_ == *sel && announced_pmt_ && announced_pmt_->version == s->pmt->version &&
                    announced_pmt_->streams.size() == s->pmt->streams.size();
  if (same) return;
  announced_program_ = *sel;
  announced_pmt_ = s->pmt;
  for (auto& e : extensions_) {
    current_ = &e;
    e.ext->on_service(*s, *this);
  }
  current_ = nullptr;
  // What the extensions subscribed has been replayed; the rest is not wanted.
  analyzer_.stop_retaining();
}

void TransportEvents::add(const ts::TsEvent& e) {
  const double t = media_time(e.clock_s);
  last_media_s_ = std::max(last_media_s_, t);
  Item it;
  it.media_time_s = t;
  it.queued = std::chrono::steady_clock::now();
  if (e.state == ts::TsEvent::State::Info) {
    it.line = {{"kind", "stream." + e.type}, {"media_time", round_ms(t)},
               {"details", {{"pid", e.pid}, {"reason", e.what}}}};
    queue_.push_back(std::move(it));
    return;
  }
  std::set<std::uint16_t>& lasting = lasting_[e.type];
  const bool error = e.state != ts::TsEvent::State::End;
  if (e.state == ts::TsEvent::State::Begin) lasting.insert(e.pid);
  if (e.state == ts::TsEvent::State::End) lasting.erase(e.pid);

  it.detector = e.indicator ? priority_detector(ts::indicator_priority(*e.indicator)) : kServiceDetector;
  it.obs.type = e.type;
  it.obs.media_time_s = t;
  it.obs.active = error || !lasting.empty();
  if (error) {
    it.counted = true;
    it.pid = e.pid;
    nlohmann::json d = {{"reason", e.what}};
    if (e.pid != ts::kPidNull) d["pid"] = e.pid;
    if (e.indicator) {
      d["indicator"] = std::string(ts::indicator_number(*e.indicator));
      d["priority"] = ts::indicator_priority(*e.indicator);
    }
    if (const ts::Service* s = analyzer_.selected() ? analyzer_.services().find(*analyzer_.selected()) : nullptr;
        s && !e.indicator)
      d["program_number"] = s->program_number;
    it.obs.details = std::move(d);
  }
  const bool momentary = e.state == ts::TsEvent::State::Error && lasting.empty();
  queue_.push_back(it);
  if (momentary) {
    // One occurrence: the condition is over at once; the engine's hold-off
    // keeps errors that follow closely in the same defect.
    it.obs.active = false;
    it.obs.details = nlohmann::json::object();
    it.counted = false;
    queue_.push_back(std::move(it));
  }
}

void TransportEvents::take_analyzer_events() {
  if (!analyzer_.has_events()) return;
  for (const auto& e : analyzer_.take_events()) add(e);
}

void TransportEvents::release(bool all) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Item> due;
  while (!queue_.empty()) {
    const Item& it = queue_.front();
    const bool ok = all || !decoding_ || it.media_time_s <= delivered_s_ || queue_.size() > kMaxQueued ||
                    (live_ && std::chrono::duration<double>(now - it.queued).count() >= kLiveMaxWaitS);
    if (!ok) break;
    due.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (due.empty()) return;
  const double at = due.back().media_time_s;
  auto items = std::make_shared<std::vector<Item>>(std::move(due));
  dispatcher_.submit_external(at, [items, incidents = incidents_](EventEngine& engine) {
    for (auto& it : *items) {
      // What has been over for its hold-off ends before this comes in (not
      // revived by it), as between frames.
      engine.advance(it.media_time_s);
      if (it.detector.empty()) {
        engine.emit_line(std::move(it.line));
        continue;
      }
      if (it.counted) {
        // The defect's own count: errors since the engine opened it.
        Incident& inc = (*incidents)[it.obs.type];
        const auto open = engine.active();
        if (std::none_of(open.begin(), open.end(), [&](const ActiveDefect& d) { return d.type == it.obs.type; }))
          inc = Incident{};
        ++inc.count;
        if (std::find(inc.pids.begin(), inc.pids.end(), it.pid) == inc.pids.end() && inc.pids.size() < kMaxPidsInDetails)
          inc.pids.push_back(it.pid);
        it.obs.details["count"] = inc.count;
        if (inc.pids.size() > 1) it.obs.details["pids"] = inc.pids;
        it.obs.score = static_cast<double>(inc.count);
      }
      engine.observe(it.detector, it.obs);
    }
  });
}

void TransportEvents::pump(bool decoding) {
  decoding_ = decoding;
  announce_service();
  if (analyzer_.has_origin()) replay_deferred();
  take_analyzer_events();
  release(false);
  publish(false);
}

void TransportEvents::media_delivered(double media_time_s) {
  delivered_s_ = std::max(delivered_s_, media_time_s);
  if (!queue_.empty() && queue_.front().media_time_s <= delivered_s_) release(false);
}

void TransportEvents::finish(double end_media_time_s) {
  analyzer_.finish();
  announce_service();
  replay_deferred();
  take_analyzer_events();
  for (auto& e : extensions_) {
    current_ = &e;
    e.ext->on_end(end_media_time_s, *this);
  }
  current_ = nullptr;
  // Nothing after the end of the media: a table due by the last packet is
  // reported at the end.
  for (auto& it : queue_) {
    it.media_time_s = std::min(it.media_time_s, end_media_time_s);
    if (!it.detector.empty()) it.obs.media_time_s = std::min(it.obs.media_time_s, end_media_time_s);
    else if (it.line.contains("media_time")) it.line["media_time"] = round_ms(std::min(it.line["media_time"].get<double>(), end_media_time_s));
  }
  release(true);
  publish(true);
}

void TransportEvents::publish(bool force) {
  if (!publishing_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now < next_publish_) return;
  next_publish_ = now + std::chrono::milliseconds(250);
  nlohmann::json snap = transport_status(analyzer_, rtp_);
  std::lock_guard lk(mu_);
  snapshot_ = std::move(snap);
}

nlohmann::json TransportEvents::snapshot() const {
  std::lock_guard lk(mu_);
  return snapshot_;
}

nlohmann::json TransportEvents::summary() const {
  nlohmann::json j = transport_summary(analyzer_, rtp_);
  // Whole PES packets handed to extensions, per PID: a subtitle monitor's
  // silence may be PES packets lost rather than no subtitles sent.
  if (j.is_object() && !whole_pes_subs_.empty()) {
    nlohmann::json pes = nlohmann::json::array();
    for (const auto& [pid, subs] : whole_pes_subs_)
      pes.push_back({{"pid", pid}, {"delivered", analyzer_.pes_delivered(pid)}, {"dropped", analyzer_.pes_dropped(pid)}});
    j["pes"] = std::move(pes);
  }
  return j;
}

nlohmann::json TransportEvents::extension_summaries() const {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& e : extensions_)
    if (nlohmann::json j = e.ext->summary(); j.is_object()) all.update(j, true);
  return all;
}

}  // namespace avmon
