// Per-sample loops several audio detectors run over every sample: SSE2 where
// the build has it, the plain loop otherwise. Each returns exactly what the
// plain loop returns, so the detectors' figures do not depend on the build:
// sums are added one sample at a time in sample order (the vector code only
// converts and squares ahead of the additions), and maxima skip NaN samples
// as std::max(running, NaN) does.
#pragma once

namespace avmon::audio {

// 0 + x[0]^2 + x[1]^2 + ... + x[n-1]^2 in double, in that order.
double sum_squares(const float* x, int n);

// max(pk, |x[0]|, ..., |x[n-1]|), NaN samples ignored.
float peak_abs(const float* x, int n, float pk);

// Both in one pass over x.
double sum_squares_peak(const float* x, int n, float& pk);

// 0 + x[0] + ... and 0 + x[0]^2 + ..., in double, in sample order.
void sum_and_squares(const float* x, int n, double& sum, double& sq);

// Sums of l^2, r^2 and l*r over a channel pair, each from 0 in sample order.
struct PairSums {
  double ll = 0, rr = 0, lr = 0;
};
PairSums pair_sums(const float* l, const float* r, int n);

// The first i in [0, n) with |x[i]| >= level (NaN never is), or n.
int first_at_or_above(const float* x, int n, float level);
// The last such i, or -1.
int last_at_or_above(const float* x, int n, float level);

// For i in [0, n): peak[i] = max(0, |planes[c][offset + i]| over the channels)
// and acc += (0 + planes[0][offset + i]^2 + ...) / channels, in sample order.
// Returns acc.
double channel_envelope(const float* const* planes, int channels, int offset, int n, float* peak, double acc);

// dst[i * 2] = l[i], dst[i * 2 + 1] = r[i]: a stereo block interleaved.
void interleave_stereo(const float* l, const float* r, int n, float* dst);

}  // namespace avmon::audio
