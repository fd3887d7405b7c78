// Packet dispatch, sync, continuity, transport errors, scrambling, events and
// per-PID figures. PSI/SI handling is in analyzer_psi.cpp, clocks, PCR, PTS
// and periodic checks in analyzer_timing.cpp.
#include "ts/analyzer_state.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace avmon::ts {

namespace {
constexpr std::size_t kMaxPending = 8192;  // packets waiting for a clock reading (1.5 MB)
std::string hex_pid(std::uint16_t pid) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%04X", pid);
  return b;
}
}  // namespace

Analyzer::Analyzer(AnalyzerOptions opts) : opts_(std::move(opts)) {
  // PSI PIDs are reassembled from the start.
  for (std::uint16_t pid : {kPidPat, kPidCat, kPidNit, kPidSdt, kPidEit, kPidRst, kPidTdt}) {
    PidState& st = pid_state(pid);
    st.sections = std::make_unique<SectionAssembler>(pid);
    st.referenced = true;
  }
  pid_state(kPidPat).role = PidState::Role::Pat;
  pid_state(kPidCat).role = PidState::Role::Cat;
  pid_state(kPidNit).role = PidState::Role::Nit;
  pid_state(kPidSdt).role = PidState::Role::Sdt;
  pid_state(kPidEit).role = PidState::Role::Eit;
  pid_state(kPidRst).role = PidState::Role::Rst;
  pid_state(kPidTdt).role = PidState::Role::Tdt;
}

Analyzer::~Analyzer() = default;

Analyzer::PidState& Analyzer::pid_state(std::uint16_t pid) {
  auto& slot = pids_[pid];
  if (!slot) slot = std::make_unique<PidState>(pid);
  return *slot;
}

bool Analyzer::checked(Indicator i) const {
  if (!opts_.enabled[idx(i)]) return false;
  if (i == Indicator::PcrAccuracyError) {
    if (opts_.pcr_accuracy == AnalyzerOptions::PcrAccuracy::Off) return false;
    if (opts_.pcr_accuracy == AnalyzerOptions::PcrAccuracy::Auto && !opts_.live) return false;
  }
  return true;
}

void Analyzer::emit(TsEvent::State st, std::optional<Indicator> ind, std::uint16_t pid, std::string what,
                    std::string type) {
  if (ind) {
    if (!checked(*ind)) return;
    if (st == TsEvent::State::Error || st == TsEvent::State::Begin) ++counts_[idx(*ind)];
    if (type.empty()) type = "tr101290." + std::string(indicator_name(*ind));
  }
  TsEvent e;
  e.type = std::move(type);
  e.state = st;
  e.indicator = ind;
  e.pid = pid;
  e.packet = at_packet_ > 0 ? at_packet_ - 1 : 0;
  e.clock_s = now_s_;
  e.what = std::move(what);
  // A flood (every packet in error) must not grow without bound: beyond
  // this many unread events, errors are counted but not queued.
  if (events_.size() >= 100000 && st == TsEvent::State::Error) return;
  events_.push_back(std::move(e));
}

std::vector<TsEvent> Analyzer::take_events() {
  std::vector<TsEvent> out;
  out.swap(events_);
  return out;
}

void Analyzer::feed(const std::uint8_t* data, std::size_t size, std::optional<double> arrival_s) {
  if (arrival_s) {
    arrival_s_ = arrival_s;
    if (!first_arrival_s_) first_arrival_s_ = arrival_s;
  }
  feed_begin_ = reinterpret_cast<std::uintptr_t>(data);
  feed_end_ = feed_begin_ + size;
  packetizer_.feed(data, size, *this);
  // The caller's bytes go away: what still waits is copied.
  feed_begin_ = feed_end_ = 0;
  for (Pending& e : pending_) e.bytes = keep(e.bytes);
  // Sync never found again (after a gap, or bytes that never were packets):
  // lost once five packets' worth of bytes went by without it.
  if (!packetizer_.in_sync() && packetizer_.ever_synced() && !sync_lost_ &&
      packetizer_.bytes_skipped() >= skipped_mark_ + 5 * kPacketSize) {
    flush_pending(false);
    sync_lost_ = true;
    emit(TsEvent::State::Begin, Indicator::TsSyncLoss, kPidNull, "no sync byte pattern found");
  }
}

void Analyzer::finish() {
  packetizer_.flush(*this);
  flush_pending(false);
  for (std::uint16_t pid : seen_pids_)
    if (PidState& st = *pids_[pid]; st.pes && st.pes_listener)
      st.pes->finish([&](const Pes& p) { st.pes_listener->on_pes(p); });
  decide_selection();
  check_timers(now_s_);
}

void Analyzer::new_session(double gap_s) {
  flush_pending(false);
  packetizer_.reset();
  clock_.restart(gap_s, packet_index_);
  reading_packet_ = packet_index_;
  reading_s_ = session_start_s_ = now_s_ = clock_.at(packet_index_);
  read_arrival_s_.reset();
  skipped_mark_ = packetizer_.bytes_skipped();
  for (auto& st : pids_) {
    if (!st) continue;
    st->cc.reset();
    if (st->sections) st->sections->reset();
    if (st->pes) st->pes->lost();
    st->have_pcr = false;
    st->fit.reset();
    st->pcr_absence.armed = st->pts.armed = st->presence.armed = st->pmt.armed = false;
  }
  pat_deadline_.armed = false;
  for (SiTable* t : {&nit_, &sdt_, &eit_, &tdt_, &bat_, &sdt_other_, &eit_other_, &tot_}) t->deadline.armed = false;
  si_last_.clear();
}

void Analyzer::on_sync_byte_error() {
  flush_pending(false);
  // The corrupted packet still took its place in the multiplex (timing,
  // PCR positions), though nothing of it is analysed.
  ++packet_index_;
  error(Indicator::SyncByteError, kPidNull, "sync byte is not 0x47");
}

void Analyzer::on_sync_lost() {
  flush_pending(false);
  sync_lost_ = true;
  emit(TsEvent::State::Begin, Indicator::TsSyncLoss, kPidNull, "two corrupted sync bytes in a row");
}

void Analyzer::on_sync_acquired() {
  skipped_mark_ = packetizer_.bytes_skipped();
  if (!sync_lost_) return;
  sync_lost_ = false;
  emit(TsEvent::State::End, Indicator::TsSyncLoss, kPidNull, "five sync bytes in a row");
  // Whatever was in flight across the loss is lost: no cascade of errors.
  for (auto& st : pids_)
    if (st) {
      st->cc.reset();
      if (st->sections) st->sections->reset();
    }
}

void Analyzer::update_scrambling(PidState& st, bool scrambled) {
  st.scrambled_now = scrambled;
  if (!selected_) return;
  const Service* svc = services_.find(*selected_);
  if (!svc) return;
  auto av = svc->av_pids();
  if (std::find(av.begin(), av.end(), st.pid) == av.end()) return;
  bool any = false;
  std::string which;
  for (std::uint16_t p : av)
    if (pids_[p] && pids_[p]->scrambled_now) {
      any = true;
      which += (which.empty() ? "" : " ") + hex_pid(p);
    }
  if (any == service_scrambled_) return;
  service_scrambled_ = any;
  emit(any ? TsEvent::State::Begin : TsEvent::State::End, std::nullopt, st.pid,
       any ? "scrambled: " + which : "clear again", "scrambled");
}

bool Analyzer::take_reading(const PacketView& pkt) {
  if (pkt.transport_error()) return false;
  const std::uint16_t pid = pkt.pid();
  bool taken = false;
  if (pkt.has_pcr()) {
    auto src = pid == selected_pcr_pid_ ? StreamClock::Source::SelectedPcr : StreamClock::Source::Pcr;
    taken = clock_.sample(src, pid, pkt.pcr(), packet_index_, pkt.discontinuity());
  } else if (clock_.source() <= StreamClock::Source::Pts && pkt.payload_unit_start() && pkt.scrambling() == 0 &&
             pkt.has_payload() && !(pids_[pid] && pids_[pid]->sections)) {
    if (auto dts = pes_dts(pkt.payload(), pkt.payload_size()))
      taken = clock_.sample(StreamClock::Source::Pts, pid, *dts * 300, packet_index_, false);
  }
  if (!taken && arrival_s_ && arrival_s_ != read_arrival_s_ && clock_.source() <= StreamClock::Source::Arrival) {
    // The first packet of each read carries its arrival time.
    read_arrival_s_ = arrival_s_;
    taken = clock_.sample(StreamClock::Source::Arrival, kPidNull,
                          static_cast<std::int64_t>((*arrival_s_ - *first_arrival_s_) * 27e6), packet_index_, false);
  }
  return taken;
}

const std::uint8_t* Analyzer::keep(const std::uint8_t* p) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  if (at >= feed_begin_ && at + kPacketSize <= feed_end_) return p;
  if (!pending_store_) pending_store_ = std::make_unique_for_overwrite<std::uint8_t[]>(kMaxPending * kPacketSize);
  std::uint8_t* slot = pending_store_.get() + pending_stored_ * kPacketSize;
  // Already kept (a second call at the end of another feed): nothing to do.
  if (at >= reinterpret_cast<std::uintptr_t>(pending_store_.get()) &&
      at < reinterpret_cast<std::uintptr_t>(pending_store_.get() + kMaxPending * kPacketSize))
    return p;
  std::memcpy(slot, p, kPacketSize);
  ++pending_stored_;
  return slot;
}

void Analyzer::flush_pending(bool interpolate) {
  const double to_s = clock_.at(packet_index_);
  for (const Pending& e : pending_) {
    const std::uint64_t i = e.index;
    if (interpolate && packet_index_ > reading_packet_) {
      const double f = static_cast<double>(i - reading_packet_) / static_cast<double>(packet_index_ - reading_packet_);
      now_s_ = reading_s_ + f * (to_s - reading_s_);
    } else {
      now_s_ = clock_.at(i);
    }
    at_packet_ = i;
    analyse(e.bytes);
  }
  pending_.clear();
  pending_stored_ = 0;
}

void Analyzer::on_packet(const std::uint8_t* p) {
  ++packet_index_;
  const PacketView pkt(p);
  if (!take_reading(pkt)) {
    pending_.push_back({keep(p), packet_index_});
    // No reading for long (no PCR, PTS or arrival time): go on with what is known.
    if (pending_.size() >= kMaxPending) flush_pending(false);
    return;
  }
  flush_pending(true);
  reading_packet_ = packet_index_;
  reading_s_ = clock_.at(packet_index_);
  at_packet_ = packet_index_;
  now_s_ = reading_s_;
  analyse(p);
}

void Analyzer::analyse(const std::uint8_t* p) {
  const PacketView pkt(p);
  const std::uint16_t pid = pkt.pid();
  PidState& st = pid_state(pid);
  if (st.packets == 0) seen_pids_.push_back(pid);
  if (pkt.has_pcr() && !pkt.transport_error()) on_pcr(st, pkt);
  const double now = now_s_;
  if (st.packets == 0) st.first_s = now;
  ++st.packets;
  st.last_s = now;
  // Bit rates over one window of the multiplex clock shared by every PID,
  // so that they add up to the multiplex's and a PID that stopped is 0.
  if (window_start_s_ < 0) window_start_s_ = now;
  if (now - window_start_s_ >= 1.0) {
    for (std::uint16_t seen : seen_pids_) {
      PidState& w = *pids_[seen];
      w.bitrate_bps = static_cast<double>(w.window_packets) * kPacketSize * 8 / (now - window_start_s_);
      w.window_packets = 0;
    }
    window_start_s_ = now;
  }
  ++st.window_packets;

  if (pkt.transport_error()) {
    // The header itself may be wrong: count it and analyse nothing else.
    ++st.tei;
    error(Indicator::TransportError, pid, "transport_error_indicator set");
    return;
  }
  if (pid == kPidNull) {
    st.role = PidState::Role::Null;
    if (now - last_timer_check_s_ >= 0.005) check_timers(now);
    return;
  }

  const CcResult cc = st.cc.check(pkt);
  if (cc.kind != CcResult::Ok) {
    ++st.cc_errors;
    std::string what = cc.kind == CcResult::Missing ? "missing " + std::to_string(cc.packets) + " packets"
                       : cc.kind == CcResult::Duplicate ? std::to_string(cc.packets) + " duplicate packets"
                                                        : "incorrect CC increment without payload";
    error(Indicator::ContinuityCountError, pid, what);
    if (st.sections) st.sections->reset();
    if (st.pes) st.pes->lost();
  }

  const unsigned scrambling = pkt.scrambling();
  if (scrambling != 0) {
    ++st.scrambled_packets;
    last_scrambled_s_ = now;
    if (pid == kPidPat) error(Indicator::PatError, pid, "PAT packet scrambled");
    else if (st.role == PidState::Role::Pmt) error(Indicator::PmtError, pid, "PMT packet scrambled");
    if (!cat_seen_ && !cat_deadline_.armed) {
      cat_deadline_.arm(now, opts_.cat_period_s);
      condition_errors(Indicator::CatError, pid, 1, cat_deadline_.failing, "scrambled packets but no CAT");
    }
  }
  if (pkt.has_payload() && st.scrambled_now != (scrambling != 0)) update_scrambling(st, scrambling != 0);
  if (scrambling != 0 && st.pes) st.pes->lost();

  // A legal duplicate carries nothing new: its payload was had already.
  if (pkt.has_payload() && scrambling == 0 && pkt.payload_size() > 0 && !cc.repeat) {
    if (retaining_ && !st.sections && !st.pes_listener) retain(st, p);
    if (st.sections) {
      st.sections->feed(pkt, [&](const Section& s) { on_section(s); });
    } else {
      if (st.pes)
        st.pes->feed(pkt, at_packet_, now, [&](const Pes& whole) {
          if (st.pes_listener) st.pes_listener->on_pes(whole);
        });
      if (pkt.payload_unit_start()) on_pes_start(st, pkt);
    }
  }
  if (st.presence.armed) {
    condition_errors(Indicator::PidError, pid, st.presence.due(now, opts_.pid_period_s), st.presence.failing,
                     "no packets on the PID");
    condition_end(Indicator::PidError, pid, st.presence.failing, "PID back");
    st.presence.arm(now, opts_.pid_period_s);
  }
  if (now - last_timer_check_s_ >= 0.005) check_timers(now);
}

std::vector<PidFigures> Analyzer::pid_figures() const {
  std::vector<PidFigures> out;
  std::vector<std::uint16_t> order = seen_pids_;
  std::sort(order.begin(), order.end());
  for (std::uint16_t pid : order) {
    const PidState& st = *pids_[pid];
    PidFigures f;
    f.pid = pid;
    switch (st.role) {
      case PidState::Role::Pat: f.role = "pat"; break;
      case PidState::Role::Cat: f.role = "cat"; break;
      case PidState::Role::Pmt: f.role = "pmt"; break;
      case PidState::Role::Nit: f.role = "nit"; break;
      case PidState::Role::Sdt: f.role = "sdt"; break;
      case PidState::Role::Eit: f.role = "eit"; break;
      case PidState::Role::Rst: f.role = "rst"; break;
      case PidState::Role::Tdt: f.role = "tdt"; break;
      case PidState::Role::Null: f.role = "null"; break;
      case PidState::Role::Ecm: f.role = "ecm"; break;
      case PidState::Role::Emm: f.role = "emm"; break;
      case PidState::Role::Es: f.role = stream_kind_name(st.kind); break;
      case PidState::Role::Unknown: f.role = st.pcr_pid ? "pcr" : "unreferenced"; break;
    }
    f.codec = st.codec;
    f.program = st.program;
    f.packets = st.packets;
    f.cc_errors = st.cc_errors;
    f.transport_errors = st.tei;
    f.scrambled_packets = st.scrambled_packets;
    f.scrambled = st.scrambled_now;
    f.pcrs = st.pcrs;
    f.bitrate_bps = st.bitrate_bps;
    out.push_back(std::move(f));
  }
  return out;
}

void Analyzer::subscribe_sections(std::uint16_t pid, SectionListener* l) {
  PidState& st = pid_state(pid & 0x1FFF);
  st.section_listener = l;
  if (!st.sections) st.sections = std::make_unique<SectionAssembler>(st.pid);
  replay(st);
}

void Analyzer::subscribe_pes(std::uint16_t pid, PesListener* l) {
  PidState& st = pid_state(pid & 0x1FFF);
  st.pes_listener = l;
  replay(st);
}

void Analyzer::retain(const PidState& st, const std::uint8_t* p) {
  constexpr std::size_t kMaxRetained = 16384;  // 3 MB
  if (st.pid == kPidNull || st.av || st.pcr_pid) return;
  switch (st.role) {
    case PidState::Role::Unknown:
    case PidState::Role::Es: break;
    default: return;  // PSI/SI, ECM/EMM: the analyser's own
  }
  if (retained_.size() >= kMaxRetained) return;
  Retained r;
  r.packet = at_packet_;
  r.clock_s = now_s_;
  std::copy(p, p + kPacketSize, r.bytes.begin());
  retained_.push_back(r);
}

void Analyzer::replay(PidState& st) {
  if (retained_.empty()) return;
  // Audio, video and PCR PIDs were kept only while the PMT was unknown:
  // their past is the analyser's, not news for a subscriber.
  if (st.av || st.pcr_pid) {
    std::erase_if(retained_, [&](const Retained& r) { return PacketView(r.bytes.data()).pid() == st.pid; });
    return;
  }
  const std::uint64_t at = at_packet_;
  const double now = now_s_;
  for (auto it = retained_.begin(); it != retained_.end();) {
    const PacketView pkt(it->bytes.data());
    if (pkt.pid() != st.pid) {
      ++it;
      continue;
    }
    at_packet_ = it->packet;
    now_s_ = it->clock_s;
    if (st.sections) st.sections->feed(pkt, [&](const Section& s) { if (st.section_listener) st.section_listener->on_section(s, at_packet_, now_s_); });
    else {
      if (st.pes)
        st.pes->feed(pkt, at_packet_, now_s_, [&](const Pes& whole) {
          if (st.pes_listener) st.pes_listener->on_pes(whole);
        });
      // Only the subscriber hears of it: the analyser's own checks saw it.
      if (pkt.payload_unit_start() && st.pes_listener)
        st.pes_listener->on_pes_start(st.pid, pes_pts(pkt.payload(), pkt.payload_size()), pkt.payload(),
                                      pkt.payload_size(), at_packet_, now_s_);
    }
    it = retained_.erase(it);
  }
  at_packet_ = at;
  now_s_ = now;
}

void Analyzer::stop_retaining() {
  retaining_ = false;
  retained_.clear();
  retained_.shrink_to_fit();
}

std::optional<std::int64_t> Analyzer::service_pts_at(std::uint64_t packet) const {
  if (service_pts_history_.empty() || packet >= service_pts_history_.back().first) return service_pts_;
  auto it = std::upper_bound(service_pts_history_.begin(), service_pts_history_.end(), packet,
                             [](std::uint64_t p, const auto& e) { return p < e.first; });
  if (it == service_pts_history_.begin()) return std::nullopt;
  return std::prev(it)->second;
}

void Analyzer::assemble_pes(std::uint16_t pid, bool on) {
  PidState& st = pid_state(pid & 0x1FFF);
  if (!on) st.pes.reset();
  else if (!st.pes) st.pes = std::make_unique<PesAssembler>(st.pid);
}

std::uint64_t Analyzer::pes_delivered(std::uint16_t pid) const {
  const auto& st = pids_[pid & 0x1FFF];
  return st && st->pes ? st->pes->delivered() : 0;
}

std::uint64_t Analyzer::pes_dropped(std::uint16_t pid) const {
  const auto& st = pids_[pid & 0x1FFF];
  return st && st->pes ? st->pes->dropped() : 0;
}

void Analyzer::unsubscribe(std::uint16_t pid, const void* listener) {
  PidState& st = pid_state(pid & 0x1FFF);
  if (st.section_listener == listener) st.section_listener = nullptr;
  if (st.pes_listener == listener) {
    st.pes_listener = nullptr;
    st.pes.reset();
  }
}

}  // namespace avmon::ts
