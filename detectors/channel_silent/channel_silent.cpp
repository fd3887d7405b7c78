#include "channel_silent/channel_silent.hpp"

#include <sstream>

#include "audio_common/sample_loops.hpp"

namespace avmon::audio {

ChannelSilentDetector::ChannelSilentDetector(ChannelSilentParams p) : p_(std::move(p)) {
  std::stringstream ss(p_.ignore_channels);
  for (std::string item; std::getline(ss, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) ignored_.push_back(item);
  }
}

void ChannelSilentDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  win_.reset(sample_rate, p_.window_s);
  channels_ = channels;
  names_ = std::move(names);
  ignore_.assign(static_cast<size_t>(channels), 0);
  for (int c = 0; c < channels; ++c)
    for (const auto& n : ignored_)
      if (n == channel_label(names_, c)) ignore_[static_cast<size_t>(c)] = 1;
  sum_sq_.assign(static_cast<size_t>(channels), 0.0);
  history_slots_ = std::max(1, static_cast<int>(std::lround(p_.reference_s / win_.window_s())));
  history_.assign(static_cast<size_t>(history_slots_ * channels), 0.0);
  history_filled_ = history_pos_ = 0;
  runs_.assign(static_cast<size_t>(channels), RunState{});
  ref_db_.assign(static_cast<size_t>(channels), kFloorDb);
}

void ChannelSilentDetector::configure(const StreamInfo& info) {
  setup(info.sample_rate, info.channels, info.channel_names);
}

void ChannelSilentDetector::on_discontinuity(double /*media_time_s*/) {
  setup(win_.rate(), channels_, names_);
}

void ChannelSilentDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.channels() != channels_ || b.sample_rate() != win_.rate())
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  if (win_.check_gap(b)) setup(win_.rate(), channels_, names_);
  win_.feed(
      b,
      [&](int begin, int end) {
        for (int c = 0; c < channels_; ++c)
          sum_sq_[static_cast<size_t>(c)] += sum_squares(b.channel(c) + begin, end - begin);
      },
      [&](double start_s, double end_s) { window_done(start_s, end_s, out); });
}

void ChannelSilentDetector::window_done(double start_s, double end_s, ObservationSink& out) {
  const auto n = static_cast<size_t>(channels_);
  double* slot = &history_[static_cast<size_t>(history_pos_) * n];
  for (size_t c = 0; c < n; ++c) {
    slot[c] = sum_sq_[c] / win_.size();
    sum_sq_[c] = 0;
  }
  history_pos_ = (history_pos_ + 1) % history_slots_;
  history_filled_ = std::min(history_filled_ + 1, history_slots_);
  if (channels_ < 2) return;  // nothing to compare a mono channel with

  // Each channel's level over the reference period: a playing channel's
  // natural pauses do not make the comparison flicker.
  std::vector<double>& ref_db = ref_db_;
  for (size_t c = 0; c < n; ++c) {
    double sum = 0;
    for (int s = 0; s < history_filled_; ++s) sum += history_[static_cast<size_t>(s) * n + c];
    ref_db[c] = power_to_db(sum / history_filled_);
  }
  for (size_t c = 0; c < n; ++c) {
    if (ignore_[c]) continue;
    const double level_dbfs = power_to_db(slot[c]);
    // The loudest other channel over the reference period, and whether one of
    // the others is playing right now (not in a pause of its own).
    double others_dbfs = kFloorDb;
    bool other_playing_now = false;
    for (size_t d = 0; d < n; ++d) {
      if (d == c || ignore_[d]) continue;
      others_dbfs = std::max(others_dbfs, ref_db[d]);
      if (ref_db[d] >= p_.others_min_dbfs && ref_db[d] - level_dbfs >= p_.relative_db &&
          power_to_db(slot[d]) >= p_.floor_dbfs)
        other_playing_now = true;
    }
    bool active;
    if (level_dbfs >= p_.floor_dbfs) {
      active = false;
    } else if (other_playing_now) {
      active = true;
    } else if (others_dbfs < p_.floor_dbfs) {
      active = false;  // programme silence: the silence detector's business
    } else {
      continue;  // the others are in a quiet passage or a pause: no evidence either way
    }
    RunState& run = runs_[c];
    const double since = run.update(active, start_s);
    Observation o;
    o.type = "channel_silent";
    o.media_time_s = end_s;
    o.active = active;
    o.since_s = since;
    o.channel = static_cast<int>(c);
    o.score = level_dbfs;
    o.details = {{"channel_name", channel_label(names_, static_cast<int>(c))},
                 {"rms_dbfs", round_to(level_dbfs, 1)},
                 {"others_rms_dbfs", round_to(others_dbfs, 1)}};
    out.observe(std::move(o));
  }
}

DetectorInfo describe_channel_silent() {
  DetectorInfo d;
  d.name = "channel_silent";
  d.summary = "one or more audio channels dead while the others play";
  d.media = kAudio;
  d.types = {"channel_silent"};
  d.options = {
      {"floor_dbfs", OptionType::Double, -60.0, -120.0, 0.0, "dBFS", "a channel below this RMS is dead", {}},
      {"others_min_dbfs", OptionType::Double, -50.0, -120.0, 0.0, "dBFS",
       "another channel must play at least this loud (RMS over reference_s)", {}},
      {"relative_db", OptionType::Double, 20.0, 0.0, 120.0, "dB",
       "the playing channel must be at least this much louder than the dead one", {}},
      {"reference_s", OptionType::Double, 1.0, 0.1, 10.0, "s", "period over which the playing channels' level is measured", {}},
      {"window_s", OptionType::Double, 0.1, 0.01, 2.0, "s", "RMS analysis window", {}},
      {"ignore_channels", OptionType::String, std::string("LFE"), {}, {}, "",
       "comma-separated channel names never reported nor used as reference (LFE is often legitimately silent)", {}},
  };
  d.min_duration_s = 2.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    ChannelSilentParams p;
    p.floor_dbfs = o.get_double("floor_dbfs");
    p.others_min_dbfs = o.get_double("others_min_dbfs");
    p.relative_db = o.get_double("relative_db");
    p.reference_s = o.get_double("reference_s");
    p.window_s = o.get_double("window_s");
    p.ignore_channels = o.get_string("ignore_channels");
    return std::make_unique<ChannelSilentDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(channel_silent, describe_channel_silent);

}  // namespace avmon::audio
