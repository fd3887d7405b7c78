#include "silence/silence.hpp"

#include <cmath>

#include "audio_common/sample_loops.hpp"

namespace avmon::audio {

void SilenceDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  win_.reset(sample_rate, p_.window_s);
  channels_ = channels;
  names_ = std::move(names);
  sum_sq_.assign(static_cast<size_t>(channels), 0.0);
  peak_.assign(static_cast<size_t>(channels), 0.0);
  rms_dbfs_.assign(static_cast<size_t>(channels), kFloorDb);
  peak_dbfs_.assign(static_cast<size_t>(channels), kFloorDb);
  sub_sum_sq_.assign(static_cast<size_t>(channels), 0.0);
  pos_in_window_ = 0;
  std::fill(std::begin(sub_power_), std::end(sub_power_), 0.0);
  std::fill(std::begin(prev_sub_power_), std::end(prev_sub_power_), 0.0);
  run_.reset();
}

void SilenceDetector::configure(const StreamInfo& info) {
  setup(info.sample_rate, info.channels, info.channel_names);
}

void SilenceDetector::on_discontinuity(double /*media_time_s*/) {
  // A gap is not silence: start measuring afresh on the next block.
  setup(win_.rate(), channels_, names_);
}

void SilenceDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.channels() != channels_ || b.sample_rate() != win_.rate())
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  if (win_.check_gap(b)) {
    std::fill(sum_sq_.begin(), sum_sq_.end(), 0.0);
    std::fill(peak_.begin(), peak_.end(), 0.0);
    std::fill(sub_sum_sq_.begin(), sub_sum_sq_.end(), 0.0);
    pos_in_window_ = 0;
  }
  const int sub_size = std::max(1, win_.size() / kSubBlocks);
  win_.feed(
      b,
      [&](int begin, int end) {
        // Split at sub-block boundaries (the last sub-block takes the remainder).
        for (int from = begin; from < end;) {
          const int sub = std::min(kSubBlocks - 1, pos_in_window_ / sub_size);
          const int sub_end_pos = sub == kSubBlocks - 1 ? win_.size() : (sub + 1) * sub_size;
          const int to = std::min(end, from + (sub_end_pos - pos_in_window_));
          double loudest = 0;
          for (int c = 0; c < channels_; ++c) {
            float pk = 0;
            const double sq = sum_squares_peak(b.channel(c) + from, to - from, pk);
            const auto ci = static_cast<size_t>(c);
            sum_sq_[ci] += sq;
            sub_sum_sq_[ci] += sq;
            peak_[ci] = std::max(peak_[ci], static_cast<double>(pk));
            loudest = std::max(loudest, sub_sum_sq_[ci]);
          }
          pos_in_window_ += to - from;
          from = to;
          if (pos_in_window_ == sub_end_pos) {
            const int len = sub_end_pos - sub * sub_size;
            sub_power_[sub] = loudest / len;
            std::fill(sub_sum_sq_.begin(), sub_sum_sq_.end(), 0.0);
          }
        }
      },
      [&](double start_s, double end_s) { window_done(start_s, end_s, out); });
}

void SilenceDetector::window_done(double start_s, double end_s, ObservationSink& out) {
  double loudest_dbfs = kFloorDb;
  for (size_t c = 0; c < sum_sq_.size(); ++c) {
    rms_dbfs_[c] = power_to_db(sum_sq_[c] / win_.size());
    peak_dbfs_[c] = amplitude_to_db(peak_[c]);
    loudest_dbfs = std::max(loudest_dbfs, rms_dbfs_[c]);
    sum_sq_[c] = 0;
    peak_[c] = 0;
  }
  if (channels_ == 0) return;
  const bool silent = loudest_dbfs < p_.threshold_dbfs;
  const bool was_active = run_.known && run_.active;
  // Where the change really happened, to 10 ms: silence began after the last
  // loud sub-block of the previous window; sound came back at the first loud
  // sub-block of this one.
  const double threshold_power = db_to_power(p_.threshold_dbfs);
  const double sub_s = win_.window_s() / kSubBlocks;
  double edge_s = start_s;
  if (run_.known && silent != was_active) {
    if (silent) {
      for (int k = kSubBlocks - 1; k >= 0 && prev_sub_power_[k] < threshold_power; --k)
        edge_s = prev_start_s_ + k * sub_s;
    } else {
      for (int k = 0; k < kSubBlocks && sub_power_[k] < threshold_power; ++k) edge_s = start_s + (k + 1) * sub_s;
    }
  }
  const double since = run_.update(silent, edge_s);
  std::copy(std::begin(sub_power_), std::end(sub_power_), std::begin(prev_sub_power_));
  prev_start_s_ = start_s;
  pos_in_window_ = 0;
  if (silent) quietest_run_dbfs_ = (was_active ? std::max(quietest_run_dbfs_, loudest_dbfs) : loudest_dbfs);

  Observation o;
  o.type = "silence";
  o.media_time_s = end_s;
  o.active = silent;
  o.since_s = since;
  o.score = loudest_dbfs;
  o.details = {{"rms_dbfs", round_to(silent ? quietest_run_dbfs_ : loudest_dbfs, 1)},
               {"threshold_dbfs", p_.threshold_dbfs}};
  out.observe(std::move(o));
}

nlohmann::json SilenceDetector::levels() const {
  nlohmann::json ch = nlohmann::json::array();
  for (int c = 0; c < channels_; ++c)
    ch.push_back({{"name", channel_label(names_, c)},
                  {"rms_dbfs", round_to(rms_dbfs_[static_cast<size_t>(c)], 1)},
                  {"peak_dbfs", round_to(peak_dbfs_[static_cast<size_t>(c)], 1)}});
  return {{"audio_levels", {{"window_s", win_.window_s()}, {"channels", ch}}}};
}

DetectorInfo describe_silence() {
  DetectorInfo d;
  d.name = "silence";
  d.summary = "programme silence: every audio channel below a level threshold";
  d.media = kAudio;
  d.types = {"silence"};
  // One incident, one alarm: a silent programme also has silent channels and
  // an out-of-range loudness.
  d.suppresses = {"channel_silent", "loudness"};
  d.options = {
      {"threshold_dbfs", OptionType::Double, -60.0, -120.0, 0.0, "dBFS",
       "a window is silent when every channel's RMS is below this (full-scale sine = -3 dBFS)", {}},
      {"window_s", OptionType::Double, 0.1, 0.01, 2.0, "s", "RMS analysis window", {}},
  };
  d.min_duration_s = 2.0;
  d.hold_off_s = 1.0;
  d.severity = "critical";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    SilenceParams p;
    p.threshold_dbfs = o.get_double("threshold_dbfs");
    p.window_s = o.get_double("window_s");
    return std::make_unique<SilenceDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(silence, describe_silence);

}  // namespace avmon::audio
