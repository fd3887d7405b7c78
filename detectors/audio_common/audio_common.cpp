#include "audio_common/audio_common.hpp"

#include <numbers>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::audio {

double zero_crossing_frequency_hz(const float* x, int n, double mean, int sample_rate) {
  double first = -1, last = -1;
  int crossings = 0;
  const auto crossing = [&](int i) {
    // Linear interpolation puts the crossing between samples: sub-sample
    // precision makes a 100 ms window good to a fraction of a hertz.
    const double prev = x[i - 1] - mean, cur = x[i] - mean;
    const double t = (i - 1) + prev / (prev - cur);
    if (first < 0) first = t;
    last = t;
    ++crossings;
  };
  int i = 1;
#if defined(__SSE2__)
  // x - mean >= 0 exactly when x >= the least float not below the mean (the
  // difference in double is 0 only where they are equal), and x - mean < 0
  // when x is below that float: four samples are tested in floats, and only
  // where one crosses is the crossing placed, in double as above. (NaN
  // samples fail both tests either way.)
  if (std::isfinite(mean) && n >= 5) {
    float level = static_cast<float>(mean);
    if (static_cast<double>(level) < mean) level = std::nextafter(level, HUGE_VALF);
    const __m128 lv = _mm_set1_ps(level);
    for (; i + 4 <= n; i += 4) {
      const __m128 below = _mm_cmplt_ps(_mm_loadu_ps(x + i - 1), lv);
      const int up = _mm_movemask_ps(_mm_and_ps(below, _mm_cmpge_ps(_mm_loadu_ps(x + i), lv)));
      if (up == 0) continue;
      for (int k = 0; k < 4; ++k)
        if ((up >> k) & 1) crossing(i + k);
    }
  }
#endif
  for (; i < n; ++i)
    if (x[i - 1] - mean < 0 && x[i] - mean >= 0) crossing(i);
  if (crossings < 2 || last <= first) return 0;
  return (crossings - 1) * static_cast<double>(sample_rate) / (last - first);
}

SineFit fit_sine(const float* x, int n, double mean, double frequency_hz, int sample_rate) {
  SineFit fit;
  if (n <= 0 || frequency_hz <= 0) return fit;
  // cos/sin by rotating a phasor: no trigonometry per sample. The phasor is
  // renormalised now and then so rounding cannot make it drift in amplitude.
  const double w = 2 * std::numbers::pi * frequency_hz / sample_rate;
  const double cw = std::cos(w), sw = std::sin(w);
  double c = 1, s = 0;
  double scc = 0, sss = 0, scs = 0, sxc = 0, sxs = 0, sxx = 0;
  for (int i = 0; i < n; ++i) {
    const double v = x[i] - mean;
    scc += c * c;
    sss += s * s;
    scs += c * s;
    sxc += v * c;
    sxs += v * s;
    sxx += v * v;
    const double nc = c * cw - s * sw;
    s = c * sw + s * cw;
    c = nc;
    if ((i & 1023) == 1023) {
      const double r = 1.0 / std::sqrt(c * c + s * s);
      c *= r;
      s *= r;
    }
  }
  const double det = scc * sss - scs * scs;
  if (sxx <= 0 || std::abs(det) < 1e-12) return fit;
  const double a = (sxc * sss - sxs * scs) / det;
  const double b = (sxs * scc - sxc * scs) / det;
  const double explained = a * sxc + b * sxs;
  const double residual = std::max(0.0, sxx - explained);
  fit.amplitude = std::sqrt(a * a + b * b);
  fit.purity = std::clamp(explained / sxx, 0.0, 1.0);
  fit.residual_db = power_to_db(residual / sxx);
  return fit;
}

}  // namespace avmon::audio

namespace avmon::audio {

TruePeakMeter::TruePeakMeter() {
  // Prototype low-pass at the 4x rate, cut-off a little below the original
  // Nyquist frequency, Blackman window; each phase normalised to unity gain
  // at DC so that a constant signal reads its own level.
  constexpr int kLen = kPhases * kTaps;
  constexpr double kCutoff = 0.9;  // of the original Nyquist frequency
  const double centre = (kLen - 1) / 2.0;
  double h[kLen];
  for (int k = 0; k < kLen; ++k) {
    const double t = (k - centre) / kPhases * kCutoff;
    const double sinc = t == 0 ? 1.0 : std::sin(std::numbers::pi * t) / (std::numbers::pi * t);
    const double w = 0.42 - 0.5 * std::cos(2 * std::numbers::pi * (k + 0.5) / kLen) +
                     0.08 * std::cos(4 * std::numbers::pi * (k + 0.5) / kLen);
    h[k] = sinc * w;
  }
  for (int p = 0; p < kPhases; ++p) {
    double sum = 0;
    for (int j = 0; j < kTaps; ++j) sum += h[p + kPhases * j];
    for (int j = 0; j < kTaps; ++j) coef_[p][j] = static_cast<float>(h[p + kPhases * j] / sum);
  }
  double gain = 0;
  for (int p = 0; p < kPhases; ++p) {
    double sum = 0;
    for (int j = 0; j < kTaps; ++j) {
      coef_by_tap_[j][p] = coef_[p][j];
      sum += std::abs(static_cast<double>(coef_[p][j]));
    }
    gain = std::max(gain, sum);
  }
  // The float sum of 12 products strays from the exact one by less than
  // 1e-6 of the sum of their magnitudes: 2e-5 of margin covers it and the
  // rounding of the float product that the bound is tested with.
  gain_bound_ = static_cast<float>(gain * (1 + 2e-5));
}

void TruePeakMeter::reset(int channels) {
  work_.assign(static_cast<size_t>(channels), std::vector<float>(kTaps - 1, 0.f));
  peak_.assign(static_cast<size_t>(channels), 0.0);
}

double TruePeakMeter::max_peak() const {
  double m = 0;
  for (double p : peak_) m = std::max(m, p);
  return m;
}

void TruePeakMeter::feed(int c, const float* x, int n, bool interpolate) {
  auto& w = work_[static_cast<size_t>(c)];
  double& peak = peak_[static_cast<size_t>(c)];
  // w[0..kTaps-1) is the history, the segment follows it. The vector only
  // grows (to the largest segment): resizing it down and up again each time
  // would zero the segment's place before it is copied over.
  if (w.size() < static_cast<size_t>(kTaps - 1 + n)) w.resize(static_cast<size_t>(kTaps - 1 + n));
  std::copy(x, x + n, w.begin() + (kTaps - 1));
  float pk = 0;
  int i0 = 0;
#if defined(__SSE2__)
  // Four samples at a time. maxps returns its second operand when the first
  // is NaN, as std::max(pk, NaN) keeps pk: the same peak as the scalar loop.
  const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  __m128 vpk = _mm_setzero_ps();
  for (; i0 + 4 <= n; i0 += 4) vpk = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(x + i0), abs_mask), vpk);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, vpk);
  for (float l : lanes) pk = std::max(pk, l);
#endif
  for (int i = i0; i < n; ++i) pk = std::max(pk, std::abs(x[i]));
  // No sample of the history or the segment reaches the gate below: none
  // opens it. (A NaN one would, but its phases are NaN and leave pk as it is.)
  const auto quiet = [&] {
    float m = pk;
    for (int k = 0; k < kTaps - 1; ++k) m = std::max(m, std::abs(w[static_cast<size_t>(k)]));
    return m < 0.5f * static_cast<float>(std::max(peak, static_cast<double>(pk)));
  };
  if (interpolate && !quiet()) {
    // The phases computed at sample i interpolate between samples i-6 and
    // i-5 (the filter's centre). A point there can only beat the peak so far
    // when one of them is within 6 dB of it: an inter-sample overshoot of
    // more than 6 dB needs a pathological signal. Programme spends a few per
    // cent of its samples that close to its peak, so most are skipped.
    const float gate = 0.5f * static_cast<float>(std::max(peak, static_cast<double>(pk)));
    constexpr int kLeft = kTaps - 1 - 6, kRight = kTaps - 1 - 5;
    const auto phases = [&](int i) {
      const float* s = w.data() + i;  // s[0..kTaps) ends at the current sample
#if defined(__SSE2__)
      // The four phases side by side, each lane summing its taps in the
      // scalar loop's order (the same roundings, so the same peak).
      __m128 acc = _mm_setzero_ps();
#pragma GCC unroll 12  // the loop's own counting would cost as much as its work
      for (int j = 0; j < kTaps; ++j)
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_load_ps(coef_by_tap_[j]), _mm_set1_ps(s[kTaps - 1 - j])));
      // As std::max(pk, |acc|) phase by phase: a NaN phase leaves pk.
      alignas(16) float a[kPhases];
      _mm_store_ps(a, _mm_max_ps(_mm_and_ps(acc, abs_mask), _mm_set1_ps(pk)));
      pk = std::max(std::max(a[0], a[1]), std::max(a[2], a[3]));
#else
      for (int p = 0; p < kPhases; ++p) {
        float acc = 0;
        for (int j = 0; j < kTaps; ++j) acc += coef_[p][j] * s[kTaps - 1 - j];
        pk = std::max(pk, std::abs(acc));
      }
#endif
    };
    int i = 0;
#if defined(__SSE2__)
    // The gate four samples at a time; "not below" (cmpnlt) lets a NaN
    // through, as the scalar test does.
    const __m128 g = _mm_set1_ps(gate);
    for (; i + 4 <= n; i += 4) {
      const __m128 l = _mm_and_ps(_mm_loadu_ps(w.data() + i + kLeft), abs_mask);
      const __m128 r = _mm_and_ps(_mm_loadu_ps(w.data() + i + kRight), abs_mask);
      const int open = _mm_movemask_ps(_mm_or_ps(_mm_cmpnlt_ps(l, g), _mm_cmpnlt_ps(r, g)));
      if (open == 0) continue;
      // No phase of these four samples can reach pk when the samples under
      // their filters (w[i .. i+14]) times the filter's gain stay below it.
      // The maxima skip NaN samples: a NaN under a filter makes its phases
      // NaN, which leave pk as it is anyway.
      if (pk >= 1e-30f) {
        __m128 m = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(w.data() + i), abs_mask), _mm_setzero_ps());
        m = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(w.data() + i + 4), abs_mask), m);
        m = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(w.data() + i + 8), abs_mask), m);
        m = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(w.data() + i + 11), abs_mask), m);
        m = _mm_max_ps(_mm_movehl_ps(m, m), m);
        m = _mm_max_ss(_mm_shuffle_ps(m, m, 1), m);
        if (_mm_cvtss_f32(m) * gain_bound_ < pk) continue;
      }
      for (int k = 0; k < 4; ++k)
        if ((open >> k) & 1) phases(i + k);
    }
#endif
    for (; i < n; ++i) {
      const float* s = w.data() + i;
      if (std::abs(s[kLeft]) < gate && std::abs(s[kRight]) < gate) continue;
      phases(i);
    }
  }
  peak = std::max(peak, static_cast<double>(pk));
  // Keep the last kTaps-1 samples as the next segment's history.
  if (n > 0) std::copy(w.begin() + n, w.begin() + n + (kTaps - 1), w.begin());
}

}  // namespace avmon::audio
