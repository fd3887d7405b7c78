// Clocks and timing checks: the multiplex clock's references, PCR checks
// (2.3, 2.3a, 2.3b, 2.4), PES timestamps (2.5, the service's current PTS)
// and the periodic checks (1.6, 2.5 and the table deadlines).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ts/analyzer_state.hpp"

namespace avmon::ts {

namespace {
std::string hex_pid(std::uint16_t pid) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%04X", pid);
  return b;
}
std::string ms(double s) { return std::to_string(static_cast<long long>(std::llround(s * 1000))) + " ms"; }
constexpr double kPcrAbsencePeriodS = 1.0;  // a silent PCR PID counts one more error per second
}  // namespace

std::optional<double> PcrFit::add(double packet, std::int64_t raw, double limit_ns, bool& constant_rate) {
  if (last_raw >= 0 && raw < last_raw - kPcrWrap27M / 2) unwrap_base += static_cast<double>(kPcrWrap27M);
  last_raw = raw;
  const double v = static_cast<double>(raw) + unwrap_base;
  std::optional<double> dev;
  constant_rate = false;
  if (points.size() >= 4) {
    const double x0 = points.front().first, y0 = points.front().second;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& [x, y] : points) {
      const double dx = x - x0, dy = y - y0;
      sx += dx;
      sy += dy;
      sxx += dx * dx;
      sxy += dx * dy;
    }
    const double n = static_cast<double>(points.size());
    const double den = n * sxx - sx * sx;
    if (den > 0) {
      const double b = (n * sxy - sx * sy) / den, a = (sy - b * sx) / n;
      dev = (v - (y0 + a + b * (packet - x0))) / 27e6 * 1e9;
      // Constant rate: every interval's ticks per packet within 0.1% of the mean.
      if (points.size() == kWindow) {
        constant_rate = b > 0;
        for (std::size_t i = 1; i < points.size() && constant_rate; ++i) {
          const double dx = points[i].first - points[i - 1].first;
          const double r = dx > 0 ? (points[i].second - points[i - 1].second) / dx : 0;
          constant_rate = std::abs(r - b) <= 1e-3 * b;
        }
      }
    }
  }
  if (dev && constant_rate && std::abs(*dev) > limit_ns) {
    if (++outliers < 3) return dev;
    const bool was_constant = constant_rate;
    reset();
    last_raw = raw;
    points.emplace_back(packet, v);
    constant_rate = was_constant;
    return dev;
  }
  outliers = 0;
  points.emplace_back(packet, v);
  if (points.size() > kWindow) points.pop_front();
  return dev;
}

void Analyzer::update_clock_reference() {
  selected_pcr_pid_ = kPidNull;
  service_pts_pid_ = kPidNull;
  if (!selected_) return;
  const Service* s = services_.find(*selected_);
  if (!s || !s->pmt) return;
  selected_pcr_pid_ = s->pmt->pcr_pid;
  for (StreamKind k : {StreamKind::Video, StreamKind::Audio})
    for (const auto& es : s->pmt->streams)
      if (service_pts_pid_ == kPidNull && stream_kind(es) == k) service_pts_pid_ = es.pid;
}

void Analyzer::set_origin_pts(std::int64_t pts_90k) {
  origin_pts_ = pts_90k & (kPtsWrap90k - 1);
  origin_clock_s_.reset();
  // Against the selected service's own clock; if it is not the reference
  // yet, at its next reading.
  if (clock_.source() == StreamClock::Source::SelectedPcr ||
      (clock_.source() == StreamClock::Source::Pts && clock_.pid() == service_pts_pid_))
    origin_clock_s_ = clock_.to_seconds(*origin_pts_ * 300);
}

void Analyzer::set_origin_from_transport() {
  if (origin_clock_s_) return;
  origin_clock_s_ = selected_first_pcr_s_.value_or(session_start_s_);
}

void Analyzer::on_pcr(PidState& st, const PacketView& pkt) {
  const std::int64_t pcr = pkt.pcr();
  const bool disc = pkt.discontinuity();
  ++st.pcrs;
  const bool selected = st.pid == selected_pcr_pid_;
  const double now = now_s_;
  if (selected) {
    if (!selected_first_pcr_s_) {
      selected_first_pcr_s_ = now;
      selected_first_pcr_90k_ = pcr / 300;
    }
    if (origin_pts_ && !origin_clock_s_) origin_clock_s_ = clock_.to_seconds(*origin_pts_ * 300);
  }
  // Seconds of silence passed since the last check count first.
  if (st.pcr_absence.armed) {
    if (const int n = st.pcr_absence.due(now, kPcrAbsencePeriodS); n > 0) {
      st.pcr_absence_errors += n;
      condition_errors(Indicator::PcrRepetitionError, st.pid, n, st.pcr_absence.failing, "no PCR");
      for (int k = 0; k < n; ++k) error(Indicator::PcrError, st.pid, "no PCR");
    }
  }
  if (st.have_pcr && !disc) {
    const std::int64_t d = wrap_diff_27m(pcr, st.last_pcr);
    const std::uint64_t packets = at_packet_ - st.last_pcr_packet;
    const double d_s = static_cast<double>(d) / 27e6;
    const auto rep_ticks = static_cast<std::int64_t>(std::llround(opts_.pcr_repetition_s * 27e6));
    const auto disc_ticks = static_cast<std::int64_t>(std::llround(opts_.pcr_discontinuity_s * 27e6));
    bool jump = d < 0 || d > disc_ticks;
    // A PCR that is merely late is not a jump when the packets in between
    // took as long at the PID's recent rate.
    if (jump && d >= 0 && st.pcr_s_per_packet > 0 &&
        std::abs(d_s - static_cast<double>(packets) * st.pcr_s_per_packet) <= opts_.pcr_discontinuity_s)
      jump = false;
    const bool late = !jump && d > rep_ticks && st.pcr_absence_errors == 0;
    if (jump)
      error(Indicator::PcrDiscontinuityIndicatorError, st.pid,
            "PCR jumped by " + ms(d_s) + " without discontinuity_indicator");
    if (late) error(Indicator::PcrRepetitionError, st.pid, "PCR interval " + ms(d_s));
    if (jump || late) error(Indicator::PcrError, st.pid, jump ? "PCR discontinuity " + ms(d_s) : "PCR interval " + ms(d_s));
    if (!jump && d > 0 && packets > 0) st.pcr_s_per_packet = d_s / static_cast<double>(packets);
    if (jump) st.fit.reset();
  } else if (disc) {
    st.fit.reset();
  }
  // 2.4 against the constant-rate fit; jitter against arrival times.
  const std::optional<double> dev = st.fit.add(static_cast<double>(at_packet_), pcr, opts_.pcr_accuracy_ns, st.constant_rate);
  if (dev && st.constant_rate && checked(Indicator::PcrAccuracyError)) {
    st.max_accuracy_ns = std::max(st.max_accuracy_ns, std::abs(*dev));
    if (std::abs(*dev) > opts_.pcr_accuracy_ns)
      error(Indicator::PcrAccuracyError, st.pid,
            "PCR off by " + std::to_string(static_cast<long long>(std::llround(*dev))) + " ns");
  }
  if (arrival_s_ && opts_.live) {
    const double offset = *arrival_s_ - (st.fit.points.back().second / 27e6);
    st.arrival_offsets.emplace_back(now, offset);
    while (!st.arrival_offsets.empty() && now - st.arrival_offsets.front().first > 10.0) st.arrival_offsets.pop_front();
    if (disc) st.arrival_offsets.clear();
    if (st.arrival_offsets.size() >= 2) {
      // Peak-to-peak over 10 s after removing the drift between the ends.
      const auto& [t0, o0] = st.arrival_offsets.front();
      const auto& [t1, o1] = st.arrival_offsets.back();
      const double slope = t1 > t0 ? (o1 - o0) / (t1 - t0) : 0;
      double lo = 1e300, hi = -1e300;
      for (const auto& [t, o] : st.arrival_offsets) {
        const double r = o - o0 - slope * (t - t0);
        lo = std::min(lo, r);
        hi = std::max(hi, r);
      }
      st.max_arrival_jitter_ns = std::max(st.max_arrival_jitter_ns, (hi - lo) * 1e9);
    }
  }
  if (st.pcr_absence.armed) {
    condition_end(Indicator::PcrRepetitionError, st.pid, st.pcr_absence.failing, "PCRs back");
    st.pcr_absence.arm(now, kPcrAbsencePeriodS);
  }
  st.pcr_absence_errors = 0;
  st.have_pcr = true;
  st.last_pcr = pcr;
  st.last_pcr_packet = at_packet_;
}

void Analyzer::on_pes_start(PidState& st, const PacketView& pkt) {
  const double now = now_s_;
  const std::uint8_t* pl = pkt.payload();
  const std::size_t n = pkt.payload_size();
  const std::optional<std::int64_t> pts = pes_pts(pl, n);
  if (st.pes_listener) st.pes_listener->on_pes_start(st.pid, pts, pl, n, at_packet_, now);
  if (!pts) return;
  if (st.pid == service_pts_pid_) {
    service_pts_ = pts;
    service_pts_history_.emplace_back(at_packet_, *pts);
    if (service_pts_history_.size() > 8192) service_pts_history_.pop_front();
    if (origin_pts_ && !origin_clock_s_ && clock_.source() == StreamClock::Source::Pts && clock_.pid() == st.pid)
      origin_clock_s_ = clock_.to_seconds(*origin_pts_ * 300);
  }
  if (st.av) {
    condition_errors(Indicator::PtsError, st.pid, st.pts.due(now, opts_.pts_period_s), st.pts.failing, "no PTS");
    condition_end(Indicator::PtsError, st.pid, st.pts.failing, "PTS back");
    st.pts.arm(now, opts_.pts_period_s);
  }
}

void Analyzer::check_timers(double now) {
  last_timer_check_s_ = now;
  check_tables(now);
  for (std::uint16_t pid : watched_) {
    PidState& st = *pids_[pid];
    if (st.av) {
      condition_errors(Indicator::PidError, pid, st.presence.due(now, opts_.pid_period_s), st.presence.failing,
                       [&] { return "no packets on " + hex_pid(pid) + " for more than " + ms(opts_.pid_period_s); });
      if (st.scrambled_now) {
        // A scrambled PES header hides its PTS: nothing to check.
        condition_end(Indicator::PtsError, pid, st.pts.failing, "scrambled");
        st.pts.armed = false;
      } else {
        condition_errors(Indicator::PtsError, pid, st.pts.due(now, opts_.pts_period_s), st.pts.failing,
                         [&] { return "no PTS on " + hex_pid(pid) + " for more than " + ms(opts_.pts_period_s); });
      }
    }
    if (st.pcr_pid) {
      const int n = st.pcr_absence.due(now, kPcrAbsencePeriodS);
      if (n > 0) {
        st.pcr_absence_errors += n;
        condition_errors(Indicator::PcrRepetitionError, pid, n, st.pcr_absence.failing,
                         [&] { return "no PCR on " + hex_pid(pid) + " for more than " + ms(kPcrAbsencePeriodS); });
        for (int k = 0; k < n; ++k) error(Indicator::PcrError, pid, "no PCR on " + hex_pid(pid));
      }
    }
  }
}

Analyzer::PcrFigures Analyzer::pcr_figures() const {
  PcrFigures f;
  if (selected_pcr_pid_ == kPidNull || !pids_[selected_pcr_pid_]) return f;
  const PidState& st = *pids_[selected_pcr_pid_];
  f.pcrs = st.pcrs;
  f.max_accuracy_ns = st.max_accuracy_ns;
  f.max_arrival_jitter_ns = st.max_arrival_jitter_ns;
  f.constant_rate = st.constant_rate;
  return f;
}

}  // namespace avmon::ts
