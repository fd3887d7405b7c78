#include "input/timeline.hpp"

#include <algorithm>

namespace avmon {

void Timeline::restart(double gap_s) {
  restart_pending_ = true;
  restart_gap_s_ = std::max(0.0, gap_s);
  // Keep each track's last media time (media_time never runs backwards) but
  // forget its raw clock: the new session's clock is unrelated.
  for (auto& [stream, t] : tracks_) {
    t.last_raw_s = NAN;
    t.wraps = 0;
  }
}

void Timeline::start_epoch(Track& t, double unwrapped_s, double want_s, double step_s) {
  offset_s_ = want_s - (unwrapped_s - origin_s_);
  last_jump_s_ = step_s;
  t.epoch = ++epoch_;
  discontinuity_ = true;
  gap_hint_s_ = 0;
}

bool Timeline::corroborated(const Track& t, double gap_s, double u) const {
  if (!std::isnan(accepted_gap_s_) && std::abs(gap_s - accepted_gap_s_) <= kClaimTolS &&
      std::abs(u - accepted_at_raw_s_) <= max_gap_s_)
    return true;
  for (const auto& [stream, other] : tracks_) {
    if (&other == &t) continue;
    // Another stream claims the same step: a gap in the whole input.
    if (!std::isnan(other.claim_next_raw_s) && std::abs(other.claim_gap_s - gap_s) <= kClaimTolS) return true;
    // Another stream's content has reached this time: it passed (a stream
    // with sparse frames, e.g. a still picture coded once at a variable
    // frame rate, steps further than its nominal frame duration).
    if (!std::isnan(other.last_raw_s) && other.last_raw_s + other.last_duration_s >= u - kClaimTolS) return true;
  }
  return false;
}

double Timeline::vet_forward(Track& t, double u, double duration_s) {
  const double expected = t.last_raw_s + t.last_duration_s;  // where the content puts this frame
  if (!std::isnan(t.claim_next_raw_s)) {
    if (std::abs(u - t.claim_next_raw_s) <= kClaimTolS) {
      // Still on the claimed clock.
      t.claim_span_s += duration_s;
      t.claim_next_raw_s = u + duration_s;
      if (t.claim_span_s < kConfirmS && !corroborated(t, t.claim_gap_s, u)) return expected;
      accepted_gap_s_ = t.claim_gap_s;
      accepted_at_raw_s_ = u;
      t.claim_next_raw_s = NAN;
      return u;
    }
    // Back on the content's clock (or elsewhere): that was no gap.
    t.claim_next_raw_s = NAN;
    ++unconfirmed_;
  }
  const double gap_s = u - expected;
  if (gap_s <= kClaimTolS) return u;
  if (corroborated(t, gap_s, u)) {
    accepted_gap_s_ = gap_s;
    accepted_at_raw_s_ = u;
    return u;
  }
  t.claim_gap_s = gap_s;
  t.claim_span_s = duration_s;
  t.claim_next_raw_s = u + duration_s;
  return expected;
}

double Timeline::map(int stream, double raw_s, double duration_s) {
  Track& t = tracks_[stream];
  double m;
  if (std::isnan(raw_s)) {
    // No timestamp: continue from the previous frame of this stream.
    m = std::isnan(t.last_media_s) ? end_s_ : t.last_media_s + t.last_duration_s;
    if (!std::isnan(t.last_raw_s)) t.last_raw_s += t.last_duration_s;
  } else {
    set_origin(raw_s);
    double u = raw_s + t.wraps * kWrapSpan_s;  // raw, unwrapped for this track
    if (restart_pending_) {
      restart_pending_ = false;
      start_epoch(t, u, end_s_ + restart_gap_s_, 0);
    } else if (!std::isnan(t.last_raw_s)) {
      double step = u - t.last_raw_s;
      if (step < -max_backward_s_ && step + kWrapSpan_s >= -max_backward_s_ && step + kWrapSpan_s <= max_gap_s_) {
        // The 33-bit PTS clock wrapped: time goes on, nothing was lost.
        ++t.wraps;
        ++wraps_;
        u += kWrapSpan_s;
        step += kWrapSpan_s;
      }
      if (step < -max_backward_s_ || step > max_gap_s_) {
        t.claim_next_raw_s = NAN;
        if (t.epoch < epoch_ && std::abs(step - last_jump_s_) < 5.0) {
          // The same jump another stream already reported: the offset covers it.
          t.epoch = epoch_;
        } else {
          // Continue one frame after where this stream was, or, after a live
          // outage, as far after the end of the media as the outage lasted.
          double want = t.last_media_s + t.last_duration_s;
          if (gap_hint_s_ > 0) want = std::max(want, end_s_ + gap_hint_s_);
          start_epoch(t, u, want, step);
        }
      } else {
        // Timestamps that went on across a measured outage tell its length.
        const bool hinted = gap_hint_s_ > 0 && step >= 0.5 * gap_hint_s_;
        // The hint is spent by them, or once it has outlived the frames a
        // decoder holds back from before the gap, which arrive late with
        // ordinary steps and must not spend it.
        if (gap_hint_s_ > 0 && (hinted || ++hint_frames_ > kHintFrames)) gap_hint_s_ = 0;
        if (hinted || t.skips_expected) t.claim_next_raw_s = NAN;
        else u = vet_forward(t, u, duration_s);
      }
    }
    m = u - origin_s_ + offset_s_;
    t.last_raw_s = u;
  }
  // Small backward steps (B-frame reordering of best-effort timestamps,
  // audio priming) are not jumps; never let media_time run backwards.
  if (!std::isnan(t.last_media_s)) m = std::max(m, t.last_media_s);
  m = std::max(m, 0.0);
  t.last_media_s = m;
  t.last_duration_s = duration_s;
  end_s_ = std::max(end_s_, m + duration_s);
  return m;
}

}  // namespace avmon
