// The signal_loss watchdog runs on the wall clock, not the media clock: when
// nothing arrives there is no media time to measure the silence with. It is
// a plain state machine over (wall time, input counters) so that tests can
// drive it with a fake clock; the monitor polls it from a thread and tells
// it when decoded media arrives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace avmon {

// What the input has done so far (cumulative counters; `open` is the state now).
struct Liveness {
  std::uint64_t bytes = 0;    // bytes read from the input, parseable or not
  std::uint64_t packets = 0;  // demuxed packets of the decoded streams
  bool open = false;          // connected / the input is open
};

enum class LossReason { NoData, NoDecodableFrames, InputClosed };
// "no data", "no decodable frames", "input closed": the `reason` in details.
const char* loss_reason_name(LossReason r);

class SignalWatchdog {
 public:
  explicit SignalWatchdog(double timeout_s) : timeout_s_(timeout_s) {}

  // Monitoring begins: an input that never delivers is lost `timeout_s` later.
  void start(double now_s, const Liveness& l) {
    last_media_wall_s_ = now_s;
    at_media_ = l;
  }
  // Decoded media arrived. Returns true when this ends a loss.
  bool on_media(double now_s, const Liveness& l) {
    last_media_wall_s_ = now_s;
    at_media_ = l;
    if (!lost_) return false;
    lost_ = false;
    return true;
  }
  // Periodic check; returns why, when a loss begins now.
  std::optional<LossReason> poll(double now_s, const Liveness& l) {
    if (l.bytes != last_bytes_ || l.packets != last_packets_) {
      last_bytes_ = l.bytes;
      last_packets_ = l.packets;
      input_moved_s_ = now_s;
    }
    if (lost_ || now_s - last_media_wall_s_ < timeout_s_) return std::nullopt;
    lost_ = true;
    lost_wall_s_ = now_s;
    // Data still arriving lately, but nothing decoded: not the tail of what
    // was in flight when the feed stopped.
    bool data_flowing = (l.bytes > at_media_.bytes || l.packets > at_media_.packets) &&
                        now_s - input_moved_s_ < timeout_s_ / 2;
    if (!l.open) reason_ = LossReason::InputClosed;
    else if (data_flowing) reason_ = LossReason::NoDecodableFrames;
    else reason_ = LossReason::NoData;
    return reason_;
  }

  bool lost() const { return lost_; }
  LossReason reason() const { return reason_; }
  double timeout_s() const { return timeout_s_; }
  // Wall time of the last decoded media (or of start()).
  double last_media_wall_s() const { return last_media_wall_s_; }
  // Wall time the current loss was declared.
  double lost_wall_s() const { return lost_wall_s_; }

 private:
  double timeout_s_;
  double last_media_wall_s_ = 0, lost_wall_s_ = 0;
  Liveness at_media_;
  std::uint64_t last_bytes_ = 0, last_packets_ = 0;
  double input_moved_s_ = -1e300;  // wall time the counters last changed
  bool lost_ = false;
  LossReason reason_ = LossReason::NoData;
};

}  // namespace avmon
