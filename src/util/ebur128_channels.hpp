// BS.1770 channel weighting for libebur128 from a channel's name, shared by
// the loudness detector and the loudness reports so that both measure the
// same programme the same way. Header-only: the detectors and the core
// library both use it and neither links the other.
#pragma once

#include <string>

#include <ebur128.h>

namespace avmon {

// LFE is not measured, surrounds count +1.5 dB, everything else (an unnamed
// channel too) counts as a front channel.
inline int ebur128_channel_for(const std::string& name) {
  if (name == "FL") return EBUR128_LEFT;
  if (name == "FR") return EBUR128_RIGHT;
  if (name == "FC") return EBUR128_CENTER;
  if (name == "LFE" || name == "LFE2" || name == "LFE3") return EBUR128_UNUSED;
  if (name == "BL" || name == "SL") return EBUR128_LEFT_SURROUND;
  if (name == "BR" || name == "SR") return EBUR128_RIGHT_SURROUND;
  return EBUR128_CENTER;
}

}  // namespace avmon
