// The multiplex's own clock: seconds elapsed since the first packet, taken
// from the best reference available (the selected service's PCR, else any
// PCR, else a PES PID's PTS, else arrival times) and interpolated between
// samples by packet position. It stays continuous across 33-bit wraps,
// discontinuities and changes of reference, so intervals measured on it
// (table repetition, PID presence) are the same for a file and its live feed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "ts/packet.hpp"

namespace avmon::ts {

// Difference of two 27 MHz values of a 33-bit-based clock, in (-wrap/2, wrap/2].
inline std::int64_t wrap_diff_27m(std::int64_t a, std::int64_t b) {
  std::int64_t d = (a - b) % kPcrWrap27M;
  if (d > kPcrWrap27M / 2) d -= kPcrWrap27M;
  if (d <= -kPcrWrap27M / 2) d += kPcrWrap27M;
  return d;
}

class StreamClock {
 public:
  enum class Source { None, Arrival, Pts, Pcr, SelectedPcr };

  // A reading of reference `src` of `pid` (27 MHz units) at packet `packet`.
  // `discontinuity`: the source says its clock jumped here.
  // Returns false when `src` is not (or not better than) the reference.
  bool sample(Source src, std::uint16_t pid, std::int64_t raw_27m, std::uint64_t packet, bool discontinuity) {
    if (!accepts(src, pid)) return false;
    // The same PID promoted (its service was chosen): the same clock.
    if (pid == pid_ && src > source_ && src >= Source::Pcr && source_ >= Source::Pcr) source_ = src;
    if (src != source_ || pid != pid_) {
      // A better reference: continue from where the clock is now.
      anchor(src, pid, raw_27m, packet, at(packet));
      return true;
    }
    const double step_s = static_cast<double>(wrap_diff_27m(raw_27m, last_raw_)) / 27e6;
    const std::uint64_t packets = packet - last_packet_;
    double value;
    if (!discontinuity && step_s >= 0 && step_s <= max_step_s(src)) {
      value = last_s_ + step_s;
      if (packets > 0 && step_s > 0) s_per_packet_ = step_s / static_cast<double>(packets);
    } else {
      value = last_s_ + static_cast<double>(packets) * s_per_packet_;  // a jump: go on at the last rate
      ++jumps_;
    }
    // A reading may be a little behind what extrapolation said: it is the
    // better figure (a floor here would ratchet the clock ahead).
    anchor(src, pid, raw_27m, packet, value);
    return true;
  }
  bool accepts(Source src, std::uint16_t pid) const { return src > source_ || (src == source_ && pid == pid_); }

  // Seconds at packet `packet` (at or after the latest sample).
  double at(std::uint64_t packet) const {
    if (source_ == Source::None) return last_s_;
    double v = last_s_ + static_cast<double>(packet - last_packet_) * s_per_packet_;
    // Extrapolation may not run more than a second past the last reading.
    return std::min(v, last_s_ + 1.0);
  }
  // A raw value of the current reference, in this clock's seconds.
  std::optional<double> to_seconds(std::int64_t raw_27m) const {
    if (source_ == Source::None || source_ == Source::Arrival) return std::nullopt;
    return last_s_ + static_cast<double>(wrap_diff_27m(raw_27m, last_raw_)) / 27e6;
  }
  Source source() const { return source_; }
  std::uint16_t pid() const { return pid_; }
  // A new session of a live input after `gap_s`: the next reading anchors again.
  void restart(double gap_s, std::uint64_t packet) {
    double now = at(packet) + std::max(0.0, gap_s);
    source_ = Source::None;
    last_s_ = now;
    last_packet_ = packet;
  }
  std::uint64_t jumps() const { return jumps_; }

 private:
  static double max_step_s(Source s) { return s == Source::Arrival ? 3600.0 : s == Source::Pts ? 5.0 : 1.0; }
  void anchor(Source src, std::uint16_t pid, std::int64_t raw, std::uint64_t packet, double value) {
    source_ = src;
    pid_ = pid;
    last_raw_ = raw;
    last_packet_ = packet;
    last_s_ = value;
  }

  Source source_ = Source::None;
  std::uint16_t pid_ = 0;
  std::int64_t last_raw_ = 0;
  std::uint64_t last_packet_ = 0;
  double last_s_ = 0;
  double s_per_packet_ = 0;
  std::uint64_t jumps_ = 0;
};

}  // namespace avmon::ts
