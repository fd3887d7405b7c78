// media_time: seconds since the stream's first timestamp, kept monotonic.
// Live transport streams jump (encoder restarts, splices, 33-bit wrap that
// libavformat did not absorb); a jump is absorbed into an offset so that
// media_time continues where it was, and reported once as a discontinuity.
#pragma once

#include <cmath>
#include <map>

namespace avmon {

class Timeline {
 public:
  // Backward steps beyond this, or forward beyond max_gap_s, are jumps.
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

  // True once after a jump was absorbed.
  bool take_discontinuity() {
    bool d = discontinuity_;
    discontinuity_ = false;
    return d;
  }

 private:
  struct Track {
    double last_raw_s = NAN, last_media_s = NAN, last_duration_s = 0;
    int epoch = 0;
  };
  double max_backward_s_, max_gap_s_;
  bool has_origin_ = false;
  double origin_s_ = 0;
  double offset_s_ = 0;     // added to (raw - origin)
  int epoch_ = 0;           // count of jumps absorbed
  double last_jump_s_ = 0;  // raw size of the latest jump
  bool discontinuity_ = false;
  std::map<int, Track> tracks_;
};

}  // namespace avmon
