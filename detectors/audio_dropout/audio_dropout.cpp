#include "audio_dropout/audio_dropout.hpp"

#include <algorithm>
#include <cmath>

#include "audio_common/audio_common.hpp"

namespace avmon::audio {

namespace {
// Finds on different channels within this of each other are one dropout (a
// coded stereo pair does not mute both channels on the same sample).
constexpr double kMergeS = 0.005;
}  // namespace

void AudioDropoutDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  rate_ = sample_rate > 0 ? sample_rate : 48000;
  channels_ = channels;
  names_ = std::move(names);
  scans_.assign(static_cast<size_t>(std::max(0, channels)), ChannelScan{});
  for (auto& s : scans_) s.reset(p_, rate_);
  pending_.clear();
  expected_next_s_ = -1;
}

void AudioDropoutDetector::configure(const StreamInfo& info) {
  setup(info.sample_rate, info.channels, info.channel_names);
}

void AudioDropoutDetector::on_discontinuity(double /*media_time_s*/) {
  // A gap in the input is signal loss, not a dropout inside programme: what
  // was undecided is forgotten with the history.
  setup(rate_, channels_, names_);
}

double AudioDropoutDetector::time_of(std::int64_t sample) const {
  return origin_s_ + static_cast<double>(sample) / rate_;
}

void AudioDropoutDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.channels() != channels_ || b.sample_rate() != rate_) {
    flush(out, true);
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  }
  if (channels_ == 0 || b.samples() <= 0) return;
  // Timestamps jumped: the scans start again (a partial picture of the
  // programme around a jump proves nothing).
  if (expected_next_s_ >= 0 && std::abs(b.media_time_s() - expected_next_s_) > 0.1) {
    flush(out, true);
    setup(rate_, channels_, names_);
  }
  // Sample times follow each block's timestamp, so jitter does not accumulate.
  origin_s_ = b.media_time_s() - static_cast<double>(scans_[0].position()) / rate_;
  expected_next_s_ = b.media_time_s() + static_cast<double>(b.samples()) / rate_;
  now_s_ = expected_next_s_;
  audio_s_ += static_cast<double>(b.samples()) / rate_;
  for (int c = 0; c < channels_; ++c) {
    found_.clear();
    scans_[static_cast<size_t>(c)].feed(b.channel(c), b.samples(), found_);
    collect(c, found_);
  }
  flush(out, false);
}

void AudioDropoutDetector::collect(int channel, const std::vector<ChannelDropout>& found) {
  for (const auto& f : found) {
    Dropout d;
    d.start_s = time_of(f.start);
    d.end_s = time_of(f.end);
    d.mute = f.kind == ChannelDropout::Kind::Mute;
    d.channels = {channel};
    d.edge_dbfs = f.edge_dbfs;
    d.level_dbfs = f.level_dbfs;
    d.ratio = f.ratio;
    // Merge with every pending dropout it touches (a mute's edges are often
    // also jumps; the channels of one dropout are decided separately).
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->start_s <= d.end_s + kMergeS && d.start_s <= it->end_s + kMergeS) {
        if (it->mute == d.mute) {
          d.start_s = std::min(d.start_s, it->start_s);
          d.end_s = std::max(d.end_s, it->end_s);
        } else if (it->mute) {  // a mute's span is its own, not its edges' jumps
          d.start_s = it->start_s;
          d.end_s = it->end_s;
        }
        d.edge_dbfs = d.mute && it->mute ? std::min(d.edge_dbfs, it->edge_dbfs) : (it->mute ? it->edge_dbfs : d.edge_dbfs);
        d.level_dbfs = d.mute == it->mute ? std::max(d.level_dbfs, it->level_dbfs) : (it->mute ? it->level_dbfs : d.level_dbfs);
        d.ratio = std::max(d.ratio, it->ratio);
        d.mute = d.mute || it->mute;
        for (int ch : it->channels)
          if (std::find(d.channels.begin(), d.channels.end(), ch) == d.channels.end()) d.channels.push_back(ch);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(d.channels.begin(), d.channels.end());
    auto pos = std::lower_bound(pending_.begin(), pending_.end(), d.start_s,
                                [](const Dropout& a, double s) { return a.start_s < s; });
    pending_.insert(pos, std::move(d));
  }
}

void AudioDropoutDetector::flush(ObservationSink& out, bool all) {
  double frontier_s = now_s_;
  if (!all)
    for (const auto& s : scans_) frontier_s = std::min(frontier_s, time_of(s.undecided_from()));
  while (!pending_.empty() && (all || pending_.front().end_s + kMergeS < frontier_s)) {
    report(pending_.front(), out);
    pending_.erase(pending_.begin());
  }
}

void AudioDropoutDetector::report(const Dropout& d, ObservationSink& out) {
  ++count_;
  if (d.mute) ++mutes_;
  nlohmann::json channels = nlohmann::json::array();
  for (int c : d.channels) channels.push_back(channel_label(names_, c));
  Observation o;
  o.type = "audio_dropout";
  o.media_time_s = std::max(now_s_, d.end_s);
  o.active = true;
  o.since_s = d.start_s;
  o.details = {{"kind", d.mute ? "mute" : "discontinuity"},
               {"length_ms", round_to((d.end_s - d.start_s) * 1000.0, 1)},
               {"channels", channels}};
  if (d.mute) {
    o.details["programme_dbfs"] = round_to(d.edge_dbfs, 1);
    o.details["mute_dbfs"] = round_to(d.level_dbfs, 1);
    o.score = d.end_s - d.start_s;
  } else {
    o.details["jump_dbfs"] = round_to(d.level_dbfs, 1);
    o.details["jump_ratio"] = round_to(d.ratio, 1);
    o.score = d.ratio;
  }
  out.observe(o);
  Observation end;
  end.type = "audio_dropout";
  end.media_time_s = o.media_time_s;
  end.active = false;
  end.since_s = d.end_s;
  out.observe(std::move(end));
}

void AudioDropoutDetector::finish(double /*end_media_time_s*/, ObservationSink& out) {
  for (size_t c = 0; c < scans_.size(); ++c) {
    found_.clear();
    scans_[c].finish(found_);
    collect(static_cast<int>(c), found_);
  }
  flush(out, true);
}

nlohmann::json AudioDropoutDetector::summary() const {
  const double minutes = audio_s_ / 60.0;
  return {{"audio_dropout",
           {{"count", count_},
            {"mutes", mutes_},
            {"discontinuities", count_ - mutes_},
            {"audio_s", round_to(audio_s_, 3)},
            {"per_minute", minutes > 0 ? round_to(static_cast<double>(count_) / minutes, 3) : 0.0}}}};
}

DetectorInfo describe_audio_dropout() {
  DetectorInfo d;
  d.name = "audio_dropout";
  d.summary = "short mutes (about 10 ms up to silence's minimum) and sample discontinuities inside programme audio";
  d.media = kAudio;
  d.types = {"audio_dropout"};
  d.options = {
      {"mute_dbfs", OptionType::Double, -70.0, -150.0, -20.0, "dBFS",
       "a 1 ms block of one channel below this RMS is muted (digital zero reads -200)", {}},
      {"min_mute_ms", OptionType::Double, 8.0, 2.0, 1000.0, "ms", "shortest mute reported", {}},
      {"max_mute_s", OptionType::Double, 2.0, 0.01, 60.0, "s",
       "longest mute reported; longer gaps are the silence detector's (keep equal to silence.min_duration_s)", {}},
      {"min_programme_dbfs", OptionType::Double, -65.0, -120.0, 0.0, "dBFS",
       "the 3 ms either side of a mute must be at least this loud (RMS)", {}},
      {"edge_tolerance_db", OptionType::Double, 12.0, 0.0, 60.0, "dB",
       "...and no more than this below the 50 ms of programme before / after it (a pause or a release decays)", {}},
      {"click_ratio", OptionType::Double, 5.0, 1.0, 1000.0, "ratio",
       "a discontinuity's linear-prediction error exceeds this many times the largest one within 10 ms before and 3 ms after", {}},
      {"click_min_dbfs", OptionType::Double, -40.0, -120.0, 6.0, "dBFS",
       "smallest second difference a discontinuity can have", {}},
  };
  // The detector times each dropout itself (min_mute_ms); the engine must
  // neither hold a 10 ms dropout back nor merge two that follow closely.
  d.min_duration_s = 0.0;
  d.hold_off_s = 0.0;
  d.severity = "minor";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    DropoutParams p;
    p.mute_dbfs = o.get_double("mute_dbfs");
    p.min_mute_ms = o.get_double("min_mute_ms");
    p.max_mute_s = o.get_double("max_mute_s");
    p.min_programme_dbfs = o.get_double("min_programme_dbfs");
    p.edge_tolerance_db = o.get_double("edge_tolerance_db");
    p.click_ratio = o.get_double("click_ratio");
    p.click_min_dbfs = o.get_double("click_min_dbfs");
    return std::make_unique<AudioDropoutDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(audio_dropout, describe_audio_dropout);

}  // namespace avmon::audio
