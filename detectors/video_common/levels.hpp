// Signal levels of a picture as coded: where black lies (16 for limited-range
// video, 0 for full range), shared by the detectors that judge levels near
// black (black pictures, PLUGE line-up patterns).
#pragma once

#include "avmon/frame.hpp"

namespace avmon::video {

// 8-bit black level of the picture as coded: 0 for full range (a JPEG-range
// flag, yuvj*, grey and RGB formats), 16 otherwise.
int black_level_of(const VideoFrame& f);

// 8-bit levels from black to white on that scale (219 limited, 255 full):
// what one per cent of the signal range is worth.
inline double nominal_range_of(int black_level) { return black_level == 0 ? 255.0 : 219.0; }

}  // namespace avmon::video
