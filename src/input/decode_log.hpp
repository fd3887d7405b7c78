// Decoder errors as evidence: libavcodec reports most bitstream damage only
// through av_log ("error while decoding MB ..."). The log callback counts
// such lines per decoder (found through AVCodecContext::opaque, which frame
// threads copy) and forwards libav's messages to our logger.
#pragma once

#include <atomic>

namespace avmon {

class DecodeErrorCounter {
 public:
  void add(int n) { count_ += n; }
  // Errors since the last call.
  int take() { return count_.exchange(0); }

 private:
  std::atomic<int> count_{0};
};

// Installs the av_log callback once per process.
void install_decode_log();

}  // namespace avmon
