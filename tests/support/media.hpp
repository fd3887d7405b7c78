// Synthetic frames for unit tests, built the way the decoder builds them: a
// yuv420p AVFrame wrapped as a bus frame, so detectors under test see the real
// derived products (analysis-size luma, BGR), not a test double.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/detector.hpp"
#include "pipeline/frames.hpp"

namespace avmon::test {

// A picture from an 8-bit grey (CV_8UC1, used as Y with neutral chroma) or BGR
// (CV_8UC3, converted to limited-range BT.601 YUV) image. Sizes must be even.
std::shared_ptr<const VideoFrame> make_video_frame(const cv::Mat& image, double media_time_s,
                                                   std::uint64_t index = 0, double duration_s = 0.04,
                                                   DecodeInfo info = {}, DerivedStats* stats = nullptr);

// An audio block from per-channel samples (all channels the same length).
std::shared_ptr<const AudioBlock> make_audio_block(const std::vector<std::vector<float>>& channels,
                                                   int sample_rate, double media_time_s,
                                                   std::uint64_t index = 0);

// A picture with the texture of a camera's: uniform noise from `seed`, blurred
// by `sigma` pixels and stretched to levels lo .. hi. `type` is CV_8UC1 (grey)
// or CV_8UC3 (BGR).
cv::Mat natural_picture(int width, int height, int type, std::uint64_t seed, double sigma, double lo, double hi);

// Collects observations, for asserting what a detector reported.
struct CollectingSink : ObservationSink {
  std::vector<Observation> seen;
  void observe(Observation obs) override { seen.push_back(std::move(obs)); }
  // The last reported state of `type` (false when never reported).
  bool active(const std::string& type, int channel = -1) const {
    for (auto it = seen.rbegin(); it != seen.rend(); ++it)
      if (it->type == type && it->channel == channel) return it->active;
    return false;
  }
  // Media time of the first observation of `type` that was active, or -1.
  double first_active_time(const std::string& type, int channel = -1) const {
    for (const auto& o : seen)
      if (o.type == type && o.channel == channel && o.active) return o.since_s.value_or(o.media_time_s);
    return -1;
  }
};

}  // namespace avmon::test
