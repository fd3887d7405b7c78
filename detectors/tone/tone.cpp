#include "tone/tone.hpp"

#include <cstring>

#include "audio_common/sample_loops.hpp"

namespace avmon::audio {

void ToneDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  win_.reset(sample_rate, p_.window_s);
  channels_ = channels;
  names_ = std::move(names);
  buffer_.assign(static_cast<size_t>(channels), std::vector<float>(static_cast<size_t>(win_.size())));
  runs_.assign(static_cast<size_t>(channels), ChannelRun{});
  fill_ = 0;
  state_.reset();
}

void ToneDetector::configure(const StreamInfo& info) { setup(info.sample_rate, info.channels, info.channel_names); }

void ToneDetector::on_discontinuity(double /*media_time_s*/) { setup(win_.rate(), channels_, names_); }

void ToneDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.channels() != channels_ || b.sample_rate() != win_.rate())
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  if (win_.check_gap(b)) {
    setup(win_.rate(), channels_, names_);
    fill_ = 0;
  }
  win_.feed(
      b,
      [&](int begin, int end) {
        // The fit needs the whole window: copy it together (a window may span blocks).
        for (int c = 0; c < channels_; ++c)
          std::memcpy(buffer_[static_cast<size_t>(c)].data() + fill_, b.channel(c) + begin,
                      static_cast<size_t>(end - begin) * sizeof(float));
        fill_ += end - begin;
      },
      [&](double start_s, double end_s) {
        fill_ = 0;
        window_done(start_s, end_s, out);
      });
}

ToneDetector::WindowFit ToneDetector::analyse(const float* x, int n) const {
  WindowFit f;
  double sum = 0, sq = 0;
  sum_and_squares(x, n, sum, sq);
  const double mean = sum / n;
  f.level_dbfs = power_to_db(std::max(0.0, sq / n - mean * mean));
  if (f.level_dbfs < p_.min_level_dbfs - 3) return f;  // (-3: RMS of a sine is 3 dB below its peak)
  // Cheap test first: a steady tone crosses zero at the same rate in both
  // halves of the window, programme almost never does; only then the fit.
  const int half = n / 2;
  const double f1 = zero_crossing_frequency_hz(x, half, mean, win_.rate());
  const double f2 = zero_crossing_frequency_hz(x + half, n - half, mean, win_.rate());
  if (f1 <= 0 || f2 <= 0 || std::abs(f1 - f2) > 0.01 * std::max(f1, f2)) return f;
  f.frequency_hz = zero_crossing_frequency_hz(x, n, mean, win_.rate());
  if (f.frequency_hz < p_.min_frequency_hz || f.frequency_hz > p_.max_frequency_hz) return f;
  const SineFit fit = fit_sine(x, n, mean, f.frequency_hz, win_.rate());
  f.tone_dbfs = amplitude_to_db(fit.amplitude);
  f.residual_db = fit.residual_db;
  f.tonal = fit.residual_db <= p_.max_residual_db && f.tone_dbfs >= p_.min_level_dbfs;
  return f;
}

void ToneDetector::window_done(double start_s, double end_s, ObservationSink& out) {
  if (channels_ == 0) return;
  bool all_tone_or_quiet = true, any_tone = false;
  double onset_s = start_s, freq = 0, level = kFloorDb, residual = kFloorDb;
  nlohmann::json tone_channels = nlohmann::json::array();
  for (int c = 0; c < channels_; ++c) {
    const auto ci = static_cast<size_t>(c);
    const WindowFit f = analyse(buffer_[ci].data(), win_.size());
    ChannelRun& run = runs_[ci];
    if (f.tonal) {
      // A tone holds its frequency and level: a sung or played note drifts,
      // swells or decays, and a new note starts a new run.
      const bool same = run.in_run &&
                        std::abs(f.frequency_hz - run.frequency_hz) <= run.frequency_hz * p_.max_frequency_drift_pct / 100 &&
                        std::abs(f.tone_dbfs - run.tone_dbfs) <= p_.max_level_drift_db;
      if (!same) run = ChannelRun{true, start_s, f.frequency_hz, f.tone_dbfs};
    } else {
      run.in_run = false;
    }
    const bool steady = run.in_run && end_s - run.start_s >= p_.stable_s - 1e-9;
    if (steady) {
      any_tone = true;
      onset_s = std::max(onset_s == start_s ? run.start_s : onset_s, run.start_s);
      freq = run.frequency_hz;
      level = std::max(level, run.tone_dbfs);
      residual = std::max(residual, f.residual_db);
      tone_channels.push_back(channel_label(names_, c));
    } else if (f.level_dbfs >= p_.min_level_dbfs - 3) {
      all_tone_or_quiet = false;  // this channel carries something else: programme
    }
  }
  const bool active = any_tone && all_tone_or_quiet;
  const double since = state_.update(active, active ? onset_s : start_s);
  Observation o;
  o.type = "tone";
  o.media_time_s = end_s;
  o.active = active;
  o.since_s = since;
  o.score = active ? level : 0;
  if (active)
    o.details = {{"frequency_hz", round_to(freq, 1)},
                 {"level_dbfs", round_to(level, 1)},
                 {"residual_db", round_to(residual, 1)},
                 {"channels", tone_channels}};
  out.observe(std::move(o));
}

DetectorInfo describe_tone() {
  DetectorInfo d;
  d.name = "tone";
  d.summary = "steady line-up tone instead of programme: one pure spectral line, stable in frequency and level";
  d.media = kAudio;
  d.types = {"tone"};
  // A line-up tone is one incident: its level is not a loudness problem, its
  // interrupted left channel (EBU ident) is not a dead channel.
  d.suppresses = {"silence", "channel_silent", "loudness"};
  d.options = {
      {"max_residual_db", OptionType::Double, -30.0, -80.0, 0.0, "dB",
       "energy outside the fitted sinusoid, relative to the window's energy (purity)", {}},
      {"min_level_dbfs", OptionType::Double, -60.0, -120.0, 0.0, "dBFS", "quietest tone reported (peak level)", {}},
      {"max_frequency_drift_pct", OptionType::Double, 0.5, 0.0, 10.0, "%", "frequency stability", {}},
      {"max_level_drift_db", OptionType::Double, 1.0, 0.0, 20.0, "dB", "level stability", {}},
      {"min_frequency_hz", OptionType::Double, 20.0, 1.0, 24000.0, "Hz", "lowest tone frequency", {}},
      {"max_frequency_hz", OptionType::Double, 20000.0, 1.0, 96000.0, "Hz", "highest tone frequency", {}},
      {"stable_s", OptionType::Double, 0.5, 0.1, 60.0, "s",
       "a run must be this long before it is reported (then min_duration_s applies from its onset)", {}},
      {"window_s", OptionType::Double, 0.1, 0.02, 1.0, "s", "analysis window", {}},
  };
  d.min_duration_s = 1.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    ToneParams p;
    p.max_residual_db = o.get_double("max_residual_db");
    p.min_level_dbfs = o.get_double("min_level_dbfs");
    p.max_frequency_drift_pct = o.get_double("max_frequency_drift_pct");
    p.max_level_drift_db = o.get_double("max_level_drift_db");
    p.min_frequency_hz = o.get_double("min_frequency_hz");
    p.max_frequency_hz = o.get_double("max_frequency_hz");
    p.stable_s = o.get_double("stable_s");
    p.window_s = o.get_double("window_s");
    return std::make_unique<ToneDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(tone, describe_tone);

}  // namespace avmon::audio
