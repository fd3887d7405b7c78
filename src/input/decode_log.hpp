// Decoder errors as evidence: libavcodec reports most bitstream damage only
// through av_log ("error while decoding MB ..."). The log callback counts
// such lines per decoder (found through AVCodecContext::opaque, which frame
// threads copy) and forwards libav's messages to our logger.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace avmon {

class DecodeErrorCounter {
 public:
  void add(int n) { count_ += n; }
  // Errors since the last call.
  int take() { return count_.exchange(0); }

 private:
  std::atomic<int> count_{0};
};

// Decoder errors charged to the packet whose decode raised them, so that the
// picture that carries them is the same on every run. Before each packet is
// sent, the decoder's `opaque` points at that packet's slot and its
// `reordered_opaque` holds the packet's number: frame threads copy both from
// the user context when they take the packet, and the picture the packet makes
// comes out with the same `reordered_opaque`. When that picture is delivered,
// every packet up to it has been decoded, so the errors charged to it do not
// depend on thread timing.
class DecodeErrorLedger {
 public:
  static constexpr std::int64_t kSlots = 512;  // far more packets than a decoder holds in flight

  // The slot for packet `seq` (sequence numbers rise by one per packet).
  DecodeErrorCounter* open(std::int64_t seq) {
    DecodeErrorCounter& s = slots_[static_cast<std::size_t>(seq % kSlots)];
    // A packet that never made a picture (dropped, skipped) still counts.
    if (seq - kSlots > taken_) carry_ += s.take();
    else s.take();
    last_sent_ = seq;
    return &s;
  }
  // Errors of every packet up to `seq` not yet charged to a picture.
  int take_through(std::int64_t seq) {
    if (seq < 0 || seq > last_sent_) seq = last_sent_;  // a decoder that does not carry the number
    int n = carry_;
    carry_ = 0;
    for (; taken_ < seq; ++taken_) n += slots_[static_cast<std::size_t>((taken_ + 1) % kSlots)].take();
    return n;
  }
  int take_all() { return take_through(last_sent_); }

 private:
  std::array<DecodeErrorCounter, kSlots> slots_;
  std::int64_t last_sent_ = -1, taken_ = -1;
  int carry_ = 0;
};

// Installs the av_log callback once per process.
void install_decode_log();

}  // namespace avmon
