#include "clipping/clipping.hpp"

namespace avmon::audio {

void ClippingDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  win_.reset(sample_rate, p_.window_s);
  channels_ = channels;
  names_ = std::move(names);
  counters_.assign(static_cast<size_t>(channels), PlateauCounter{});
  for (auto& c : counters_) c.reset(static_cast<float>(db_to_amplitude(p_.level_dbfs)));
  clipped_.assign(static_cast<size_t>(channels), 0);
  peak_.assign(static_cast<size_t>(channels), 0.f);
  const auto slots = static_cast<size_t>(std::max(1L, std::lround(p_.assess_s / win_.window_s())));
  share_ring_.assign(slots, 0.0);
  start_ring_.assign(slots, 0.0);
  ring_pos_ = ring_filled_ = 0;
  run_.reset();
}

void ClippingDetector::configure(const StreamInfo& info) {
  setup(info.sample_rate, info.channels, info.channel_names);
}

void ClippingDetector::on_discontinuity(double /*media_time_s*/) { setup(win_.rate(), channels_, names_); }

void ClippingDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.channels() != channels_ || b.sample_rate() != win_.rate())
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  if (win_.check_gap(b)) setup(win_.rate(), channels_, names_);
  win_.feed(
      b,
      [&](int begin, int end) {
        for (int c = 0; c < channels_; ++c) {
          const auto ci = static_cast<size_t>(c);
          const float* x = b.channel(c) + begin;
          // (The maximum is the same whichever way its samples are grouped.)
          const float segment_peak = peak_abs(x, end - begin, 0.f);
          peak_[ci] = std::max(peak_[ci], segment_peak);
          if (counters_[ci].skip_quiet(x, end - begin, segment_peak)) continue;
          counters_[ci].feed(x, end - begin, p_.min_flatness, p_.min_run_samples,
                             [&](int len, bool plateau, float) {
                               if (plateau) clipped_[ci] += len;
                             });
        }
      },
      [&](double start_s, double end_s) { window_done(start_s, end_s, out); });
}

void ClippingDetector::window_done(double start_s, double end_s, ObservationSink& out) {
  double share_pct = 0, peak = 0;
  nlohmann::json clipped_channels = nlohmann::json::array();
  for (size_t c = 0; c < clipped_.size(); ++c) {
    const double s = 100.0 * static_cast<double>(clipped_[c]) / win_.size();
    if (s >= p_.min_share_pct) clipped_channels.push_back(channel_label(names_, static_cast<int>(c)));
    share_pct = std::max(share_pct, s);
    peak = std::max(peak, static_cast<double>(peak_[c]));
    clipped_[c] = 0;
    peak_[c] = 0;
  }
  if (channels_ == 0) return;
  // Clipped runs come and go with the programme's dynamics (a drum hit clips,
  // the pause after it does not), so the share is judged over a sliding
  // period: sustained clipping is a condition, not a single window.
  const int slots = static_cast<int>(share_ring_.size());
  share_ring_[static_cast<size_t>(ring_pos_)] = share_pct;
  start_ring_[static_cast<size_t>(ring_pos_)] = start_s;
  ring_pos_ = (ring_pos_ + 1) % slots;
  ring_filled_ = std::min(ring_filled_ + 1, slots);
  if (share_pct > 0) last_clipped_end_s_ = end_s;
  double mean_pct = 0;
  double first_clipped_s = start_s;
  for (int k = ring_filled_; k >= 1; --k) {  // oldest first
    const auto i = static_cast<size_t>((ring_pos_ - k + slots) % slots);
    mean_pct += share_ring_[i];
    if (share_ring_[i] > 0 && first_clipped_s == start_s) first_clipped_s = start_ring_[i];
  }
  mean_pct /= slots;
  const bool clipping = mean_pct >= p_.min_share_pct;
  const bool was = run_.known && run_.active;
  // Onset: the first clipped window of the period that revealed it; end: just
  // after the last clipped window.
  const double since = run_.update(clipping, clipping ? first_clipped_s : last_clipped_end_s_);
  const double peak_dbfs = amplitude_to_db(peak);
  if (clipping) {
    run_peak_dbfs_ = was ? std::max(run_peak_dbfs_, peak_dbfs) : peak_dbfs;
    run_share_pct_ = was ? std::max(run_share_pct_, mean_pct) : mean_pct;
  }
  Observation o;
  o.type = "clipping";
  o.media_time_s = end_s;
  o.active = clipping;
  o.since_s = since;
  o.score = mean_pct;
  o.details = {{"peak_dbfs", round_to(clipping ? run_peak_dbfs_ : peak_dbfs, 2)},
               {"clipped_share_pct", round_to(clipping ? run_share_pct_ : mean_pct, 2)}};
  if (clipping) o.details["channels"] = clipped_channels;
  out.observe(std::move(o));
}

nlohmann::json ClippingDetector::summary() const { return nullptr; }

DetectorInfo describe_clipping() {
  DetectorInfo d;
  d.name = "clipping";
  d.summary = "sustained full-scale clipping (flat-topped runs at full scale, codec ripple tolerated)";
  d.media = kAudio;
  d.types = {"clipping"};
  d.options = {
      {"level_dbfs", OptionType::Double, -1.0, -20.0, 6.0, "dBFS",
       "samples at or above this magnitude can belong to a clipped plateau", {}},
      {"min_flatness", OptionType::Double, 3.0, 1.0, 100.0, "ratio",
       "a run above level_dbfs is a plateau when it lasts this many times longer than a smooth peak arriving with the same slope", {}},
      {"min_run_samples", OptionType::Int, std::int64_t{3}, 2.0, 1000.0, "samples",
       "shortest plateau counted", {}},
      {"min_share_pct", OptionType::Double, 0.5, 0.0, 100.0, "%",
       "clipping when this share of one channel's samples over assess_s lies on plateaus", {}},
      {"assess_s", OptionType::Double, 1.0, 0.1, 10.0, "s", "sliding period over which the clipped share is judged", {}},
      {"window_s", OptionType::Double, 0.1, 0.01, 2.0, "s", "analysis window", {}},
  };
  d.min_duration_s = 1.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    ClippingParams p;
    p.level_dbfs = o.get_double("level_dbfs");
    p.min_flatness = o.get_double("min_flatness");
    p.min_run_samples = static_cast<int>(o.get_int("min_run_samples"));
    p.min_share_pct = o.get_double("min_share_pct");
    p.assess_s = o.get_double("assess_s");
    p.window_s = o.get_double("window_s");
    return std::make_unique<ClippingDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(clipping, describe_clipping);

}  // namespace avmon::audio
