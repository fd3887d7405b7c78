#include "loudness/loudness.hpp"

#include <cmath>
#include <stdexcept>

#include <ebur128.h>

#include "audio_common/sample_loops.hpp"
#include "util/ebur128_channels.hpp"

namespace avmon::audio {

namespace {

// JSON has no -inf: a loudness below the absolute gate is reported as null.
nlohmann::json lufs_json(double v) {
  if (!std::isfinite(v) || v <= -200) return nullptr;
  return round_to(v, 2);
}

}  // namespace

LoudnessDetector::LoudnessDetector(LoudnessParams p) : p_(std::move(p)) {
  if (p_.preset == "ebu_r128")
    target_lufs_ = -23.0;
  else if (p_.preset == "atsc_a85")
    target_lufs_ = -24.0;
  else
    target_lufs_ = p_.target_lufs;
  momentary_ = p_.window == "momentary";
}

LoudnessDetector::~LoudnessDetector() {
  if (st_) ebur128_destroy(&st_);
}

void LoudnessDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  if (sample_rate <= 0 || channels <= 0) return;
  const auto ch = static_cast<unsigned>(channels);
  const auto rate = static_cast<unsigned long>(sample_rate);
  if (!st_) {
    // True peak is measured here (TruePeakMeter, run only where it can
    // matter): libebur128's runs on every sample and costs four times the
    // rest of the meter.
    st_ = ebur128_init(ch, rate, EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_HISTOGRAM);
    if (!st_) throw std::runtime_error("loudness: ebur128_init failed");
  } else if (channels != channels_ || sample_rate != rate_) {
    // A format change keeps the integrated measurement: it is per stream.
    ebur128_change_parameters(st_, ch, rate);
  }
  names_ = std::move(names);
  for (int c = 0; c < channels; ++c)
    ebur128_set_channel(st_, static_cast<unsigned>(c), ebur128_channel_for(channel_label(names_, c)));
  channels_ = channels;
  rate_ = sample_rate;
  win_.reset(sample_rate, 0.1);
  true_peak_.reset(channels);
  step_energy_.assign(30, 0.0);
  energy_pos_ = 0;
  fresh_steps_ = 0;
  run_.reset();
}

void LoudnessDetector::configure(const StreamInfo& info) {
  setup(info.sample_rate, info.channels, info.channel_names);
}

void LoudnessDetector::on_discontinuity(double /*media_time_s*/) {
  // Integrated loudness and range span the whole stream; the sliding windows
  // must refill with audio from after the gap before they mean anything.
  fresh_steps_ = 0;
}

void LoudnessDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (!st_ || b.channels() != channels_ || b.sample_rate() != rate_)
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  if (!st_) return;
  if (win_.check_gap(b)) fresh_steps_ = 0;
  const auto need = static_cast<size_t>(b.samples()) * static_cast<size_t>(channels_);
  if (interleaved_.size() < need) interleaved_.resize(need);  // grows once, to the largest block
  win_.feed(
      b,
      [&](int begin, int end) {
        const auto stride = static_cast<size_t>(channels_);
        if (channels_ == 2) interleave_stereo(b.channel(0) + begin, b.channel(1) + begin, end - begin, interleaved_.data());
        for (int c = 0; c < channels_; ++c) {
          const float* x = b.channel(c);
          if (channels_ != 2) {
            float* dst = interleaved_.data() + c;
            for (int i = begin; i < end; ++i, dst += stride) *dst = x[i];
          }
          true_peak_.feed(c, x + begin, end - begin, true);
        }
        ebur128_add_frames_float(st_, interleaved_.data(), static_cast<size_t>(end - begin));
      },
      [&](double start_s, double end_s) { step_done(start_s, end_s, out); });
}

double LoudnessDetector::window_lufs(int steps) const {
  const int slots = static_cast<int>(step_energy_.size());
  double sum = 0;
  for (int k = 1; k <= steps; ++k) sum += step_energy_[static_cast<size_t>((energy_pos_ - k + slots) % slots)];
  const double mean = sum / steps;
  return mean > 0 ? -0.691 + 10 * std::log10(mean) : kFloorDb;
}

void LoudnessDetector::step_done(double start_s, double end_s, ObservationSink& out) {
  double step = -HUGE_VAL;
  ebur128_loudness_window(st_, 100, &step);
  step_energy_[static_cast<size_t>(energy_pos_)] = std::isfinite(step) ? std::pow(10.0, (step + 0.691) / 10) : 0.0;
  energy_pos_ = (energy_pos_ + 1) % static_cast<int>(step_energy_.size());
  ++fresh_steps_;
  if (fresh_steps_ >= 4) {
    momentary_lufs_ = window_lufs(4);
    max_momentary_lufs_ = std::max(max_momentary_lufs_, momentary_lufs_);
  }
  if (fresh_steps_ >= 30) {
    short_term_lufs_ = window_lufs(30);
    max_short_term_lufs_ = std::max(max_short_term_lufs_, short_term_lufs_);
  }
  if (fresh_steps_ < (momentary_ ? 4 : 30)) return;  // the window is not full yet: no verdict
  measured_ = true;
  const double level = momentary_ ? momentary_lufs_ : short_term_lufs_;
  // Below the BS.1770 absolute gate there is no programme to measure: that is
  // silence, reported by its own detector.
  const bool gated = level < -70.0;
  const bool too_loud = !gated && level > target_lufs_ + p_.tolerance_lu;
  const bool too_quiet = !gated && level < target_lufs_ - p_.low_tolerance_lu;
  const bool active = too_loud || too_quiet;
  const bool was = run_.known && run_.active;
  const double since = run_.update(active, end_s);
  if (active) {
    if (!was) run_extreme_lufs_ = level;
    run_extreme_lufs_ = too_loud ? std::max(run_extreme_lufs_, level) : std::min(run_extreme_lufs_, level);
  }
  (void)start_s;
  Observation o;
  o.type = "loudness";
  o.media_time_s = end_s;
  o.active = active;
  o.since_s = since;
  o.score = level - target_lufs_;
  o.details = {{"window", momentary_ ? "momentary" : "short_term"},
               {"loudness_lufs", lufs_json(active ? run_extreme_lufs_ : level)},
               {"target_lufs", target_lufs_},
               {"preset", p_.preset}};
  if (active) o.details["direction"] = too_loud ? "too_loud" : "too_quiet";
  out.observe(std::move(o));
}

double LoudnessDetector::true_peak_dbtp() const { return amplitude_to_db(true_peak_.max_peak()); }

nlohmann::json LoudnessDetector::summary() const {
  if (!st_) return nullptr;
  double integrated = -HUGE_VAL, range = 0;
  ebur128_loudness_global(st_, &integrated);
  if (ebur128_loudness_range(st_, &range) != EBUR128_SUCCESS || !std::isfinite(range)) range = 0;
  return {{"loudness",
           {{"integrated_lufs", lufs_json(integrated)},
            {"range_lu", round_to(range, 2)},
            {"true_peak_dbtp", lufs_json(true_peak_dbtp())},
            {"max_momentary_lufs", lufs_json(max_momentary_lufs_)},
            {"max_short_term_lufs", lufs_json(max_short_term_lufs_)},
            {"target_lufs", target_lufs_},
            {"preset", p_.preset}}}};
}

nlohmann::json LoudnessDetector::levels() const {
  if (!st_) return nullptr;
  double integrated = -HUGE_VAL;
  ebur128_loudness_global(st_, &integrated);
  return {{"loudness",
           {{"momentary_lufs", fresh_steps_ >= 4 ? lufs_json(momentary_lufs_) : nullptr},
            {"short_term_lufs", fresh_steps_ >= 30 ? lufs_json(short_term_lufs_) : nullptr},
            {"integrated_lufs", lufs_json(integrated)},
            {"true_peak_dbtp", lufs_json(true_peak_dbtp())},
            {"target_lufs", target_lufs_}}}};
}

DetectorInfo describe_loudness() {
  DetectorInfo d;
  d.name = "loudness";
  d.summary = "EBU R128 / ATSC A/85 loudness (libebur128); defect while outside the target window";
  d.media = kAudio;
  d.types = {"loudness"};
  d.options = {
      {"preset", OptionType::String, std::string("ebu_r128"), {}, {}, "",
       "target: ebu_r128 (-23 LUFS), atsc_a85 (-24 LKFS) or custom (target_lufs)", {"ebu_r128", "atsc_a85", "custom"}},
      {"target_lufs", OptionType::Double, -23.0, -70.0, 0.0, "LUFS", "target loudness with preset custom", {}},
      {"tolerance_lu", OptionType::Double, 5.0, 0.0, 40.0, "LU", "too loud: window loudness above target + this", {}},
      {"low_tolerance_lu", OptionType::Double, 12.0, 0.0, 60.0, "LU",
       "too quiet: window loudness below target - this (quiet passages are normal, so wider)", {}},
      {"window", OptionType::String, std::string("short_term"), {}, {}, "",
       "loudness window judged: short_term (3 s) or momentary (400 ms)", {"short_term", "momentary"}},
  };
  d.min_duration_s = 5.0;
  d.hold_off_s = 2.0;
  d.severity = "minor";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    LoudnessParams p;
    p.preset = o.get_string("preset");
    p.target_lufs = o.get_double("target_lufs");
    p.tolerance_lu = o.get_double("tolerance_lu");
    p.low_tolerance_lu = o.get_double("low_tolerance_lu");
    p.window = o.get_string("window");
    return std::make_unique<LoudnessDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(loudness, describe_loudness);

}  // namespace avmon::audio
