// PSI/SI sections: PAT, PMT and CAT build the service model and the set of
// referenced PIDs; the PSI/SI checks of priorities 1-3 (1.3.a, 1.5.a, 2.2,
// 2.6, 3.1-3.8) and the choice of the monitored service.
#include <algorithm>
#include <cstdio>
#include <set>

#include "ts/analyzer_state.hpp"

namespace avmon::ts {

namespace {

std::string hex(unsigned v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*X", digits, v);
  return b;
}

// A period for a reason: "0.5 s", "0.04 s", "10 s".
std::string seconds_text(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%g s", s);
  return b;
}

constexpr double kNitPeriodS = 10, kSdtPeriodS = 2, kEitPeriodS = 2, kTdtPeriodS = 30;
constexpr double kOtherTablesPeriodS = 10, kTotPeriodS = 30;

}  // namespace

void Analyzer::on_section(const Section& s) {
  PidState& st = *pids_[s.pid];
  const double now = now_s_;
  if (st.section_listener) st.section_listener->on_section(s, at_packet_, now);
  const bool psi = st.role == PidState::Role::Pat || st.role == PidState::Role::Cat || st.role == PidState::Role::Pmt ||
                   st.role == PidState::Role::Nit || st.role == PidState::Role::Sdt || st.role == PidState::Role::Eit ||
                   st.role == PidState::Role::Rst || st.role == PidState::Role::Tdt;
  if (!psi) return;
  if (s.table_id() == kTidStuffing) return;
  if (s.crc == CrcStatus::Bad) {
    error(Indicator::CrcError, s.pid, "CRC error in a section of table_id " + hex(s.table_id(), 2));
    return;
  }
  switch (st.role) {
    case PidState::Role::Pat:
      on_pat(s);
      break;
    case PidState::Role::Cat:
      if (s.table_id() != kTidCat) {
        error(Indicator::CatError, s.pid, "table_id " + hex(s.table_id(), 2) + " on PID 0x0001");
        break;
      }
      if (auto emm = parse_cat_pids(s)) {
        cat_seen_ = true;
        condition_end(Indicator::CatError, kPidCat, cat_deadline_.failing, "CAT received");
        cat_deadline_.armed = false;
        for (std::uint16_t p : *emm) {
          PidState& e = pid_state(p);
          e.role = PidState::Role::Emm;
          e.referenced = true;
          condition_end(Indicator::UnreferencedPid, p, e.unreferenced, "referenced by the CAT");
        }
      }
      break;
    case PidState::Role::Pmt:
      on_pmt(s);
      break;
    default:
      on_si(s);
      break;
  }
}

void Analyzer::on_pat(const Section& s) {
  const double now = now_s_;
  if (s.table_id() != kTidPat) {
    error(Indicator::PatError, kPidPat, "table_id " + hex(s.table_id(), 2) + " on PID 0x0000");
    return;
  }
  if (!s.current()) return;
  auto pat = parse_pat(s);
  if (!pat) return;
  // Deadlines passed since the last check count before the table renews them.
  condition_errors(Indicator::PatError, kPidPat, pat_deadline_.due(now, opts_.pat_period_s), pat_deadline_.failing,
                   [&] { return "no PAT for more than " + seconds_text(opts_.pat_period_s); });
  condition_end(Indicator::PatError, kPidPat, pat_deadline_.failing, "PAT back");
  pat_deadline_.arm(now, opts_.pat_period_s);
  if (s.last_section_number() > 0) {
    // A PAT in several sections: keep the other sections' programs.
    for (const auto& svc : services_.services())
      if (std::none_of(pat->programs.begin(), pat->programs.end(),
                       [&](const PatEntry& e) { return e.program_number == svc.program_number; }))
        pat->programs.push_back({svc.program_number, svc.pmt_pid});
  }
  if (services_.on_pat(*pat) || !psi_complete_s_) refresh_references();
  note_service_presence();
  try_select();
}

void Analyzer::on_pmt(const Section& s) {
  const double now = now_s_;
  if (s.table_id() != kTidPmt || !s.current()) return;
  auto pmt = parse_pmt(s);
  if (!pmt) return;
  PidState& st = *pids_[s.pid];
  condition_errors(Indicator::PmtError, s.pid, st.pmt.due(now, opts_.pmt_period_s), st.pmt.failing,
                   [&] {
                     return "no PMT of program " + std::to_string(pmt->program_number) + " for more than " +
                            seconds_text(opts_.pmt_period_s);
                   });
  condition_end(Indicator::PmtError, s.pid, st.pmt.failing, "PMT back");
  st.pmt.arm(now, opts_.pmt_period_s);
  const Service* before = services_.find(pmt->program_number);
  std::optional<Pmt> old = before ? before->pmt : std::nullopt;
  const bool first = before && !before->pmt;
  const bool changed = services_.on_pmt(s.pid, *pmt);
  if (first || changed) refresh_references();
  if (changed && selected_ && *selected_ == pmt->program_number) {
    std::string what = "PIDs of program " + std::to_string(pmt->program_number) + " changed:";
    for (const auto& es : old->streams) what += " -" + hex(es.pid, 4);
    for (const auto& es : pmt->streams) what += " +" + hex(es.pid, 4);
    emit(TsEvent::State::Info, std::nullopt, s.pid, what, "service_change");
    // Its audio and video (PID, stream_type) pairs, before and after.
    auto av = [](const Pmt& p) {
      std::vector<std::pair<std::uint16_t, std::uint8_t>> out;
      for (const auto& es : p.streams)
        if (auto k = stream_kind(es); k == StreamKind::Video || k == StreamKind::Audio)
          out.emplace_back(es.pid, es.stream_type);
      return out;
    };
    if (av(*old) != av(*pmt)) ++av_layout_changes_;
  }
  note_service_presence();
  try_select();
  if (service_listener_ && selected_ && *selected_ == pmt->program_number) service_listener_();
}

void Analyzer::on_si(const Section& s) {
  const double now = now_s_;
  const std::uint8_t tid = s.table_id();
  auto wrong = [&](Indicator i) {
    error(i, s.pid, "table_id " + hex(tid, 2) + " on PID " + hex(s.pid, 4));
  };
  auto seen = [&](SiTable& t, Indicator i, double period) {
    condition_errors(i, s.pid, t.deadline.due(now, period), t.deadline.failing, "table late");
    condition_end(i, s.pid, t.deadline.failing, "table back");
    t.seen = true;
    t.deadline.arm(now, period);
  };
  // 3.2: the same section again within the minimum interval.
  const std::uint64_t key = std::uint64_t{s.pid} << 40 | std::uint64_t{tid} << 32 |
                            (s.long_form() ? std::uint64_t{s.table_id_extension()} << 16 | s.section_number() : 0);
  auto it = std::find_if(si_last_.begin(), si_last_.end(), [&](const auto& p) { return p.first == key; });
  if (it != si_last_.end()) {
    if (now - it->second < opts_.si_min_interval_s)
      error(Indicator::SiRepetitionError, s.pid, "section of table_id " + hex(tid, 2) + " repeated within 25 ms");
    it->second = now;
  } else if (si_last_.size() < 4096) {
    si_last_.emplace_back(key, now);
  }

  switch (pids_[s.pid]->role) {
    case PidState::Role::Nit:
      if (tid != kTidNitActual && tid != kTidNitOther) return wrong(Indicator::NitError);
      if (tid == kTidNitActual) seen(nit_, Indicator::NitError, kNitPeriodS);
      break;
    case PidState::Role::Sdt:
      if (tid != kTidSdtActual && tid != kTidSdtOther && tid != kTidBat) return wrong(Indicator::SdtError);
      if (tid == kTidSdtActual) {
        seen(sdt_, Indicator::SdtError, kSdtPeriodS);
        if (auto sdt = parse_sdt(s)) {
          services_.on_sdt(*sdt);
          try_select();
        }
      } else {
        seen(tid == kTidBat ? bat_ : sdt_other_, Indicator::SiRepetitionError, kOtherTablesPeriodS);
      }
      break;
    case PidState::Role::Eit:
      if (tid < kTidEitPfActual || tid > 0x6F) return wrong(Indicator::EitError);
      if (tid == kTidEitPfActual && s.section_number() == 0) seen(eit_, Indicator::EitError, kEitPeriodS);
      if (tid == kTidEitPfOther && s.section_number() == 0)
        seen(eit_other_, Indicator::SiRepetitionError, kOtherTablesPeriodS);
      break;
    case PidState::Role::Rst:
      if (tid != kTidRst) return wrong(Indicator::RstError);
      break;
    case PidState::Role::Tdt:
      if (tid != kTidTdt && tid != kTidTot) return wrong(Indicator::TdtError);
      if (tid == kTidTdt) seen(tdt_, Indicator::TdtError, kTdtPeriodS);
      else seen(tot_, Indicator::SiRepetitionError, kTotPeriodS);
      break;
    default:
      break;
  }
}

void Analyzer::refresh_references() {
  const double now = now_s_;
  std::set<std::uint16_t> ecm_pids;
  std::vector<std::uint16_t> former_pmts;
  for (auto& st : pids_) {
    if (!st || st->pid < 0x20 || st->pid == kPidNull) continue;
    if (st->role == PidState::Role::Pmt) former_pmts.push_back(st->pid);
    st->av = false;
    st->pcr_pid = false;
    st->program = 0;
    if (st->role == PidState::Role::Emm) continue;  // the CAT's, not the PMTs'
    st->referenced = false;
    st->role = PidState::Role::Unknown;
  }
  for (const auto& svc : services_.services()) {
    PidState& pm = pid_state(svc.pmt_pid);
    pm.role = PidState::Role::Pmt;
    pm.referenced = true;
    pm.program = svc.program_number;
    if (!pm.sections) pm.sections = std::make_unique<SectionAssembler>(svc.pmt_pid);
    if (!pm.pmt.armed) pm.pmt.arm(now, opts_.pmt_period_s);
    if (!svc.pmt) continue;
    for (std::uint16_t p : ca_pids(svc.pmt->descriptors)) ecm_pids.insert(p);
    if (svc.pmt->pcr_pid != kPidNull) {
      PidState& pc = pid_state(svc.pmt->pcr_pid);
      pc.referenced = true;
      pc.pcr_pid = true;
      if (!pc.pcr_absence.armed) {
        pc.pcr_absence.arm(now, 1.0);
        pc.pcr_absence_errors = 0;
      }
    }
    for (const auto& es : svc.pmt->streams) {
      PidState& e = pid_state(es.pid);
      e.role = PidState::Role::Es;
      e.referenced = true;
      e.kind = stream_kind(es);
      e.codec = codec_name(es);
      e.program = e.program == 0 ? svc.program_number : e.program;
      e.av = e.kind == StreamKind::Video || e.kind == StreamKind::Audio;
      if (e.av && !e.presence.armed) e.presence.arm(now, opts_.pid_period_s);
      for (std::uint16_t p : ca_pids(es.descriptors)) ecm_pids.insert(p);
    }
  }
  for (std::uint16_t p : ecm_pids) {
    PidState& e = pid_state(p);
    e.role = PidState::Role::Ecm;
    e.referenced = true;
  }
  for (auto& st : pids_) {
    if (!st) continue;
    if (!st->av) {
      condition_end(Indicator::PidError, st->pid, st->presence.failing, "no longer referenced");
      condition_end(Indicator::PtsError, st->pid, st->pts.failing, "no longer referenced");
      st->presence.armed = st->pts.armed = false;
    }
    if (!st->pcr_pid) {
      condition_end(Indicator::PcrRepetitionError, st->pid, st->pcr_absence.failing, "no longer a PCR PID");
      st->pcr_absence.armed = false;
    }
    if (st->referenced) condition_end(Indicator::UnreferencedPid, st->pid, st->unreferenced, "now referenced");
  }
  for (std::uint16_t p : former_pmts) {
    if (services_.is_pmt_pid(p)) continue;
    condition_end(Indicator::PmtError, p, pids_[p]->pmt.failing, "no longer in the PAT");
    pids_[p]->pmt.armed = false;
  }
  watched_.clear();
  for (auto& st : pids_)
    if (st && (st->av || st->pcr_pid)) watched_.push_back(st->pid);
  if (!psi_complete_s_ && services_.complete()) psi_complete_s_ = now;
  update_clock_reference();
}

void Analyzer::try_select() {
  if (selected_) return;
  selected_ = services_.choose(opts_.service, false);
  if (!selected_) return;
  update_clock_reference();
  note_service_presence();
  if (service_listener_) service_listener_();
}

void Analyzer::decide_selection() {
  if (selected_) return;
  selected_ = services_.choose(opts_.service, true);
  if (!selected_) return;
  update_clock_reference();
  note_service_presence();
  if (service_listener_) service_listener_();
}

void Analyzer::select(std::uint16_t program_number) {
  if (selected_ == program_number) return;
  selected_ = program_number;
  update_clock_reference();
  note_service_presence();
  if (service_listener_) service_listener_();
}

void Analyzer::note_service_presence() {
  if (!selected_ || !services_.have_pat()) return;
  const Service* s = services_.find(*selected_);
  bool missing = !s || (s->pmt && s->pmt->streams.empty());
  if (missing == service_missing_) return;
  service_missing_ = missing;
  std::string what = "program " + std::to_string(*selected_) +
                     (missing ? (s ? " lists no streams" : " is not in the PAT") : " is back");
  emit(missing ? TsEvent::State::Begin : TsEvent::State::End, std::nullopt, s ? s->pmt_pid : kPidPat, what,
       "service_missing");
}

void Analyzer::check_tables(double now) {
  if (!pat_deadline_.armed) pat_deadline_.arm(session_start_s_, opts_.pat_period_s);
  condition_errors(Indicator::PatError, kPidPat, pat_deadline_.due(now, opts_.pat_period_s), pat_deadline_.failing,
                   [&] { return "no PAT for more than " + seconds_text(opts_.pat_period_s); });
  for (const auto& svc : services_.services()) {
    PidState& pm = *pids_[svc.pmt_pid];
    condition_errors(Indicator::PmtError, svc.pmt_pid, pm.pmt.due(now, opts_.pmt_period_s), pm.pmt.failing,
                     [&] {
                       return "no PMT of program " + std::to_string(svc.program_number) + " for more than " +
                              seconds_text(opts_.pmt_period_s);
                     });
  }
  if (cat_deadline_.armed) {
    if (now - last_scrambled_s_ > opts_.cat_period_s) {
      condition_end(Indicator::CatError, kPidCat, cat_deadline_.failing, "no more scrambled packets");
      cat_deadline_.armed = false;
    } else {
      condition_errors(Indicator::CatError, kPidCat, cat_deadline_.due(now, opts_.cat_period_s), cat_deadline_.failing,
                       "scrambled packets but no CAT");
    }
  }
  struct Check {
    SiTable& table;
    Indicator indicator;
    std::uint16_t pid;
    double period_s;
    bool required;  // may be required from the start (si_required)
    const char* what;
  };
  const Check checks[] = {
      {nit_, Indicator::NitError, services_.nit_pid(), kNitPeriodS, true, "no NIT actual for more than 10 s"},
      {sdt_, Indicator::SdtError, kPidSdt, kSdtPeriodS, true, "no SDT actual for more than 2 s"},
      {eit_, Indicator::EitError, kPidEit, kEitPeriodS, true, "no EIT present/following actual for more than 2 s"},
      {tdt_, Indicator::TdtError, kPidTdt, kTdtPeriodS, true, "no TDT for more than 30 s"},
      {bat_, Indicator::SiRepetitionError, kPidSdt, kOtherTablesPeriodS, false, "no BAT for more than 10 s"},
      {sdt_other_, Indicator::SiRepetitionError, kPidSdt, kOtherTablesPeriodS, false, "no SDT other for more than 10 s"},
      {eit_other_, Indicator::SiRepetitionError, kPidEit, kOtherTablesPeriodS, false,
       "no EIT present/following other for more than 10 s"},
      {tot_, Indicator::SiRepetitionError, kPidTdt, kTotPeriodS, false, "no TOT for more than 30 s"},
  };
  for (const Check& c : checks) {
    if (!c.table.deadline.armed && c.required && opts_.si_required) c.table.deadline.arm(session_start_s_, c.period_s);
    condition_errors(c.indicator, c.pid, c.table.deadline.due(now, c.period_s), c.table.deadline.failing, c.what);
  }
  check_unreferenced(now);
}

void Analyzer::check_unreferenced(double now) {
  if (!psi_complete_s_) return;
  for (std::uint16_t pid : seen_pids_) {
    PidState& st = *pids_[pid];
    if (pid < 0x20 || pid == kPidNull || st.referenced || st.unreferenced) continue;
    if (now - std::max(st.first_s, *psi_complete_s_) <= opts_.unreferenced_s) continue;
    condition_errors(Indicator::UnreferencedPid, pid, 1, st.unreferenced,
                     [&] { return "PID " + hex(pid, 4) + " not referenced by any PMT"; });
  }
}

}  // namespace avmon::ts
