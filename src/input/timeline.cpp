#include "input/timeline.hpp"

#include <algorithm>

namespace avmon {

double Timeline::map(int stream, double raw_s, double duration_s) {
  Track& t = tracks_[stream];
  if (std::isnan(raw_s)) {
    // No timestamp: continue from the previous frame of this stream.
    double m = std::isnan(t.last_media_s) ? 0.0 : t.last_media_s + t.last_duration_s;
    t.last_media_s = m;
    t.last_duration_s = duration_s;
    if (!std::isnan(t.last_raw_s)) t.last_raw_s += t.last_duration_s;
    return m;
  }
  set_origin(raw_s);
  if (!std::isnan(t.last_raw_s)) {
    double step = raw_s - t.last_raw_s;
    if (step < -max_backward_s_ || step > max_gap_s_) {
      if (t.epoch < epoch_ && std::abs(step - last_jump_s_) < 5.0) {
        // The same jump another stream already reported: the offset covers it.
        t.epoch = epoch_;
      } else {
        // Continue one frame after where this stream was.
        double want = t.last_media_s + t.last_duration_s;
        offset_s_ = want - (raw_s - origin_s_);
        last_jump_s_ = step;
        t.epoch = ++epoch_;
        discontinuity_ = true;
      }
    }
  }
  double m = raw_s - origin_s_ + offset_s_;
  // Small backward steps (B-frame reordering of best-effort timestamps,
  // audio priming) are not jumps; never let media_time run backwards.
  if (!std::isnan(t.last_media_s)) m = std::max(m, t.last_media_s);
  m = std::max(m, 0.0);
  t.last_raw_s = raw_s;
  t.last_media_s = m;
  t.last_duration_s = duration_s;
  return m;
}

}  // namespace avmon
