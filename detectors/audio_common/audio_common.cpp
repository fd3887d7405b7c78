#include "audio_common/audio_common.hpp"

#include <numbers>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::audio {

double zero_crossing_frequency_hz(const float* x, int n, double mean, int sample_rate) {
  double first = -1, last = -1;
  int crossings = 0;
  double prev = x[0] - mean;
  for (int i = 1; i < n; ++i) {
    const double cur = x[i] - mean;
    if (prev < 0 && cur >= 0) {
      // Linear interpolation puts the crossing between samples: sub-sample
      // precision makes a 100 ms window good to a fraction of a hertz.
      const double t = (i - 1) + prev / (prev - cur);
      if (first < 0) first = t;
      last = t;
      ++crossings;
    }
    prev = cur;
  }
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
  w.resize(static_cast<size_t>(kTaps - 1 + n));  // grows once to the largest segment
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
  if (interpolate) {
    // The phases computed at sample i interpolate between samples i-6 and
    // i-5 (the filter's centre). A point there can only beat the peak so far
    // when one of them is within 6 dB of it: an inter-sample overshoot of
    // more than 6 dB needs a pathological signal. Programme spends a few per
    // cent of its samples that close to its peak, so most are skipped.
    const float gate = 0.5f * static_cast<float>(std::max(peak, static_cast<double>(pk)));
    constexpr int kLeft = kTaps - 1 - 6, kRight = kTaps - 1 - 5;
    const auto phases = [&](int i) {
      const float* s = w.data() + i;  // s[0..kTaps) ends at the current sample
      for (int p = 0; p < kPhases; ++p) {
        float acc = 0;
        for (int j = 0; j < kTaps; ++j) acc += coef_[p][j] * s[kTaps - 1 - j];
        pk = std::max(pk, std::abs(acc));
      }
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
  std::copy(w.end() - (kTaps - 1), w.end(), w.begin());
  w.resize(kTaps - 1);
}

}  // namespace avmon::audio
