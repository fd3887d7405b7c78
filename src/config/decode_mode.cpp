#include "config/decode_mode.hpp"

#include "config/config.hpp"

namespace avmon {

const char* decode_mode_name(DecodeMode mode) {
  switch (mode) {
    case DecodeMode::Economy: return "economy";
    case DecodeMode::Adaptive: return "adaptive";
    case DecodeMode::Full: break;
  }
  return "full";
}

DecodeMode parse_decode_mode(const std::string& name) {
  if (name == "economy") return DecodeMode::Economy;
  if (name == "adaptive") return DecodeMode::Adaptive;
  return DecodeMode::Full;
}

PictureNeed pictures_delivered(DecodeMode mode) {
  switch (mode) {
    case DecodeMode::Economy: return PictureNeed::Reference;
    case DecodeMode::Adaptive: return PictureNeed::Keyframes;
    case DecodeMode::Full: break;
  }
  return PictureNeed::All;
}

std::vector<StarvedDetector> starved_detectors(DecodeMode mode, const std::vector<DetectorConfig>& detectors) {
  // PictureNeed is ordered from most pictures to fewest.
  const auto delivered = static_cast<unsigned>(pictures_delivered(mode));
  std::vector<StarvedDetector> out;
  for (const auto& d : detectors) {
    if (!d.enabled || !d.info || !(d.info->media & kVideo)) continue;
    if (static_cast<unsigned>(d.info->pictures) < delivered) out.push_back({d.info->name, d.info->pictures});
  }
  return out;
}

}  // namespace avmon
