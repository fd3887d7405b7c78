// Decode modes: how much of the video the decoder decodes. Full decodes
// every picture; economy skips the in-loop deblocking filter and the
// non-reference pictures; adaptive decodes keyframes only while all is well
// and everything while there is trouble (see docs/configuration.md). A mode
// that hands a video detector fewer pictures than it declares it needs
// (DetectorInfo::pictures) starves it: the host says so in the log, /status
// and stream.summary.
#pragma once

#include <string>
#include <vector>

#include "avmon/registry.hpp"

namespace avmon {

struct DetectorConfig;

enum class DecodeMode { Full, Economy, Adaptive };

struct DecodeConfig {
  DecodeMode mode = DecodeMode::Full;
  // Adaptive: media time without trouble after which decoding goes back to
  // keyframes only (at the next keyframe).
  double quiet_s = 10;
  // Adaptive: a keyframe whose mean luma (8-bit, coded range) is at or below
  // this is trouble (a cheap black check).
  double black_luma = 32;
  // Adaptive: audio whose every channel stays below this level for half a
  // second is trouble (a cheap silence check).
  double silence_dbfs = -60;
  // Adaptive: most compressed video packets kept (from the keyframe before
  // last) to decode again when trouble is seen; bounded so that a stream
  // without keyframes cannot grow it without end.
  int max_held_packets = 1500;
};

const char* decode_mode_name(DecodeMode mode);
DecodeMode parse_decode_mode(const std::string& name);  // name from the validated choices

// The fewest pictures a mode may deliver: full every picture, economy the
// reference pictures, adaptive the keyframes (while all is well).
PictureNeed pictures_delivered(DecodeMode mode);

// Enabled video detectors that need more pictures than `mode` delivers, in
// configuration order, each with what it needs.
struct StarvedDetector {
  std::string name;
  PictureNeed needs = PictureNeed::All;
};
std::vector<StarvedDetector> starved_detectors(DecodeMode mode, const std::vector<DetectorConfig>& detectors);

}  // namespace avmon
