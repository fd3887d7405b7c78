#include "reports/loudness_segments.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <ebur128.h>

#include "util/ebur128_channels.hpp"
#include "util/time.hpp"

namespace avmon::reports {

namespace {

constexpr double kStepS = 0.1;
constexpr int kMomentarySteps = 4, kShortTermSteps = 30;
constexpr double kAbsoluteGateLufs = -70.0;

double to_lufs(double energy) { return energy > 0 ? -0.691 + 10 * std::log10(energy) : -HUGE_VAL; }
double to_energy(double lufs) { return std::isfinite(lufs) ? std::pow(10.0, (lufs + 0.691) / 10) : 0.0; }

double round2(double v) { return std::round(v * 100) / 100; }

nlohmann::json lufs_json(double v) {
  if (!std::isfinite(v) || v < kAbsoluteGateLufs) return nullptr;
  return round2(v);
}

std::string wall_text(double wall_s) {
  return rfc3339_utc(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(wall_s))));
}

// BS.1770-4 integrated loudness of 400 ms block energies: absolute gate
// -70 LUFS, then relative gate 10 LU below the mean of what passed it.
double gated_loudness(const std::vector<float>& blocks) {
  const double abs_energy = to_energy(kAbsoluteGateLufs);
  double sum = 0;
  size_t n = 0;
  for (float e : blocks)
    if (e > abs_energy) sum += e, ++n;
  if (n == 0) return -HUGE_VAL;
  const double rel_energy = to_energy(to_lufs(sum / static_cast<double>(n)) - 10.0);
  sum = 0;
  n = 0;
  for (float e : blocks)
    if (e > abs_energy && e > rel_energy) sum += e, ++n;
  return n ? to_lufs(sum / static_cast<double>(n)) : -HUGE_VAL;
}

// EBU Tech 3342 loudness range of short-term loudness values: absolute gate
// -70 LUFS, relative gate 20 LU below their mean energy, then the spread
// between the 10th and the 95th percentile.
double loudness_range(std::vector<float> st_lufs) {
  std::vector<float> kept;
  double sum = 0;
  for (float l : st_lufs)
    if (l > kAbsoluteGateLufs) kept.push_back(l), sum += to_energy(l);
  if (kept.empty()) return 0;
  const double rel = to_lufs(sum / static_cast<double>(kept.size())) - 20.0;
  std::erase_if(kept, [&](float l) { return l <= rel; });
  if (kept.size() < 2) return 0;
  std::sort(kept.begin(), kept.end());
  auto at = [&](double q) { return static_cast<double>(kept[static_cast<size_t>(std::lround(q * static_cast<double>(kept.size() - 1)))]); };
  return at(0.95) - at(0.10);
}

}  // namespace

struct LoudnessSegmenter::Segment {
  double start_s = 0, end_s = 0;
  std::optional<double> start_wall_s, end_wall_s;
  int steps = 0;
  std::vector<float> blocks;       // 400 ms block energies inside the segment
  std::vector<float> short_term;   // 3 s window loudness (LUFS) inside the segment, every 100 ms
  double max_momentary = -HUGE_VAL, max_short_term = -HUGE_VAL;
  double second_momentary = -HUGE_VAL;  // highest momentary in the second in progress
  nlohmann::json series_st = nlohmann::json::array(), series_m = nlohmann::json::array();
  double series_start_s = 0;            // start of the first second of the series
  std::map<int, int> dialnorm_steps;    // 100 ms steps of audio declaring each dialnorm (dB)
  std::string start_reason;
  std::optional<std::uint32_t> splice_event_id;
  bool in_break = false;
};

LoudnessSegmenter::LoudnessSegmenter(SegmenterOptions o) : o_(std::move(o)) {
  if (!(o_.segment_s >= kStepS)) throw std::invalid_argument("reports: segment_s must be at least 0.1 s");
}

LoudnessSegmenter::~LoudnessSegmenter() {
  if (st_) {
    auto* st = static_cast<ebur128_state*>(st_);
    ebur128_destroy(&st);
  }
}

void LoudnessSegmenter::setup(const AudioBlock& b) {
  const int rate = b.sample_rate(), channels = b.channels();
  if (st_) {
    auto* st = static_cast<ebur128_state*>(st_);
    ebur128_destroy(&st);
    st_ = nullptr;
  }
  // Momentary mode keeps 400 ms of K-weighted audio, enough for the 100 ms
  // step energies everything here is made of.
  ebur128_state* st = ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(rate),
                                   EBUR128_MODE_M | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_HISTOGRAM);
  if (!st) throw std::runtime_error("reports: ebur128_init failed");
  for (int c = 0; c < channels; ++c)
    ebur128_set_channel(st, static_cast<unsigned>(c), ebur128_channel_for(b.channel_name(c)));
  st_ = st;
  rate_ = rate;
  channels_ = channels;
  ring_.assign(kShortTermSteps, 0.0);
  ring_pos_ = 0;
  fresh_steps_ = 0;
  have_clock_ = false;
}

void LoudnessSegmenter::discontinuity() { fresh_steps_ = 0; }

double LoudnessSegmenter::window_energy(int steps) const {
  double sum = 0;
  const int n = static_cast<int>(ring_.size());
  for (int k = 1; k <= steps; ++k) sum += ring_[static_cast<size_t>((ring_pos_ - k + n) % n)];
  return sum / steps;
}

std::vector<nlohmann::json> LoudnessSegmenter::feed(const AudioBlock& b, double wall_s) {
  std::vector<nlohmann::json> out;
  if (b.sample_rate() <= 0 || b.channels() <= 0 || b.samples() <= 0) return out;
  if (!st_ || b.sample_rate() != rate_ || b.channels() != channels_) setup(b);
  last_wall_s_ = wall_s;
  const double t0 = b.media_time_s();
  const double expected_s = anchor_s_ + static_cast<double>(samples_) / rate_;
  if (!have_clock_ || std::abs(t0 - expected_s) > 0.05) {
    // First block, or a jump: the clock restarts here and no window spans the jump.
    if (have_clock_) fresh_steps_ = 0;
    have_clock_ = true;
    anchor_s_ = t0;
    samples_ = 0;
    next_step_ = static_cast<long long>(std::floor(t0 / kStepS + 1e-6)) + 1;
  }
  auto* st = static_cast<ebur128_state*>(st_);
  const size_t need = static_cast<size_t>(b.samples()) * static_cast<size_t>(channels_);
  if (interleaved_.size() < need) interleaved_.resize(need);
  int i = 0;
  while (i < b.samples()) {
    const long long step_end_sample =
        std::llround((static_cast<double>(next_step_) * kStepS - anchor_s_) * rate_);
    const int k = static_cast<int>(std::clamp<long long>(step_end_sample - samples_, 1, b.samples() - i));
    for (int c = 0; c < channels_; ++c) {
      const float* x = b.channel(c) + i;
      float* dst = interleaved_.data() + c;
      for (int j = 0; j < k; ++j, dst += channels_) *dst = x[j];
    }
    ebur128_add_frames_float(st, interleaved_.data(), static_cast<size_t>(k));
    // The true peak of what was just added (the step never spans two segments).
    for (int c = 0; c < channels_; ++c) {
      double tp = 0;
      if (ebur128_prev_true_peak(st, static_cast<unsigned>(c), &tp) == EBUR128_SUCCESS) true_peak_ = std::max(true_peak_, tp);
    }
    samples_ += k;
    i += k;
    if (samples_ >= step_end_sample) {
      step_done(static_cast<double>(next_step_) * kStepS, wall_s, out);
      ++next_step_;
    }
  }
  return out;
}

void LoudnessSegmenter::step_done(double end_s, double wall_s, std::vector<nlohmann::json>& out) {
  auto* st = static_cast<ebur128_state*>(st_);
  if (!seg_) {
    seg_ = std::make_unique<Segment>();
    seg_->start_s = end_s - kStepS;
    seg_->series_start_s = seg_->start_s;
    seg_index_ = o_.wall_aligned ? static_cast<long long>(std::floor(wall_s / o_.segment_s))
                                 : static_cast<long long>(std::floor((end_s - kStepS / 2) / o_.segment_s));
    if (o_.wall_aligned) seg_->start_wall_s = wall_s - kStepS;
    seg_->start_reason = next_reason_;
    seg_->splice_event_id = next_event_id_;
    seg_->in_break = in_break_;
  }
  Segment& s = *seg_;
  if (dialnorm_db_) ++s.dialnorm_steps[*dialnorm_db_];
  double step_lufs = -HUGE_VAL;
  ebur128_loudness_window(st, 100, &step_lufs);
  ring_[static_cast<size_t>(ring_pos_)] = to_energy(step_lufs);
  ring_pos_ = (ring_pos_ + 1) % static_cast<int>(ring_.size());
  ++fresh_steps_;
  ++s.steps;
  s.end_s = end_s;
  if (o_.wall_aligned) s.end_wall_s = wall_s;
  // Windows lie inside the segment (as in a measurement of the segment
  // alone) and never across a gap.
  const int fresh = std::min(fresh_steps_, s.steps);
  if (fresh >= kMomentarySteps) {
    const double e = window_energy(kMomentarySteps);
    s.blocks.push_back(static_cast<float>(e));
    s.max_momentary = std::max(s.max_momentary, to_lufs(e));
    s.second_momentary = std::max(s.second_momentary, to_lufs(e));
  }
  double short_term = -HUGE_VAL;
  if (fresh >= kShortTermSteps) {
    short_term = to_lufs(window_energy(kShortTermSteps));
    s.short_term.push_back(static_cast<float>(std::max(short_term, -200.0)));
    s.max_short_term = std::max(s.max_short_term, short_term);
  }
  // A point at the end of each whole second since the segment's start.
  if (s.steps % 10 == 0) {
    s.series_st.push_back(lufs_json(short_term));
    s.series_m.push_back(lufs_json(s.second_momentary));
    if (on_point) {
      LoudnessPoint p;
      p.media_time_s = end_s;
      if (o_.wall_aligned) p.wall_s = wall_s;
      if (std::isfinite(short_term) && short_term >= kAbsoluteGateLufs) p.short_term_lufs = round2(short_term);
      if (std::isfinite(s.second_momentary) && s.second_momentary >= kAbsoluteGateLufs)
        p.momentary_max_lufs = round2(s.second_momentary);
      on_point(p);
    }
    s.second_momentary = -HUGE_VAL;
  }
  // A splice point ends the segment at the step boundary nearest to it (a
  // late cue's: at once).
  if (!splices_.empty() && splices_.front().media_time_s < end_s + kStepS / 2) {
    Splice sp = splices_.front();
    for (const auto& x : splices_)
      if (x.media_time_s < end_s + kStepS / 2) sp = x;  // the latest of those due says what follows
    std::erase_if(splices_, [&](const Splice& x) { return x.media_time_s < end_s + kStepS / 2; });
    next_reason_ = sp.out ? "splice_out" : "splice_in";
    next_event_id_ = sp.event_id;
    in_break_ = sp.out;
    if (sp.media_time_s < s.start_s + kStepS / 2) {
      // At the segment's own start (it began on an interval boundary, or
      // the cue came late): it is the segment the splice starts.
      s.start_reason = next_reason_;
      s.splice_event_id = next_event_id_;
      s.in_break = in_break_;
      return;
    }
    out.push_back(close_segment());
    return;
  }
  const long long next_index = o_.wall_aligned ? static_cast<long long>(std::floor(wall_s / o_.segment_s))
                                               : static_cast<long long>(std::floor((end_s + kStepS / 2) / o_.segment_s));
  if (o_.on_interval && next_index != seg_index_) {
    out.push_back(close_segment());
    next_reason_ = "interval";
    next_event_id_.reset();
  }
}

void LoudnessSegmenter::splice(double media_time_s, bool out, std::optional<std::uint32_t> event_id, bool automatic) {
  if (!std::isfinite(media_time_s)) return;
  if (!out && event_id)  // an explicit return replaces the one a break_duration implied
    std::erase_if(splices_, [&](const Splice& x) { return x.automatic && x.event_id == event_id; });
  // The same boundary announced twice (an implied and an explicit return
  // on the same step, a cue repeated with new bytes) is one boundary.
  for (const auto& x : splices_)
    if (x.out == out && std::abs(x.media_time_s - media_time_s) < kStepS / 2) return;
  const Splice sp{media_time_s, out, automatic, event_id};
  splices_.insert(std::upper_bound(splices_.begin(), splices_.end(), sp,
                                   [](const Splice& a, const Splice& b) { return a.media_time_s < b.media_time_s; }),
                  sp);
}

void LoudnessSegmenter::cancel_splice(std::uint32_t event_id) {
  std::erase_if(splices_, [&](const Splice& x) { return x.event_id == event_id; });
}

nlohmann::json LoudnessSegmenter::close_segment() {
  Segment& s = *seg_;
  const double integrated = gated_loudness(s.blocks);
  const double tp = true_peak_ > 1e-10 ? 20 * std::log10(true_peak_) : -HUGE_VAL;
  std::optional<double> integrated_opt, tp_opt;
  if (std::isfinite(integrated) && integrated >= kAbsoluteGateLufs) integrated_opt = integrated;
  if (std::isfinite(tp)) tp_opt = tp;
  // The dialnorm most of the segment's audio declared (it changes at
  // programme boundaries; the segment's other values are listed).
  std::optional<int> dialnorm;
  int dialnorm_steps = 0;
  for (const auto& [db, steps] : s.dialnorm_steps)
    if (steps > dialnorm_steps) dialnorm = db, dialnorm_steps = steps;
  Verdict v = judge(o_.preset, integrated_opt, tp_opt);
  judge_dialnorm(v, integrated_opt, dialnorm, o_.dialnorm_tolerance_db);
  nlohmann::json dialnorm_offset = nullptr;
  if (dialnorm && integrated_opt) dialnorm_offset = round2(*integrated_opt - *dialnorm);
  nlohmann::json d = {
      {"segment", sequence_},
      {"start_media_time", round_ms(s.start_s)},
      {"end_media_time", round_ms(s.end_s)},
      {"duration_s", round_ms(s.end_s - s.start_s)},
      {"start_wall_time", s.start_wall_s ? nlohmann::json(wall_text(*s.start_wall_s)) : nlohmann::json(nullptr)},
      {"end_wall_time", s.end_wall_s ? nlohmann::json(wall_text(*s.end_wall_s)) : nlohmann::json(nullptr)},
      {"integrated_lufs", lufs_json(integrated)},
      {"range_lu", round2(loudness_range(s.short_term))},
      {"max_momentary_lufs", lufs_json(s.max_momentary)},
      {"max_short_term_lufs", lufs_json(s.max_short_term)},
      {"true_peak_dbtp", tp_opt ? nlohmann::json(round2(*tp_opt)) : nlohmann::json(nullptr)},
      {"preset", o_.preset.name},
      {"target_lufs", o_.preset.target_lufs},
      {"tolerance_lu", o_.preset.tolerance_lu},
      {"max_true_peak_dbtp", o_.preset.max_true_peak_dbtp},
      {"pass", v.pass ? nlohmann::json(*v.pass) : nlohmann::json(nullptr)},
      {"why", v.why},
      {"dialnorm_db", dialnorm ? nlohmann::json(*dialnorm) : nlohmann::json(nullptr)},
      {"dialnorm_offset_lu", dialnorm_offset},
      {"dialnorm_tolerance_db", o_.dialnorm_tolerance_db},
      {"start_reason", s.start_reason},
      {"splice_event_id", s.splice_event_id ? nlohmann::json(*s.splice_event_id) : nlohmann::json(nullptr)},
      {"part", s.in_break ? "break" : "programme"},
      {"series", {{"start_media_time", round_ms(s.series_start_s)},
                  {"step_s", 1},
                  {"short_term_lufs", std::move(s.series_st)},
                  {"momentary_max_lufs", std::move(s.series_m)}}}};
  if (s.dialnorm_steps.size() > 1) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& [db, steps] : s.dialnorm_steps) values.push_back(db);
    d["dialnorm_values_db"] = std::move(values);
  }
  nlohmann::json line = {{"kind", "report.loudness"}, {"media_time", round_ms(s.end_s)}, {"details", std::move(d)}};
  ++sequence_;
  seg_.reset();
  true_peak_ = 0;
  return line;
}

std::optional<nlohmann::json> LoudnessSegmenter::finish() {
  if (!seg_ || seg_->steps == 0) return std::nullopt;
  return close_segment();
}

}  // namespace avmon::reports
