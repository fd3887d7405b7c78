#include "audio_dropout/channel_scan.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "audio_common/sample_loops.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::audio {

namespace {
double to_db(double power) { return power > 1e-20 ? 10.0 * std::log10(power) : -200.0; }
}  // namespace

void ChannelScan::reset(const DropoutParams& p, int sample_rate) {
  p_ = p;
  rate_ = sample_rate > 0 ? sample_rate : 48000;
  // 1 ms blocks: short enough to place a 10 ms mute, long enough that a
  // waveform crossing zero never reads as muted.
  block_ = std::max(8, static_cast<int>(std::lround(rate_ / 1000.0)));
  mute_amp_ = static_cast<float>(std::pow(10.0, p.mute_dbfs / 20.0));
  mute_power_ = std::pow(10.0, p.mute_dbfs / 10.0);
  programme_power_ = std::pow(10.0, p.min_programme_dbfs / 10.0);
  edge_factor_ = std::pow(10.0, p.edge_tolerance_db / 10.0);
  click_min_ = static_cast<float>(std::pow(10.0, p.click_min_dbfs / 20.0));
  min_mute_samples_ = std::max<std::int64_t>(1, std::llround(p.min_mute_ms * rate_ / 1000.0));
  max_mute_blocks_ = std::llround(p.max_mute_s * 1000.0);
  // A mute is judged with its context around it, all still in the ring.
  // (And a gated tone's burst before it.)
  const auto needed = static_cast<size_t>(max_mute_blocks_ + 2 * kContextBlocks + kMaxBurstBlocks + 8);
  blocks_.assign(std::bit_ceil(needed), Block{});
  blocks_mask_ = blocks_.size() - 1;
  raw_.assign(std::bit_ceil(static_cast<size_t>((kClickHistory + kClickLookahead + 4) * block_)), 0.f);
  raw_mask_ = raw_.size() - 1;
  d2_.assign(static_cast<size_t>(block_), 0.f);
  pos_ = nblocks_ = 0;
  cur_ = Block{};
  in_block_ = 0;
  sq_ = 0;
  p1_ = p2_ = 0;
  in_run_ = false;
  span_start_ = -1;
  waiting_.clear();
}

void ChannelScan::feed(const float* x, int n, std::vector<ChannelDropout>& found) {
  for (int i = 0; i < n;) {
    const int take = std::min(n - i, block_ - in_block_);
    const float* seg = x + i;
    // The hot loop: a few operations per sample (cost matters: every sample
    // of every channel passes here). What needs no running state is done
    // for the whole segment at once: the copy into the ring (in at most two
    // pieces) and the first and last sample at the mute level.
    const auto at = static_cast<size_t>(pos_) & raw_mask_;
    const auto first_piece = std::min(static_cast<size_t>(take), raw_.size() - at);
    std::copy(seg, seg + first_piece, raw_.begin() + static_cast<std::ptrdiff_t>(at));
    std::copy(seg + first_piece, seg + take, raw_.begin());
    const int first = first_at_or_above(seg, take, mute_amp_);
    if (first < take) {
      if (cur_.first_loud < 0) cur_.first_loud = pos_ + first;
      cur_.last_loud = pos_ + last_at_or_above(seg, take, mute_amp_);
    }
    double sq = 0;
    float d2_max = cur_.d2_max;
    std::int64_t d2_pos = cur_.d2_pos;
    int crossings = cur_.crossings;
    float p1 = p1_, p2 = p2_;
    const auto scalar = [&](int k) {
      const float v = seg[k];
      const float d2 = std::abs(v - 2.f * p1 + p2);
      crossings += (v < 0.f) != (p1 < 0.f);
      p2 = p1;
      p1 = v;
      if (d2 > d2_max) {
        d2_max = d2;
        d2_pos = pos_ + k;
      }
      sq += static_cast<double>(v) * v;
    };
    int k = 0;
#if defined(__SSE2__)
    // Four samples at a time once the two before them are in x. The same
    // operations in the same order as the scalar loop: the power is added one
    // sample at a time; the largest jump is the first sample reaching the
    // largest value (NaN jumps are skipped both ways).
    for (; k < take && i + k < 2; ++k) scalar(k);
    if (k + 4 <= take) {
      const int k0 = k;
      const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
      const __m128 zero = _mm_setzero_ps(), two = _mm_set1_ps(2.f);
      __m128i cross = _mm_setzero_si128();
      __m128d vsq = _mm_set_sd(sq);
      __m128 vmax = _mm_set1_ps(d2_max);
      for (; k + 4 <= take; k += 4) {
        const float* px = seg + k;
        const __m128 v = _mm_loadu_ps(px), q1 = _mm_loadu_ps(px - 1), q2 = _mm_loadu_ps(px - 2);
        const __m128 d2 = _mm_and_ps(_mm_add_ps(_mm_sub_ps(v, _mm_mul_ps(two, q1)), q2), abs_mask);
        _mm_storeu_ps(d2_.data() + k, d2);
        vmax = _mm_max_ps(d2, vmax);
        // A lane where exactly one of the two is negative counts -1 (all ones).
        cross = _mm_sub_epi32(cross, _mm_castps_si128(_mm_xor_ps(_mm_cmplt_ps(v, zero), _mm_cmplt_ps(q1, zero))));
        const __m128d lo = _mm_cvtps_pd(v), hi = _mm_cvtps_pd(_mm_movehl_ps(v, v));
        const __m128d lo2 = _mm_mul_pd(lo, lo), hi2 = _mm_mul_pd(hi, hi);
        vsq = _mm_add_sd(vsq, lo2);
        vsq = _mm_add_sd(vsq, _mm_unpackhi_pd(lo2, lo2));
        vsq = _mm_add_sd(vsq, hi2);
        vsq = _mm_add_sd(vsq, _mm_unpackhi_pd(hi2, hi2));
      }
      sq = _mm_cvtsd_f64(vsq);
      alignas(16) std::int32_t c[4];
      _mm_store_si128(reinterpret_cast<__m128i*>(c), cross);
      crossings += c[0] + c[1] + c[2] + c[3];
      alignas(16) float m[4];
      _mm_store_ps(m, vmax);
      const float top = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
      if (top > d2_max) {
        // Its first sample: four at a time (equality fails for NaN).
        int j = k0;
        const __m128 t = _mm_set1_ps(top);
        for (;; j += 4) {
          const int eq = _mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(d2_.data() + j), t));
          if (eq != 0) {
            j += std::countr_zero(static_cast<unsigned>(eq));
            break;
          }
        }
        d2_max = top;
        d2_pos = pos_ + j;
      }
      p1 = seg[k - 1];
      p2 = seg[k - 2];
    }
#endif
    for (; k < take; ++k) scalar(k);
    p1_ = p1;
    p2_ = p2;
    cur_.d2_max = d2_max;
    cur_.d2_pos = d2_pos;
    cur_.crossings = crossings;
    sq_ += sq;
    pos_ += take;
    in_block_ += take;
    i += take;
    if (in_block_ == block_) block_done(found);
  }
}

void ChannelScan::block_done(std::vector<ChannelDropout>& found) {
  cur_.power = sq_ / block_;
  const std::int64_t b = nblocks_++;
  blocks_[static_cast<size_t>(b) & blocks_mask_] = cur_;
  const bool quiet = cur_.power < mute_power_;
  cur_ = Block{};
  in_block_ = 0;
  sq_ = 0;

  if (quiet && !in_run_) {
    in_run_ = true;
    run_.first_block = b;
    run_.span_start = span_start_;
    // The edge to the sample, and the level of the millisecond just before it
    // (still in the ring now; the mute is judged only after it ends).
    const Block& before = b > 0 ? blk(b - 1) : blk(b);
    run_.start = b > 0 && before.last_loud >= 0 ? before.last_loud + 1 : b * block_;
    double sum = 0;
    const std::int64_t from = std::max<std::int64_t>(0, run_.start - block_);
    for (std::int64_t s = from; s < run_.start; ++s) sum += static_cast<double>(raw(s)) * raw(s);
    run_.cut_power = run_.start > from ? sum / static_cast<double>(run_.start - from) : 0;
    // A coded cut smears codec noise a millisecond or two into the gap (and
    // its peaks cross the mute level): the loudest of the 3 blocks before the
    // quiet ones is programme there, while a decay's are all near the mute level.
    for (std::int64_t k = std::max<std::int64_t>(0, b - kEdgeBlocks); k < b; ++k)
      run_.cut_power = std::max(run_.cut_power, blk(k).power);
  } else if (!quiet && in_run_) {
    in_run_ = false;
    run_.end_block = b;
    span_start_ = b;
    // Longer than max_mute_s: the silence detector's (one gap, one alarm).
    if (run_.end_block - run_.first_block <= max_mute_blocks_ + 1) waiting_.push_back(run_);
  }
  while (!waiting_.empty() && b >= waiting_.front().end_block + kContextBlocks - 1) {
    judge_mute(waiting_.front(), kContextBlocks, found);
    waiting_.pop_front();
  }
  if (b >= kClickHistory + kClickLookahead) judge_click(b - kClickLookahead, found);
}

double ChannelScan::mean_power(std::int64_t from, std::int64_t to) const {
  from = std::max({from, std::int64_t{0}, nblocks_ - static_cast<std::int64_t>(blocks_.size())});
  to = std::min(to, nblocks_);
  if (from >= to) return 0;
  double sum = 0;
  for (std::int64_t b = from; b < to; ++b) sum += blk(b).power;
  return sum / static_cast<double>(to - from);
}

void ChannelScan::judge_mute(const MuteRun& run, std::int64_t blocks_after, std::vector<ChannelDropout>& found) {
  const std::int64_t sb = run.first_block, eb = run.end_block;
  if (sb < kEdgeBlocks || blocks_after < kEdgeBlocks) return;  // no programme seen before or after
  // Edges to the sample: after the last loud sample before the quiet blocks,
  // up to the first loud sample after them.
  const std::int64_t start = run.start;
  const std::int64_t end = blk(eb).first_loud >= 0 ? blk(eb).first_loud : eb * block_;
  if (end - start < min_mute_samples_ || static_cast<double>(end - start) > p_.max_mute_s * rate_) return;
  // A dropout cuts programme off and lets it back in: the audio just before
  // and just after is at programme level. A pause, a fade or a note's release
  // decays into the quiet, so the millisecond before it is barely above the
  // mute level and far below the programme before it. (Onsets are abrupt in
  // programme too, plosives and attacks: the level after a mute is judged on
  // 3 ms, more leniently.)
  const double edge_before = run.cut_power;
  // A coded return smears a few milliseconds of pre-echo ahead of the
  // programme: the loudest 3 ms of the first 10 ms after the mute.
  double edge_after = 0;
  for (std::int64_t b = eb; b + kEdgeBlocks <= eb + std::min<std::int64_t>(blocks_after, 10); ++b)
    edge_after = std::max(edge_after, mean_power(b, b + kEdgeBlocks));
  const double programme_before = mean_power(sb - kContextBlocks, sb);
  const double programme_after = mean_power(eb, eb + blocks_after);
  if (edge_before < programme_power_ || edge_after < programme_power_) return;
  if (edge_before * edge_factor_ < programme_before || edge_after * edge_factor_ < programme_after) return;
  // Cut off and let back in, but deliberately: a beep gated without a ramp.
  if (gated_tone(run, blocks_after)) return;
  ChannelDropout d;
  d.kind = ChannelDropout::Kind::Mute;
  d.start = start;
  d.end = end;
  d.edge_dbfs = to_db(std::min(edge_before, edge_after));
  d.level_dbfs = to_db(mean_power(sb, eb));
  found.push_back(d);
}

// A sync test signal (a flash and a beep once a second), a line-up sequence's
// pips: a tone switched on from digital quiet and cut off again without a ramp,
// which is every edge of a dropout. What tells is what is cut: a short burst
// that itself began from the quiet, one steady tone (flat level, one
// frequency), and the same tone again after the gap. A dropout cuts programme
// that was already running, music or speech, or a tone that had been on for
// longer than a beep.
bool ChannelScan::gated_tone(const MuteRun& run, std::int64_t blocks_after) const {
  const std::int64_t sb = run.first_block, eb = run.end_block;
  if (run.span_start < 0 || sb - run.span_start > kMaxBurstBlocks) return false;
  if (nblocks_ - run.span_start > static_cast<std::int64_t>(blocks_.size())) return false;  // no longer kept
  Tone before, after;
  if (!steady_tone(run.span_start, sb, before)) return false;
  // After it: the sound up to the next quiet block (within the context seen).
  std::int64_t ae = eb;
  while (ae < eb + blocks_after && ae < nblocks_ && blk(ae).power >= mute_power_) ++ae;
  if (!steady_tone(eb, ae, after)) return false;
  // The same tone: level within 3 dB, frequency within 5 % (and the count's
  // own uncertainty, a crossing either side of each steady part).
  if (std::max(before.power, after.power) > 2.0 * std::min(before.power, after.power)) return false;
  const double slack = 0.05 * std::max(before.crossing_rate, after.crossing_rate) +
                       2.0 / static_cast<double>(before.samples) + 2.0 / static_cast<double>(after.samples);
  return std::abs(before.crossing_rate - after.crossing_rate) <= slack;
}

// Steady: cut into 5 ms windows, those within 3 dB of the loudest are one run
// covering most of the span (the rest: the edges, partly filled, smeared by a
// codec), and its first and second halves (end windows aside) cross zero at
// the same rate.
// Tones below about 100 Hz have too few periods per window to be told.
bool ChannelScan::steady_tone(std::int64_t from, std::int64_t to, Tone& t) const {
  const std::int64_t windows = (to - from) / kToneWindow;
  if (windows < kMinToneWindows) return false;
  const auto window_power = [&](std::int64_t w) {
    double sum = 0;
    for (std::int64_t b = from + w * kToneWindow; b < from + (w + 1) * kToneWindow; ++b) sum += blk(b).power;
    return sum / kToneWindow;
  };
  double peak = 0;
  for (std::int64_t w = 0; w < windows; ++w) peak = std::max(peak, window_power(w));
  if (peak < programme_power_) return false;
  std::int64_t first = -1, last = -1, steady = 0;
  for (std::int64_t w = 0; w < windows; ++w)
    if (window_power(w) * 2.0 >= peak) {
      if (first < 0) first = w;
      last = w;
      ++steady;
    }
  if (steady < kMinToneWindows || last - first + 1 != steady || steady * 10 < windows * 6) return false;
  // Measured without the run's end windows when it has four or more: an edge
  // a block or two into them (a cut, a codec's pre-echo) crosses zero at
  // random.
  if (steady >= 4) {
    ++first;
    --last;
  }
  const std::int64_t b0 = from + first * kToneWindow, b1 = from + (last + 1) * kToneWindow, mid = (b0 + b1) / 2;
  double power = 0;
  int cross_first = 0, cross_second = 0;
  for (std::int64_t b = b0; b < b1; ++b) {
    power += blk(b).power;
    (b < mid ? cross_first : cross_second) += blk(b).crossings;
  }
  // One frequency throughout: the halves' counts within 5 % and a crossing.
  const double rate_first = static_cast<double>(cross_first) / static_cast<double>(mid - b0);
  const double rate_second = static_cast<double>(cross_second) / static_cast<double>(b1 - mid);
  if (std::abs(rate_first - rate_second) > 0.05 * std::max(rate_first, rate_second) +
                                               1.0 / static_cast<double>(mid - b0) + 1.0 / static_cast<double>(b1 - mid))
    return false;
  t.power = power / static_cast<double>(b1 - b0);
  t.samples = (b1 - b0) * block_;
  t.crossing_rate = static_cast<double>(cross_first + cross_second) / static_cast<double>(t.samples);
  return true;
}

void ChannelScan::judge_click(std::int64_t c, std::vector<ChannelDropout>& found) {
  const Block& k = blk(c);
  const float jump = k.d2_max;
  if (jump < click_min_) return;
  const std::int64_t p = k.d2_pos;
  const auto ratio = static_cast<float>(kCandidateRatio);
  // A jump after which the sound falls 40 dB within 3 ms is a cut into a gap
  // (a codec smears the first milliseconds of it above the mute level): the
  // gap is judged as a mute, as is one right beside the jump.
  const double cut_floor = mean_power(c - kClickHistory, c) * kCutDepth;
  for (std::int64_t b = c + 1; b <= c + kClickLookahead; ++b)
    if (blk(b).power < cut_floor) return;
  // Coarse test on the block maxima first (cheap, almost always decisive).
  for (std::int64_t b = c - kClickHistory; b <= c + kClickLookahead; ++b) {
    if (b == c) continue;
    const Block& o = blk(b);
    // A jump next to a mute is the mute's edge: the mute is judged as such
    // (and a gap too long for a dropout is not one).
    if (o.power < mute_power_) return;
    if (std::abs(o.d2_pos - p) > kClickGuard && o.d2_max * ratio >= jump) return;
  }
  // Exact: how far the jump departs from what the signal's own recent course
  // predicts, against how far the rest of the neighbourhood does.
  const double explained = prediction_ratio(p, (c - kClickHistory) * block_, (c + kClickLookahead + 1) * block_);
  if (explained <= p_.click_ratio) return;
  ChannelDropout d;
  d.kind = ChannelDropout::Kind::Discontinuity;
  d.start = d.end = p;
  d.level_dbfs = 20.0 * std::log10(static_cast<double>(jump));
  d.ratio = explained;
  found.push_back(d);
}

double ChannelScan::prediction_ratio(std::int64_t p, std::int64_t from, std::int64_t to) {
  // Linear prediction (autocorrelation method, Hann window, Levinson-Durbin)
  // fitted on the samples before the jump: music and speech are predictable
  // from their last few samples, a splice is not. Runs for candidates only.
  constexpr int order = kPredictorOrder;
  const std::int64_t fit_end = p - kClickGuard;
  const std::int64_t fit_from = std::max<std::int64_t>(from, 0);
  const int n = static_cast<int>(fit_end - fit_from);
  if (n < 4 * order) return 0;
  std::vector<double> w(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    w[static_cast<size_t>(i)] = raw(fit_from + i) * (0.5 - 0.5 * std::cos(2 * 3.141592653589793 * (i + 0.5) / n));
  double r[order + 1];
  for (int k = 0; k <= order; ++k) {
    double acc = 0;
    for (int i = k; i < n; ++i) acc += w[static_cast<size_t>(i)] * w[static_cast<size_t>(i - k)];
    r[k] = acc;
  }
  if (r[0] <= 1e-18) return 0;
  r[0] *= 1.0 + 1e-6;  // a little white noise keeps the recursion stable on pure tones
  double a[order + 1] = {1.0}, tmp[order + 1];
  double err = r[0];
  for (int i = 1; i <= order; ++i) {
    double acc = r[i];
    for (int j = 1; j < i; ++j) acc += a[j] * r[i - j];
    const double k = -acc / err;
    std::copy(a, a + order + 1, tmp);
    for (int j = 1; j < i; ++j) a[j] = tmp[j] + k * tmp[i - j];
    a[i] = k;
    err *= 1.0 - k * k;
    if (err <= 0) return 0;
  }
  double at_jump = 0, around = 0;
  errors_.clear();
  const auto error = [&](std::int64_t s, double e) {
    e = std::abs(e);
    if (std::abs(s - p) <= 2) {
      at_jump = std::max(at_jump, e);
    } else if (std::abs(s - p) > kClickGuard) {
      around = std::max(around, e);
      errors_.push_back(e);
    }
  };
  std::int64_t s = std::max<std::int64_t>(fit_from + order, 0);
#if defined(__SSE2__)
  // Two samples' errors at a time, each summed over the taps in the scalar
  // order, from the samples copied out of the ring in order.
  if (s < to) {
    const std::int64_t base = s - order;
    lin_.resize(static_cast<size_t>(to - base));
    for (std::int64_t k = base; k < to; ++k) lin_[static_cast<size_t>(k - base)] = raw(k);
    for (; s + 2 <= to; s += 2) {
      const double* at = lin_.data() + (s - base);
      __m128d e = _mm_setzero_pd();
      for (int j = 0; j <= order; ++j) e = _mm_add_pd(e, _mm_mul_pd(_mm_set1_pd(a[j]), _mm_loadu_pd(at - j)));
      error(s, _mm_cvtsd_f64(e));
      error(s + 1, _mm_cvtsd_f64(_mm_unpackhi_pd(e, e)));
    }
  }
#endif
  for (; s < to; ++s) {
    double e = 0;
    for (int j = 0; j <= order; ++j) e += a[j] * raw(s - j);
    error(s, e);
  }
  if (errors_.empty()) return 0;
  // Also far above the typical error (median): the largest error elsewhere
  // may itself be a click's or a pulse's, the median is the signal's own.
  auto mid = errors_.begin() + static_cast<long>(errors_.size() / 2);
  std::nth_element(errors_.begin(), mid, errors_.end());
  if (at_jump < kMedianRatio * *mid) return 0;
  return around > 0 ? at_jump / around : 1e6;
}

void ChannelScan::finish(std::vector<ChannelDropout>& found) {
  // Mutes that ended shortly before the end of input, judged on the programme
  // seen after them (a mute still running at the end is the end, not a dropout).
  for (const auto& run : waiting_) judge_mute(run, nblocks_ - run.end_block, found);
  waiting_.clear();
}

std::int64_t ChannelScan::undecided_from() const {
  std::int64_t from = (nblocks_ - kClickLookahead - 1) * block_;
  if (in_run_) from = std::min(from, (run_.first_block - 1) * block_);
  if (!waiting_.empty()) from = std::min(from, (waiting_.front().first_block - 1) * block_);
  return from;
}

}  // namespace avmon::audio
