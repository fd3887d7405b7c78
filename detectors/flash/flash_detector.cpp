// The flash detector: picture transitions (flash.cpp) counted in a sliding
// second, the defect spanning the flashing, its evidence, registration.
#include <algorithm>
#include <cmath>

#include "avmon/registry.hpp"
#include "flash/flash.hpp"

namespace avmon::video {

namespace {

// Float noise in media times (pts * time base) must not move a transition
// across the window's edge.
constexpr double kTimeEpsilon_s = 1e-6;
constexpr double kGatherSpan_s = 0.08;

FlashParams params_from(const Options& o) {
  FlashParams p;
  p.min_change_cd_m2 = o.get_double("min_change_cd_m2");
  p.max_dark_cd_m2 = o.get_double("max_dark_cd_m2");
  p.min_area_fraction = o.get_double("min_area_fraction");
  p.max_flashes_per_s = static_cast<int>(o.get_int("max_flashes_per_s"));
  p.sdr_peak_white_cd_m2 = o.get_double("sdr_peak_white_cd_m2");
  p.hlg_peak_cd_m2 = o.get_double("hlg_peak_cd_m2");
  p.red = o.get_bool("red_flashes");
  return p;
}

double round_to(double v, double step) { return std::round(v / step) * step; }

}  // namespace

int FlashRate::add(double t_s, double frame_duration_s) {
  // "In any one second": transitions less than 1 s apart, less the one picture
  // interval by which each is uncertain. A 3 Hz alternation sampled at 29.97
  // pictures/s now and then shows 7 transitions 29 pictures (0.968 s) apart;
  // that is still 6 per second.
  const double window_s = 1.0 - std::clamp(frame_duration_s, 0.0, 0.5);
  times_.push_back(t_s);
  while (t_s - times_.front() >= window_s - kTimeEpsilon_s) times_.pop_front();
  const int n = static_cast<int>(times_.size());
  exceeded_ = n >= needed_;
  if (exceeded_) group_start_s_ = times_.front();
  return n;
}

FlashDetector::FlashDetector(const Options& o)
    : p_(params_from(o)), analyser_(p_), general_(p_.max_flashes_per_s), red_(p_.max_flashes_per_s) {}

void FlashDetector::configure(const StreamInfo& info) {
  frame_rate_ = info.frame_rate;
  analyser_.reset();
  general_.reset();
  red_.reset();
  recent_.clear();
}

void FlashDetector::on_discontinuity(double) {
  // Pictures on either side of a gap are not a transition; an open episode
  // closes at its last transition on the next picture.
  analyser_.reset();
  general_.reset();
  red_.reset();
  recent_.clear();
}

void FlashDetector::note(const Recent& r) {
  worst_area_ = std::max(worst_area_, r.area_fraction);
  if (!r.red) peak_change_ = std::max(peak_change_, r.change);
}

void FlashDetector::close_episode(ObservationSink& out, double t_s) {
  Observation obs;
  obs.type = "flash";
  obs.media_time_s = t_s;
  obs.active = false;
  obs.since_s = episode_end_s_;
  out.observe(std::move(obs));
  active_ = false;
}

void FlashDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  double duration_s = frame.duration_s();
  if (!(duration_s > 0)) duration_s = frame_rate_ > 0 ? 1.0 / frame_rate_ : 0.04;
  // A picture transition gathers the cells that made theirs within the last
  // 80 ms (2 pictures at 25/29.97, 4 at 50): the cells of one flashing area
  // cross the threshold together or within a picture or two of each other
  // (an uneven fade), while the programme's own changes, gathered over longer,
  // would add up to area that is not flashing.
  const int span = std::max(1, static_cast<int>(std::lround(kGatherSpan_s / duration_s)));
  const FlashVerdict v = analyser_.analyse(frame, span);
  const double t = frame.media_time_s();

  bool exceeded = false;
  double group_start_s = t;
  int general_now = 0, red_now = 0;
  if (v.general.dir != 0) {
    general_now = general_.add(t, duration_s);
    recent_.push_back({t, v.general.area_fraction, v.general.change, false});
    if (general_.exceeded()) exceeded = true, group_start_s = std::min(group_start_s, general_.group_start_s());
  }
  if (v.red.dir != 0) {
    red_now = red_.add(t, duration_s);
    recent_.push_back({t, v.red.area_fraction, v.red.change, true});
    if (red_.exceeded()) exceeded = true, group_start_s = std::min(group_start_s, red_.group_start_s());
  }
  while (!recent_.empty() && t - recent_.front().t_s > 1.0) recent_.pop_front();

  if (exceeded) {
    if (!active_) {
      active_ = true;
      episode_start_s_ = group_start_s;
      worst_transitions_ = worst_red_transitions_ = 0;
      worst_area_ = peak_change_ = 0;
      for (const Recent& r : recent_)
        if (r.t_s >= group_start_s - kTimeEpsilon_s) note(r);
    } else {
      if (v.general.dir != 0) note(recent_[recent_.size() - (v.red.dir != 0 ? 2 : 1)]);
      if (v.red.dir != 0) note(recent_.back());
    }
    episode_end_s_ = t;
  } else if (active_ && (v.general.dir != 0 || v.red.dir != 0)) {
    // A transition inside the episode that completes no group of its own
    // (the flashing slowing down) still belongs to it.
    if (v.general.dir != 0) note(recent_[recent_.size() - (v.red.dir != 0 ? 2 : 1)]);
    if (v.red.dir != 0) note(recent_.back());
  }
  if (active_) {
    worst_transitions_ = std::max(worst_transitions_, general_now);
    worst_red_transitions_ = std::max(worst_red_transitions_, red_now);
  }

  // Once a picture interval short of a second has passed since the last
  // transition of a qualifying group, no later transition can extend it.
  if (active_ && !exceeded && t - episode_end_s_ >= 1.0 - duration_s - kTimeEpsilon_s) {
    close_episode(out, t);
    return;
  }
  Observation obs;
  obs.type = "flash";
  obs.media_time_s = t;
  obs.active = active_;
  if (active_) {
    obs.since_s = episode_start_s_;
    obs.score = worst_transitions_ / 2.0;
    obs.details = {{"flashes", std::max(worst_transitions_, worst_red_transitions_) / 2.0},
                   {"general_flashes", worst_transitions_ / 2.0},
                   {"red_flashes", worst_red_transitions_ / 2.0},
                   {"area_fraction", round_to(worst_area_, 0.001)},
                   {"peak_change_cd_m2", round_to(peak_change_, 0.1)}};
  }
  out.observe(std::move(obs));
}

void FlashDetector::finish(double end_media_time_s, ObservationSink& out) {
  if (active_) close_episode(out, end_media_time_s);
}

DetectorInfo describe_flash() {
  DetectorInfo d;
  d.name = "flash";
  d.summary = "flashing that risks photosensitive seizures: more than 3 flashes a second over a quarter of the "
              "screen (ITU-R BT.1702, Ofcom), general and saturated red";
  d.media = kVideo;
  // Pictures needed: a flash can last one picture; skipped pictures would
  // hide transitions (economy mode drops every non-reference picture).
  d.pictures = PictureNeed::All;
  d.types = {"flash"};
  // The rate already integrates over a second; the defect spans the flashing
  // from its first transition to its last. A pause shorter than the hold-off
  // does not split it.
  d.min_duration_s = 0.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.options = {
      {"min_change_cd_m2", OptionType::Double, 20.0, 1.0, 1000.0, "cd/m²",
       "a transition changes display luminance by at least this (BT.1702, Ofcom: 20)", {}},
      {"max_dark_cd_m2", OptionType::Double, 160.0, 1.0, 10000.0, "cd/m²",
       "... and its darker state is below this (BT.1702, Ofcom: 160)", {}},
      {"min_area_fraction", OptionType::Double, 0.25, 0.0, 1.0, "fraction",
       "share of the screen that must make the same transition on a picture (Ofcom: a quarter)", {}},
      {"max_flashes_per_s", OptionType::Int, std::int64_t{3}, 1.0, 25.0, "flashes",
       "more flashes than this in any one second is a defect (a flash: two opposing transitions)", {}},
      {"sdr_peak_white_cd_m2", OptionType::Double, 200.0, 48.0, 1000.0, "cd/m²",
       "SDR pictures: display luminance of reference white (BT.1886 gamma 2.4 below it)", {}},
      {"hlg_peak_cd_m2", OptionType::Double, 1000.0, 100.0, 10000.0, "cd/m²",
       "HLG pictures: nominal peak of the display (BT.2100 system gamma from it); PQ is absolute", {}},
      {"red_flashes", OptionType::Bool, true, {}, {}, "",
       "count transitions to or from a saturated red as well (red flashes raise the defect alike)", {}},
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<FlashDetector>(o); };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(flash, avmon::video::describe_flash);
