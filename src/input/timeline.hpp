// media_time: seconds since the stream's first timestamp, kept monotonic.
// Live transport streams jump (encoder restarts, splices, reconnects, 33-bit
// wrap that libavformat did not absorb); a jump is absorbed into an offset so
// that media_time continues where it was, and reported once as a
// discontinuity. A 33-bit wrap is not a jump: media_time simply goes on.
//
// Timestamps are cross-checked against the content: a stream's next frame is
// expected where its previous one ends (its duration: samples for audio, the
// frame duration for video). A forward step the content does not explain
// (more than kClaimTolS beyond it) is only a claim: the frame is placed where
// the content says, and the claim becomes media time only once corroborated:
// by another stream making the same step or whose own content has reached
// it, by an outage measured on the wall clock (hint_gap), or by the stream's
// own frames following the claimed clock for kConfirmS of content. A corrupted timestamp (one frame, then back to
// the old clock) therefore never stretches media time.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>

namespace avmon {

class Timeline {
 public:
  // Span of the MPEG-TS 33-bit 90 kHz clock: a step back by this much is a wrap.
  static constexpr double kWrapSpan_s = 8589934592.0 / 90000.0;

  // A forward step this much beyond the content is a claim to be corroborated.
  static constexpr double kClaimTolS = 0.5;
  // Content that follows a claimed clock before the claim is taken as real.
  static constexpr double kConfirmS = 1.0;
  // Backward steps beyond max_backward_s, or forward beyond max_gap_s, are jumps.
  explicit Timeline(double max_backward_s = 1.0, double max_gap_s = 30.0)
      : max_backward_s_(max_backward_s), max_gap_s_(max_gap_s) {}

  void set_origin(double raw_s) {
    if (!has_origin_) {
      origin_s_ = raw_s;
      has_origin_ = true;
    }
  }

  // Maps a raw timestamp (NaN when the frame has none) of `stream`.
  double map(int stream, double raw_s, double duration_s);

  // Media stopped for `wall_gap_s` of wall-clock time: if the next timestamps
  // jump, place them that far after the last frame, so a live outage keeps
  // its length in media time. Forgotten at the next frame that does not jump.
  void hint_gap(double wall_gap_s) {
    gap_hint_s_ = std::max(0.0, wall_gap_s);
    hint_frames_ = 0;
  }

  // A new session of the same input (reconnect): its timestamps have nothing
  // to do with the old ones. The next frame starts a new epoch `gap_s` after
  // the end of what was delivered; stream indices may differ from before.
  void restart(double gap_s);

  // The decoder skips pictures of `stream` on purpose (decode.mode
  // adaptive: keyframes only while all is well): a forward step of its
  // timestamps up to max_gap_s is the skipped pictures, not a claim to vet.
  void allow_skips(int stream) { tracks_[stream].skips_expected = true; }

  // True once after a jump was absorbed.
  bool take_discontinuity() {
    bool d = discontinuity_;
    discontinuity_ = false;
    return d;
  }
  int jumps() const { return epoch_; }
  int wraps() const { return wraps_; }
  // Forward steps that were never corroborated (placed on the content instead).
  int unconfirmed_steps() const { return unconfirmed_; }
  // Media time just past the latest frame of any stream.
  double end_s() const { return end_s_; }

 private:
  struct Track {
    double last_raw_s = NAN;  // unwrapped (wraps added)
    double last_media_s = NAN, last_duration_s = 0;
    int epoch = 0;
    bool skips_expected = false;  // allow_skips()
    int wraps = 0;            // 33-bit wraps seen on this stream
    // A forward step not yet corroborated: where its clock puts the next
    // frame (NaN: none), how far it is ahead of the content, and how much
    // content has followed it.
    double claim_next_raw_s = NAN;
    double claim_gap_s = 0;
    double claim_span_s = 0;
  };
  void start_epoch(Track& t, double unwrapped_s, double want_s, double step_s);
  // The raw time to use for a frame of `t` at unwrapped `u`: `u` itself, or
  // where the content puts it while a forward step is unconfirmed.
  double vet_forward(Track& t, double u, double duration_s);
  bool corroborated(const Track& t, double gap_s, double u) const;

  double max_backward_s_, max_gap_s_;
  bool has_origin_ = false;
  double origin_s_ = 0;
  double offset_s_ = 0;     // added to (raw - origin)
  int epoch_ = 0;           // count of jumps absorbed
  int wraps_ = 0;
  double last_jump_s_ = 0;  // raw size of the latest jump
  bool discontinuity_ = false;
  bool restart_pending_ = false;
  double restart_gap_s_ = 0;
  double gap_hint_s_ = 0;
  int hint_frames_ = 0;
  static constexpr int kHintFrames = 100;
  double end_s_ = 0;
  double accepted_gap_s_ = NAN;     // the latest forward step taken as real
  double accepted_at_raw_s_ = 0;    // and where
  int unconfirmed_ = 0;
  std::map<int, Track> tracks_;
};

}  // namespace avmon
