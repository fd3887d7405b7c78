#include "flash/luminance.hpp"

#include <algorithm>
#include <cmath>

extern "C" {
#include <libavutil/pixfmt.h>
}

namespace avmon::video {

Transfer transfer_of(int av_color_trc) {
  switch (av_color_trc) {
    case AVCOL_TRC_SMPTE2084: return Transfer::Pq;
    case AVCOL_TRC_ARIB_STD_B67: return Transfer::Hlg;
    default: return Transfer::Sdr;
  }
}

namespace {

// SMPTE ST 2084 EOTF: signal 0..1 to cd/m² (0..10000).
double pq_eotf(double e) {
  constexpr double m1 = 2610.0 / 16384, m2 = 2523.0 / 4096 * 128, c1 = 3424.0 / 4096, c2 = 2413.0 / 4096 * 32,
                   c3 = 2392.0 / 4096 * 32;
  const double p = std::pow(std::clamp(e, 0.0, 1.0), 1.0 / m2);
  return 10000.0 * std::pow(std::max(p - c1, 0.0) / (c2 - c3 * p), 1.0 / m1);
}

// BT.2100 HLG inverse OETF: signal 0..1 to normalised scene light 0..1.
double hlg_inverse_oetf(double e) {
  constexpr double a = 0.17883277, b = 1 - 4 * a, c = 0.55991073;  // c = 0.5 - a * ln(4a)
  e = std::clamp(e, 0.0, 1.0);
  return e <= 0.5 ? e * e / 3.0 : (std::exp((e - c) / a) + b) / 12.0;
}

// BT.2100 HLG system gamma for a display of this peak: 1.2 at 1000 cd/m².
double hlg_gamma(double peak_cd_m2) { return 1.2 + 0.42 * std::log10(peak_cd_m2 / 1000.0); }

}  // namespace

double display_cd_m2(const DisplayModel& m, double signal) {
  signal = std::clamp(signal, 0.0, 1.0);
  switch (m.transfer) {
    case Transfer::Pq: return pq_eotf(signal);
    // Luma alone: the OOTF applied to the luminance of a grey of this signal.
    case Transfer::Hlg: return m.hlg_peak_cd_m2 * std::pow(hlg_inverse_oetf(signal), hlg_gamma(m.hlg_peak_cd_m2));
    case Transfer::Sdr: break;
  }
  // BT.1886 with a zero black level: a pure 2.4 power law.
  return m.sdr_peak_cd_m2 * std::pow(signal, 2.4);
}

LuminanceTable luminance_table(const DisplayModel& m) {
  LuminanceTable t{};
  const double black = m.full_range ? 0.0 : 16.0, span = m.full_range ? 255.0 : 219.0;
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<float>(display_cd_m2(m, (static_cast<double>(i) / 4.0 - black) / span));
  return t;
}

LinearTable linear_table(const DisplayModel& m) {
  LinearTable t{};
  // Relative to SDR reference white, so that the red measure's scale (320 for
  // a full red on an SDR display) is the same whatever the transfer.
  const double white = m.transfer == Transfer::Sdr ? m.sdr_peak_cd_m2 : 203.0;  // BT.2408 HDR reference white
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<float>(display_cd_m2(m, static_cast<double>(i) / 1023.0) / white);
  return t;
}

float red_level(const DisplayModel& m, const LinearTable& lin, float y, float cb, float cr) {
  const float black = m.full_range ? 0.f : 16.f, yspan = m.full_range ? 255.f : 219.f,
              cspan = m.full_range ? 255.f : 224.f;
  const float yn = (y - black) / yspan, pb = (cb - 128.f) / cspan, pr = (cr - 128.f) / cspan;
  const float kr = static_cast<float>(m.kr), kb = static_cast<float>(m.kb), kg = 1.f - kr - kb;
  const float rp = yn + 2.f * (1.f - kr) * pr, bp = yn + 2.f * (1.f - kb) * pb;
  const float gp = (yn - kr * rp - kb * bp) / kg;
  const auto linear = [&lin](float v) {
    return lin[static_cast<size_t>(std::clamp(v, 0.f, 1.f) * 1023.f + 0.5f)];
  };
  const float r = linear(rp), g = linear(gp), b = linear(bp);
  if (r <= 0.f || r < 0.8f * (r + g + b)) return 0.f;
  return (r - g - b) * 320.f;
}

}  // namespace avmon::video
