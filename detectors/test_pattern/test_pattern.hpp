// Test-pattern detector: colour bars (SMPTE EG 1 and RP 219, EBU 75% / 100%,
// HD/ARIB) replacing programme, also with an ident over them (a station
// caption, a running clock, a logo: overlays over up to about a fifth of the
// picture). The bars' recognition is in bars.hpp; this detector adds that a
// pattern must stand still: the same slot geometry and bar levels on two
// analysed pictures from its first on (moving stripes on a set or a kit do not).
#pragma once

#include <optional>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "test_pattern/bars.hpp"
#include "video_common/regions.hpp"

namespace avmon::video {

class TestPatternDetector final : public Detector {
 public:
  explicit TestPatternDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;

 private:
  // Where the current pattern was first seen.
  struct Anchor {
    double media_time_s = 0;
    double x0 = 0, pitch = 0;
  };
  bool same_place(const BarsVerdict& v) const;

  BarsAnalyser analyser_;
  RegionMask mask_;  // exclude_regions: pixels not read (a clock or an ident in a known place)
  std::optional<Anchor> anchor_;
  bool active_ = false;
};

}  // namespace avmon::video
