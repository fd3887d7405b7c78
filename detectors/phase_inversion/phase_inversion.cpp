#include "phase_inversion/phase_inversion.hpp"

#include <algorithm>

#include "audio_common/sample_loops.hpp"

namespace avmon::audio {

std::vector<std::pair<int, int>> PhaseInversionDetector::pairs_for(const std::vector<std::string>& names) {
  static const std::pair<const char*, const char*> kPairs[] = {{"FL", "FR"}, {"SL", "SR"}, {"BL", "BR"}, {"FLC", "FRC"}};
  std::vector<std::pair<int, int>> out;
  auto find = [&](const char* n) {
    auto it = std::find(names.begin(), names.end(), n);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  };
  for (const auto& [l, r] : kPairs) {
    const int li = find(l), ri = find(r);
    if (li >= 0 && ri >= 0) out.emplace_back(li, ri);
  }
  if (out.empty() && names.size() >= 2) out.emplace_back(0, 1);
  return out;
}

void PhaseInversionDetector::setup(int sample_rate, int channels, std::vector<std::string> names) {
  win_.reset(sample_rate, p_.window_s);
  channels_ = channels;
  names_ = std::move(names);
  names_.resize(static_cast<size_t>(channels));
  for (int c = 0; c < channels; ++c) names_[static_cast<size_t>(c)] = channel_label(names_, c);
  ring_size_ = std::max(1, static_cast<int>(std::lround(p_.assess_s / win_.window_s())));
  ring_pos_ = ring_filled_ = 0;
  pairs_.clear();
  for (auto [l, r] : pairs_for(names_)) {
    Pair p;
    p.left = l;
    p.right = r;
    p.ring.assign(static_cast<size_t>(ring_size_), Sums{});
    p.ring_start_s.assign(static_cast<size_t>(ring_size_), 0.0);
    p.ring_inverted.assign(static_cast<size_t>(ring_size_), 0);
    pairs_.push_back(std::move(p));
  }
}

void PhaseInversionDetector::configure(const StreamInfo& info) {
  setup(info.sample_rate, info.channels, info.channel_names);
}

void PhaseInversionDetector::on_discontinuity(double /*media_time_s*/) { setup(win_.rate(), channels_, names_); }

void PhaseInversionDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.channels() != channels_ || b.sample_rate() != win_.rate())
    setup(b.sample_rate(), b.channels(), channel_labels(b));
  if (win_.check_gap(b)) setup(win_.rate(), channels_, names_);
  win_.feed(
      b,
      [&](int begin, int end) {
        for (auto& p : pairs_) {
          const PairSums s = pair_sums(b.channel(p.left) + begin, b.channel(p.right) + begin, end - begin);
          p.window.ll += s.ll;
          p.window.rr += s.rr;
          p.window.lr += s.lr;
        }
      },
      [&](double start_s, double end_s) { window_done(start_s, end_s, out); });
}

bool PhaseInversionDetector::inverted(const Sums& s, int n, double* corr, double* loss_db,
                                      double* min_level_dbfs) const {
  const double denom = std::sqrt(s.ll * s.rr);
  *corr = denom > 0 ? s.lr / denom : 0;
  // Energy of the mono downmix L+R against the energy of L and R: 0 dB for
  // uncorrelated channels, +3 dB for mono, -inf for an exact inversion.
  const double sum = s.ll + s.rr;
  *loss_db = sum > 0 ? -power_to_db(std::max(1e-20, (sum + 2 * s.lr) / sum)) : 0;
  *min_level_dbfs = power_to_db(std::min(s.ll, s.rr) / std::max(1, n));
  return *min_level_dbfs >= p_.min_level_dbfs && *corr <= p_.max_correlation && *loss_db >= p_.min_downmix_loss_db;
}

void PhaseInversionDetector::window_done(double start_s, double end_s, ObservationSink& out) {
  const int slot = ring_pos_;
  ring_pos_ = (ring_pos_ + 1) % ring_size_;
  ring_filled_ = std::min(ring_filled_ + 1, ring_size_);
  for (auto& p : pairs_) {
    const auto si = static_cast<size_t>(slot);
    double corr, loss_db, level;
    p.ring[si] = p.window;
    p.ring_start_s[si] = start_s;
    // A window of its own counts as inverted at a lower level floor: a short
    // pause in one channel must not hide where the inversion began.
    p.ring_inverted[si] = inverted(p.window, win_.size(), &corr, &loss_db, &level) ? 1 : 0;
    p.window = Sums{};

    Sums total;
    for (int k = 0; k < ring_filled_; ++k) {
      const auto& s = p.ring[static_cast<size_t>(k)];
      total.ll += s.ll;
      total.rr += s.rr;
      total.lr += s.lr;
    }
    const bool active = inverted(total, win_.size() * ring_filled_, &corr, &loss_db, &level);
    // Onset: the first window of the trailing run of inverted windows; end:
    // the first window that is not.
    double edge_s = start_s;
    if (active) {
      for (int k = 1; k <= ring_filled_; ++k) {
        const auto i = static_cast<size_t>((slot - k + 1 + ring_size_) % ring_size_);
        if (!p.ring_inverted[i]) break;
        edge_s = p.ring_start_s[i];
      }
    } else {
      for (int k = ring_filled_; k >= 1; --k) {  // oldest first
        const auto i = static_cast<size_t>((slot - k + 1 + ring_size_) % ring_size_);
        if (!p.ring_inverted[i]) {
          edge_s = p.ring_start_s[i];
          break;
        }
      }
    }
    const bool was = p.run.known && p.run.active;
    const double since = p.run.update(active, edge_s);
    if (active) {
      p.run_corr = was ? std::min(p.run_corr, corr) : corr;
      p.run_loss_db = was ? std::max(p.run_loss_db, loss_db) : loss_db;
    }
    Observation o;
    o.type = "phase_inversion";
    o.media_time_s = end_s;
    o.active = active;
    o.since_s = since;
    o.channel = p.left;
    o.score = corr;
    o.details = {{"pair", {names_[static_cast<size_t>(p.left)], names_[static_cast<size_t>(p.right)]}},
                 {"channel_name", names_[static_cast<size_t>(p.left)] + "/" + names_[static_cast<size_t>(p.right)]},
                 {"correlation", round_to(active ? p.run_corr : corr, 3)},
                 {"downmix_loss_db", round_to(std::min(active ? p.run_loss_db : loss_db, 99.0), 1)}};
    out.observe(std::move(o));
  }
}

DetectorInfo describe_phase_inversion() {
  DetectorInfo d;
  d.name = "phase_inversion";
  d.summary = "channel pair in anti-phase: strongly negative correlation, mono downmix cancels";
  d.media = kAudio;
  d.types = {"phase_inversion"};
  d.options = {
      {"max_correlation", OptionType::Double, -0.5, -1.0, 0.0, "",
       "inverted when the pair's correlation over assess_s is at or below this", {}},
      {"min_downmix_loss_db", OptionType::Double, 3.0, 0.0, 60.0, "dB",
       "...and the mono downmix (L+R) is at least this much weaker than L and R together", {}},
      {"min_level_dbfs", OptionType::Double, -50.0, -120.0, 0.0, "dBFS",
       "both channels at least this loud (RMS): correlation of near-silence means nothing", {}},
      {"assess_s", OptionType::Double, 1.0, 0.1, 10.0, "s", "correlation period", {}},
      {"window_s", OptionType::Double, 0.1, 0.01, 2.0, "s", "analysis step", {}},
  };
  d.min_duration_s = 2.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    PhaseInversionParams p;
    p.max_correlation = o.get_double("max_correlation");
    p.min_downmix_loss_db = o.get_double("min_downmix_loss_db");
    p.min_level_dbfs = o.get_double("min_level_dbfs");
    p.assess_s = o.get_double("assess_s");
    p.window_s = o.get_double("window_s");
    return std::make_unique<PhaseInversionDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(phase_inversion, describe_phase_inversion);

}  // namespace avmon::audio
