// Test-pattern detector: colour bars (SMPTE EG 1 and RP 219, EBU 75% / 100%,
// HD/ARIB) or a stand-alone PLUGE replacing programme, also with an ident over
// them (a station caption, a running clock, a logo: overlays over up to about a
// fifth of the picture). The recognition is in bars.hpp and pluge.hpp; this
// detector adds that a pattern must stand still: the same slot geometry (the
// same stripes at the same levels) on two analysed pictures from its first on
// (moving stripes on a set or a kit do not).
#pragma once

#include <optional>
#include <vector>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"
#include "test_pattern/bars.hpp"
#include "test_pattern/pluge.hpp"
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
    bool pluge = false;
    double x0 = 0, pitch = 0;           // bars' slots
    std::vector<PlugeStripe> stripes;  // a PLUGE's
  };
  bool same_place(const BarsVerdict& v) const;

  BarsAnalyser analyser_;
  bool pluge_on_;
  PlugeAnalyser pluge_;
  RegionMask mask_;  // exclude_regions: pixels not read (a clock or an ident in a known place)
  std::optional<Anchor> anchor_;
  bool active_ = false;
};

DetectorInfo describe_test_pattern();

}  // namespace avmon::video
