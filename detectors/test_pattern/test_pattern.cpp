#include "test_pattern/test_pattern.hpp"

#include <cmath>

#include "avmon/registry.hpp"
#include "video_common/levels.hpp"

namespace avmon::video {

namespace {
constexpr double kStillSlack = 2.0;  // analysis pixels
}  // namespace

TestPatternDetector::TestPatternDetector(const Options& o)
    : analyser_(BarsParams{o.get_double("column_tolerance"), o.get_double("min_constant_columns"),
                           static_cast<int>(o.get_int("min_bars")), o.get_double("min_saturation")}),
      pluge_on_(o.get_bool("pluge")),
      pluge_(PlugeParams{o.get_double("pluge_min_black_fraction"), static_cast<int>(o.get_int("pluge_min_levels"))}),
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
  return anchor_ && !anchor_->pluge && std::abs(v.x0 - anchor_->x0) <= kStillSlack && std::abs(v.pitch - anchor_->pitch) <= kStillSlack / 2;
}

void TestPatternDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const cv::Mat& luma = frame.luma_even_rows();
  if (!mask_.empty()) {
    analyser_.set_masked(mask_.rects(luma.size()));
    pluge_.set_masked(mask_.rects(luma.size()));
  }
  const auto bgr = [&frame]() -> const cv::Mat& { return frame.bgr(); };
  const BarsVerdict v = analyser_.analyse(luma, bgr);
  // A PLUGE is looked for only where there are no bars (bars carry their own
  // PLUGE part, which is not a picture of its own).
  PlugeVerdict p;
  if (!v.bars && pluge_on_) p = pluge_.analyse(luma, black_level_of(frame), bgr);
  Observation obs;
  obs.type = "test_pattern";
  obs.media_time_s = frame.media_time_s();
  // A pattern counts once a second picture shows it in the same place; it is
  // dated from the first (since_s).
  const bool found = v.bars || p.pluge;
  const bool still = v.bars ? same_place(v) : p.pluge && anchor_ && anchor_->pluge && pluge_.same_stripes(anchor_->stripes, p.stripes);
  if (still && !active_) obs.since_s = anchor_->media_time_s;
  if (found && !still) anchor_ = Anchor{frame.media_time_s(), !v.bars, v.x0, v.pitch, p.stripes};
  if (!found) anchor_.reset();
  obs.active = active_ = still;
  obs.score = v.bars ? v.colour_bars : p.levels;
  if (still && v.bars) {
    obs.details = {{"pattern", "colour_bars"},
                   {"bars", v.colour_bars},
                   {"colours", v.colours},
                   {"constant_columns", std::round(v.constant_columns * 1000) / 1000}};
  } else if (still) {
    // The stripes' levels as a share of the signal range off the field's
    // black (-2, 2, 4 on a BT.814 / RP 219 PLUGE).
    const double range = nominal_range_of(black_level_of(frame));
    nlohmann::json levels = nlohmann::json::array();
    for (const PlugeStripe& s : p.stripes)
      if (s.neutral) levels.push_back(std::round((s.level - p.black) / range * 1000) / 10);
    obs.details = {{"pattern", "pluge"},
                   {"stripes", levels.size()},
                   {"levels_percent", levels},
                   {"black_level", std::round(p.black * 10) / 10},
                   {"black_fraction", std::round(p.black_fraction * 1000) / 1000}};
  }
  out.observe(std::move(obs));
}

DetectorInfo describe_test_pattern() {
  DetectorInfo d;
  d.name = "test_pattern";
  d.summary = "colour bars (SMPTE, EBU, HD) or a PLUGE, also under an ident caption, clock or logo, instead of programme";
  d.media = kVideo;
  // Pictures needed: bars are a steady picture: reference pictures show them as well as every picture.
  d.pictures = PictureNeed::Reference;
  d.types = {"test_pattern"};
  // Patterns are static (a freeze, a slate) and a PLUGE's black field is not a black picture: one alarm.
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
      {"pluge", OptionType::Bool, true, {}, {}, "",
       "recognise a stand-alone PLUGE (black field, flat stripes just below and above black)", {}},
      {"pluge_min_black_fraction", OptionType::Double, 0.4, 0.2, 0.95, "fraction",
       "share of the picture on the PLUGE's black field (the rest: stripes, white or grey patches, an ident)", {}},
      {"pluge_min_levels", OptionType::Int, std::int64_t{2}, 1.0, 4.0, "levels",
       "distinct near-black stripe levels a PLUGE shows (e.g. -2 % and +2 % of the range)", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    return std::make_unique<TestPatternDetector>(o);
  };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(test_pattern, avmon::video::describe_test_pattern);
