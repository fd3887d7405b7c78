// A video detector under test on synthetic pictures: made as the host makes
// it, and shown pictures through the real bus at 25 fps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "avmon/registry.hpp"
#include "support/media.hpp"

namespace avmon::test {

// 25 fps: the time from one synthetic picture to the next.
inline constexpr double kFrameS = 0.04;

// A detector with every declared option at its default, then `changes` over
// them (e.g. {{"exclude_regions", std::vector<Region>{...}}}).
inline std::unique_ptr<Detector> make_detector(const DetectorInfo& info,
                                               const std::vector<std::pair<std::string, OptionValue>>& changes = {}) {
  Options o = default_options(info.options);
  for (const auto& [name, value] : changes) o.set(name, value);
  return info.create(o);
}

// Shows `d` n pictures, picture(i) for i = 0 .. n-1, one every kFrameS from
// t0. Frame indices go on from `index`, which is left after the last, so
// that a second call continues the same stream.
template <class Picture>
void show(Detector& d, ObservationSink& sink, double t0, int n, Picture&& picture, std::uint64_t& index) {
  for (int i = 0; i < n; ++i, ++index) d.on_video(*make_video_frame(picture(i), t0 + i * kFrameS, index), sink);
}

// The same as a stream of its own (frame indices from 0).
template <class Picture>
void show(Detector& d, ObservationSink& sink, double t0, int n, Picture&& picture) {
  std::uint64_t index = 0;
  show(d, sink, t0, n, std::forward<Picture>(picture), index);
}

}  // namespace avmon::test
