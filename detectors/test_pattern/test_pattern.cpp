#include "test_pattern/test_pattern.hpp"

#include <cmath>

#include "avmon/registry.hpp"

namespace avmon::video {

namespace {
constexpr double kStillSlack = 2.0;  // analysis pixels
}  // namespace

TestPatternDetector::TestPatternDetector(const Options& o)
    : analyser_(BarsParams{o.get_double("column_tolerance"), o.get_double("min_constant_columns"),
                           static_cast<int>(o.get_int("min_bars")), o.get_double("min_saturation")}),
      mask_(o.get_regions("exclude_regions")) {}

void TestPatternDetector::configure(const StreamInfo&) {
  anchor_.reset();
  active_ = false;
}

void TestPatternDetector::on_discontinuity(double) {
  anchor_.reset();
  active_ = false;
}

bool TestPatternDetector::same_place(const BarsVerdict& v) const {
  // Bars do not move: their slots stay where they first were to a couple of
  // analysis pixels (edge quantisation, coding). A pan over striped scenery
  // drifts past that within a few pictures.
  return anchor_ && std::abs(v.x0 - anchor_->x0) <= kStillSlack && std::abs(v.pitch - anchor_->pitch) <= kStillSlack / 2;
}

void TestPatternDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const cv::Mat& luma = frame.luma_even_rows();
  if (!mask_.empty()) analyser_.set_masked(mask_.rects(luma.size()));
  const BarsVerdict v = analyser_.analyse(luma, [&frame]() -> const cv::Mat& { return frame.bgr(); });
  Observation obs;
  obs.type = "test_pattern";
  obs.media_time_s = frame.media_time_s();
  // Bars count once a second picture shows them in the same place; they are
  // dated from the first (since_s).
  const bool still = v.bars && same_place(v);
  if (still && !active_) obs.since_s = anchor_->media_time_s;
  if (v.bars && !still) anchor_ = Anchor{frame.media_time_s(), v.x0, v.pitch};
  if (!v.bars) anchor_.reset();
  obs.active = active_ = still;
  obs.score = v.colour_bars;
  if (still)
    obs.details = {{"pattern", "colour_bars"},
                   {"bars", v.colour_bars},
                   {"colours", v.colours},
                   {"constant_columns", std::round(v.constant_columns * 1000) / 1000}};
  out.observe(std::move(obs));
}

DetectorInfo describe_test_pattern() {
  DetectorInfo d;
  d.name = "test_pattern";
  d.summary = "colour bars (SMPTE, EBU, HD), also under an ident caption, clock or logo, instead of programme";
  d.media = kVideo;
  // Pictures needed: bars are a steady picture: reference pictures show them as well as every picture.
  d.pictures = PictureNeed::Reference;
  d.types = {"test_pattern"};
  // Bars are static (a freeze, a slate) and the black of a PLUGE is not a black picture: one alarm.
  d.suppresses = {"freeze", "black", "slate"};
  d.min_duration_s = 1.0;
  d.hold_off_s = 0.5;
  d.severity = "major";
  d.options = {
      {"column_tolerance", OptionType::Double, 6.0, 0.0, 64.0, "8-bit levels",
       "a bar column's rows may differ this much from its median (noise, coding)", {}},
      {"min_constant_columns", OptionType::Double, 0.5, 0.1, 1.0, "fraction",
       "share of the picture's columns whose rows mostly agree (the rest: captions, clocks, idents)", {}},
      {"min_bars", OptionType::Int, std::int64_t{4}, 3.0, 7.0, "bars",
       "bars (white yellow cyan green magenta red blue) that must be found in their own place", {}},
      {"min_saturation", OptionType::Double, 40.0, 10.0, 255.0, "8-bit levels",
       "spread of a colour bar's RGB (max - min) that makes it a colour rather than grey", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    return std::make_unique<TestPatternDetector>(o);
  };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(test_pattern, avmon::video::describe_test_pattern);
