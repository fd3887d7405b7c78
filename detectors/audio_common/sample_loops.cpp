#include "audio_common/sample_loops.hpp"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::audio {

#if defined(__SSE2__)
namespace {

// Squares of four floats as two pairs of doubles (exact: a float's square
// fits a double's mantissa).
inline void squares(__m128 v, __m128d& lo, __m128d& hi) {
  lo = _mm_cvtps_pd(v);
  hi = _mm_cvtps_pd(_mm_movehl_ps(v, v));
  lo = _mm_mul_pd(lo, lo);
  hi = _mm_mul_pd(hi, hi);
}

// s + a[0] + a[1] + b[0] + b[1], left to right (the sum's low lane).
inline __m128d add_in_order(__m128d s, __m128d a, __m128d b) {
  s = _mm_add_sd(s, a);
  s = _mm_add_sd(s, _mm_unpackhi_pd(a, a));
  s = _mm_add_sd(s, b);
  return _mm_add_sd(s, _mm_unpackhi_pd(b, b));
}

// Largest lane; lanes are never NaN (maxps keeps its second operand, the
// running maximum, when the first is NaN).
inline float max_lane(__m128 v) {
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, v);
  return std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
}

inline __m128 abs_ps(__m128 v) { return _mm_and_ps(v, _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff))); }

}  // namespace
#endif

double sum_squares(const float* x, int n) {
  int i = 0;
  double sum = 0;
#if defined(__SSE2__)
  __m128d s = _mm_setzero_pd();
  for (; i + 4 <= n; i += 4) {
    __m128d lo, hi;
    squares(_mm_loadu_ps(x + i), lo, hi);
    s = add_in_order(s, lo, hi);
  }
  sum = _mm_cvtsd_f64(s);
#endif
  for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

float peak_abs(const float* x, int n, float pk) {
  int i = 0;
#if defined(__SSE2__)
  __m128 vpk = _mm_setzero_ps();
  for (; i + 4 <= n; i += 4) vpk = _mm_max_ps(abs_ps(_mm_loadu_ps(x + i)), vpk);
  pk = std::max(pk, max_lane(vpk));
#endif
  for (; i < n; ++i) pk = std::max(pk, std::abs(x[i]));
  return pk;
}

double sum_squares_peak(const float* x, int n, float& pk) {
  int i = 0;
  double sum = 0;
  float peak = pk;
#if defined(__SSE2__)
  __m128d s = _mm_setzero_pd();
  __m128 vpk = _mm_setzero_ps();
  for (; i + 4 <= n; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    vpk = _mm_max_ps(abs_ps(v), vpk);
    __m128d lo, hi;
    squares(v, lo, hi);
    s = add_in_order(s, lo, hi);
  }
  sum = _mm_cvtsd_f64(s);
  peak = std::max(peak, max_lane(vpk));
#endif
  for (; i < n; ++i) {
    sum += static_cast<double>(x[i]) * x[i];
    peak = std::max(peak, std::abs(x[i]));
  }
  pk = peak;
  return sum;
}

void sum_and_squares(const float* x, int n, double& sum, double& sq) {
  int i = 0;
  double sm = 0, sqs = 0;
#if defined(__SSE2__)
  __m128d vs = _mm_setzero_pd(), vq = _mm_setzero_pd();
  for (; i + 4 <= n; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    const __m128d lo = _mm_cvtps_pd(v), hi = _mm_cvtps_pd(_mm_movehl_ps(v, v));
    vs = add_in_order(vs, lo, hi);
    vq = add_in_order(vq, _mm_mul_pd(lo, lo), _mm_mul_pd(hi, hi));
  }
  sm = _mm_cvtsd_f64(vs);
  sqs = _mm_cvtsd_f64(vq);
#endif
  for (; i < n; ++i) {
    sm += x[i];
    sqs += static_cast<double>(x[i]) * x[i];
  }
  sum = sm;
  sq = sqs;
}

PairSums pair_sums(const float* l, const float* r, int n) {
  int i = 0;
  PairSums out;
#if defined(__SSE2__)
  __m128d ll = _mm_setzero_pd(), rr = _mm_setzero_pd(), lr = _mm_setzero_pd();
  for (; i + 4 <= n; i += 4) {
    const __m128 vl = _mm_loadu_ps(l + i), vr = _mm_loadu_ps(r + i);
    const __m128d l0 = _mm_cvtps_pd(vl), l1 = _mm_cvtps_pd(_mm_movehl_ps(vl, vl));
    const __m128d r0 = _mm_cvtps_pd(vr), r1 = _mm_cvtps_pd(_mm_movehl_ps(vr, vr));
    ll = add_in_order(ll, _mm_mul_pd(l0, l0), _mm_mul_pd(l1, l1));
    rr = add_in_order(rr, _mm_mul_pd(r0, r0), _mm_mul_pd(r1, r1));
    lr = add_in_order(lr, _mm_mul_pd(l0, r0), _mm_mul_pd(l1, r1));
  }
  out.ll = _mm_cvtsd_f64(ll);
  out.rr = _mm_cvtsd_f64(rr);
  out.lr = _mm_cvtsd_f64(lr);
#endif
  for (; i < n; ++i) {
    out.ll += static_cast<double>(l[i]) * l[i];
    out.rr += static_cast<double>(r[i]) * r[i];
    out.lr += static_cast<double>(l[i]) * r[i];
  }
  return out;
}

int first_at_or_above(const float* x, int n, float level) {
  int i = 0;
#if defined(__SSE2__)
  const __m128 lv = _mm_set1_ps(level);
  for (; i + 4 <= n; i += 4)
    if (_mm_movemask_ps(_mm_cmpge_ps(abs_ps(_mm_loadu_ps(x + i)), lv)) != 0) break;
#endif
  for (; i < n; ++i)
    if (std::abs(x[i]) >= level) return i;
  return n;
}

int last_at_or_above(const float* x, int n, float level) {
  int i = n;
#if defined(__SSE2__)
  const __m128 lv = _mm_set1_ps(level);
  for (; i >= 4; i -= 4)
    if (_mm_movemask_ps(_mm_cmpge_ps(abs_ps(_mm_loadu_ps(x + i - 4)), lv)) != 0) break;
#endif
  while (--i >= 0)
    if (std::abs(x[i]) >= level) return i;
  return -1;
}

double channel_envelope(const float* const* planes, int channels, int offset, int n, float* peak, double acc) {
  int i = 0;
#if defined(__SSE2__)
  const __m128d div = _mm_set1_pd(static_cast<double>(channels));
  __m128d s = _mm_set_sd(acc);
  for (; i + 4 <= n; i += 4) {
    __m128 a = _mm_setzero_ps();
    __m128d p0 = _mm_setzero_pd(), p1 = _mm_setzero_pd();
    for (int c = 0; c < channels; ++c) {
      const __m128 v = _mm_loadu_ps(planes[c] + offset + i);
      a = _mm_max_ps(abs_ps(v), a);
      __m128d lo, hi;
      squares(v, lo, hi);
      p0 = _mm_add_pd(p0, lo);
      p1 = _mm_add_pd(p1, hi);
    }
    _mm_storeu_ps(peak + i, a);
    s = add_in_order(s, _mm_div_pd(p0, div), _mm_div_pd(p1, div));
  }
  acc = _mm_cvtsd_f64(s);
#endif
  for (; i < n; ++i) {
    float a = 0;
    double p = 0;
    for (int c = 0; c < channels; ++c) {
      const float x = planes[c][offset + i];
      a = std::max(a, std::abs(x));
      p += static_cast<double>(x) * x;
    }
    peak[i] = a;
    acc += p / channels;
  }
  return acc;
}

void interleave_stereo(const float* l, const float* r, int n, float* dst) {
  int i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) {
    const __m128 vl = _mm_loadu_ps(l + i), vr = _mm_loadu_ps(r + i);
    _mm_storeu_ps(dst + 2 * i, _mm_unpacklo_ps(vl, vr));
    _mm_storeu_ps(dst + 2 * i + 4, _mm_unpackhi_ps(vl, vr));
  }
#endif
  for (; i < n; ++i) {
    dst[2 * i] = l[i];
    dst[2 * i + 1] = r[i];
  }
}

}  // namespace avmon::audio
