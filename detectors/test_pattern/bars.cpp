#include "test_pattern/bars.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::video {

namespace {

// The band examined: the main bars of every standard (all of EBU bars, the
// top 2/3 of SMPTE EG 1 bars, the top 7/12 of SMPTE RP 219 HD bars).
constexpr double kBandTop = 0.04, kBandBottom = 0.56;
constexpr int kBandRows = 16;
constexpr double kMinBandWidth = 0.03;  // of the picture width: a bar partly covered is narrower than 1/8
constexpr double kMaxBandWidth = 0.22;
constexpr double kMinPitch = 0.06, kMaxPitch = 0.2;  // bar pitch: 1/7 (SD), 3/28 (HD), 1/8 (EBU)
constexpr double kSlotSlack = 0.15;     // of the pitch: a band may overhang its slot this much (edge zones)
constexpr double kFullBand = 0.7;       // of the pitch: a band this wide is a whole bar (edge zones trimmed)
constexpr double kEdgeStep = 8;         // 8-bit levels between neighbouring bars' luma (>= 18 for 75% bars)
constexpr int kColourRefresh = 50;     // analysed pictures between colour readings of steady bars
constexpr const char* kOrder = "WYCGMRB";
constexpr int kSlots = 7;

// Colour class of a bar from its mean BGR: the channels above the midpoint of
// its range make the colour (yellow = red + green ...).
char classify(double b, double g, double r, double min_saturation) {
  const double mx = std::max({b, g, r}), mn = std::min({b, g, r});
  if (mx - mn < min_saturation) return mx >= 100 ? 'W' : 'K';
  const double mid = (mx + mn) / 2;
  const int bits = (r > mid ? 4 : 0) | (g > mid ? 2 : 0) | (b > mid ? 1 : 0);
  switch (bits) {
    case 6: return 'Y';
    case 3: return 'C';
    case 2: return 'G';
    case 5: return 'M';
    case 4: return 'R';
    case 1: return 'B';
    default: return '?';
  }
}

int order_of(char c) {
  for (int i = 0; i < kSlots; ++i)
    if (kOrder[i] == c) return i;
  return -1;
}

}  // namespace

#if defined(__SSE2__)
// Median and agreement of sixteen columns at once (every `step`-th column
// from x, step 1 or 4), when no exclusion region is set: the sixteen band
// rows' bytes of each column in the lanes of 16 vectors, sorted lane by lane
// with Batcher's odd-even merge network (63 min/max pairs). The median is
// sorted row 8, what nth_element gives for n = 16, and `near` counts rows
// within tol_levels of it, as the scalar loop does (integer differences
// against the tolerance rounded down). An order of magnitude fewer
// instructions than nth_element per column.
void column_medians16(const unsigned char* const* rows, int x, int step, int tol_levels, unsigned char* median,
                      unsigned char* near) {
  static_assert(kBandRows == 16);
  __m128i v[16];
  for (int i = 0; i < 16; ++i) {
    const unsigned char* p = rows[i] + x;
    if (step == 1) {
      v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    } else {
      // Bytes 0, 4, 8, ... of 64: the low byte of each 32-bit lane, packed.
      const __m128i low = _mm_set1_epi32(0xFF);
      const auto at = [&](int k) {
        return _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k)), low);
      };
      v[i] = _mm_packus_epi16(_mm_packs_epi32(at(0), at(1)), _mm_packs_epi32(at(2), at(3)));
    }
  }
  // The network's pairs, worked out once.
  struct Network {
    unsigned char lo[64], hi[64];
    int n = 0;
    Network() {
      for (int p = 1; p < 16; p <<= 1)
        for (int k = p; k >= 1; k >>= 1)
          for (int j = k % p; j + k < 16; j += 2 * k)
            for (int i = 0; i < k && i + j + k < 16; ++i)
              if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) {
                lo[n] = static_cast<unsigned char>(i + j);
                hi[n++] = static_cast<unsigned char>(i + j + k);
              }
    }
  };
  static const Network net;
  for (int c = 0; c < net.n; ++c) {
    const __m128i a = v[net.lo[c]], b = v[net.hi[c]];
    v[net.lo[c]] = _mm_min_epu8(a, b);
    v[net.hi[c]] = _mm_max_epu8(a, b);
  }
  const __m128i med = v[8], tol = _mm_set1_epi8(static_cast<char>(tol_levels)), zero = _mm_setzero_si128();
  __m128i count = zero;
  for (int i = 0; i < 16; ++i) {
    const __m128i d = _mm_or_si128(_mm_subs_epu8(v[i], med), _mm_subs_epu8(med, v[i]));
    count = _mm_sub_epi8(count, _mm_cmpeq_epi8(_mm_subs_epu8(d, tol), zero));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(median), med);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(near), count);
}
#endif

std::vector<int> BarsAnalyser::band_rows(int height) {
  std::vector<int> rows;
  for (int i = 0; i < kBandRows; ++i)
    rows.push_back(static_cast<int>((kBandTop + (kBandBottom - kBandTop) * i / (kBandRows - 1)) * height));
  return rows;
}

BarsVerdict BarsAnalyser::analyse_luma(const cv::Mat& luma) {
  BarsVerdict v;
  segments_.clear();
  if (luma.empty() || luma.type() != CV_8UC1 || luma.cols < 64 || luma.rows < 32) return v;
  const int w = width_ = luma.cols;
  rows_ = band_rows(luma.rows);
  const double tol = p_.column_tolerance;
  v.candidates = 0;

  // Quick rejection for programme: four rows of the band, every 8th column; a
  // column is flat when three of the four agree (an overlay may cover one).
  {
    const unsigned char* r[4] = {luma.ptr<unsigned char>(rows_[0]), luma.ptr<unsigned char>(rows_[5]),
                                 luma.ptr<unsigned char>(rows_[10]), luma.ptr<unsigned char>(rows_[15])};
    const int y[4] = {rows_[0], rows_[5], rows_[10], rows_[15]};
    int sampled = 0, flat = 0;
    for (int x = 0; x < w; x += 8) {
      bool masked = false;
      for (const cv::Rect& m : masked_)
        for (int i = 0; i < 4; ++i) masked = masked || m.contains({x, y[i]});
      if (masked) continue;
      ++sampled;
      int s[4] = {r[0][x], r[1][x], r[2][x], r[3][x]};
      std::sort(s, s + 4);
      flat += s[2] - s[0] <= 2 * tol || s[3] - s[1] <= 2 * tol;
    }
    if (flat * 5 < sampled * 2) return v;
  }

  // Every 4th column first: most programme that passed the quick test fails
  // here at a quarter of the cost; bar-like pictures are read in full.
  bands(luma, 4, v);
  if (v.candidates < p_.min_bars) return v;
  bands(luma, 1, v);
  return v;
}

void BarsAnalyser::bands(const cv::Mat& luma, int step, BarsVerdict& v) {
  const int w = luma.cols, n_cols = (w + step - 1) / step;
  const double tol = p_.column_tolerance;
  segments_.clear();
  v.candidates = 0;
  // Per column: the median over the band's rows that no exclusion region
  // covers (at least three), and whether most of them agree with it. An
  // overlay over fewer than half of a column's rows moves neither.
  profile_.assign(static_cast<size_t>(n_cols), 0.f);
  usable_.assign(static_cast<size_t>(n_cols), 0);
  int constant = 0;
  float column[kBandRows];
  int first_scalar = 0;  // columns before it were done sixteen at a time
#if defined(__SSE2__)
  if (masked_.empty() && (step == 1 || step == 4) && tol >= 0) {
    const unsigned char* rows[kBandRows];
    for (int i = 0; i < kBandRows; ++i) rows[i] = luma.ptr<unsigned char>(rows_[static_cast<size_t>(i)]);
    const int tol_levels = static_cast<int>(std::min(255.0, std::floor(tol)));
    alignas(16) unsigned char median[16], near[16];
    // A group reads 16 * step bytes from its first column.
    for (int& j = first_scalar; j + 16 <= n_cols && (j + 16) * step <= w; j += 16) {
      column_medians16(rows, j * step, step, tol_levels, median, near);
      for (int k = 0; k < 16; ++k) {
        profile_[static_cast<size_t>(j + k)] = median[k];
        if (near[k] * 2 > kBandRows) {
          usable_[static_cast<size_t>(j + k)] = 1;
          ++constant;
        }
      }
    }
  }
#endif
  for (int j = first_scalar; j < n_cols; ++j) {
    const int x = j * step;
    int n = 0;
    for (int i = 0; i < kBandRows; ++i) {
      const int y = rows_[static_cast<size_t>(i)];
      bool masked = false;
      for (const cv::Rect& m : masked_) masked = masked || m.contains({x, y});
      if (!masked) column[n++] = luma.ptr<unsigned char>(y)[x];
    }
    if (n < 3) continue;
    std::nth_element(column, column + n / 2, column + n);
    const float median = column[n / 2];
    profile_[static_cast<size_t>(j)] = median;
    int near = 0;
    for (int i = 0; i < n; ++i) near += std::abs(column[i] - median) <= tol;
    if (near * 2 > n) {
      usable_[static_cast<size_t>(j)] = 1;
      ++constant;
    }
  }
  v.constant_columns = static_cast<double>(constant) / n_cols;
  if (v.constant_columns < p_.min_constant_columns) return;

  // Flat bands: runs of agreeing columns between luma edges.
  for (int j = 1; j + 1 < n_cols; ++j)
    if (std::abs(profile_[static_cast<size_t>(j + 1)] - profile_[static_cast<size_t>(j - 1)]) >= kEdgeStep / 2)
      usable_[static_cast<size_t>(j)] = 0;
  const int min_w = std::max(3 * step, static_cast<int>(kMinBandWidth * w)), max_w = static_cast<int>(kMaxBandWidth * w);
  for (int j = 0; j < n_cols;) {
    if (!usable_[static_cast<size_t>(j)]) {
      ++j;
      continue;
    }
    int j1 = j;
    double sum = 0;
    float lo = 255, hi = 0;
    for (; j1 < n_cols && usable_[static_cast<size_t>(j1)]; ++j1) {
      const float p = profile_[static_cast<size_t>(j1)];
      sum += p;
      lo = std::min(lo, p);
      hi = std::max(hi, p);
    }
    // A ramp has no edges: it is one wide band, or not flat.
    const int x = j * step, x1 = std::min(w, j1 * step);
    if (x1 - x >= min_w && x1 - x <= max_w && hi - lo <= 2 * tol) {
      // The rows that show the bar at its middle column (not an overlay).
      Segment s{x, x1, sum / (j1 - j)};
      const int mid = (x + x1) / 2;
      for (int i = 0; i < kBandRows; ++i) {
        const int y = rows_[static_cast<size_t>(i)];
        bool masked = false;
        for (const cv::Rect& m : masked_) masked = masked || m.contains({mid, y});
        if (!masked && std::abs(luma.ptr<unsigned char>(y)[mid] - s.luma) <= tol) s.rows |= 1u << i;
      }
      segments_.push_back(s);
    }
    j = j1;
  }
  // Bars' luma falls bar by bar: the longest falling sequence of bands (with
  // gaps: covered bars) must be long enough before colour is worth reading.
  int longest = 0;
  falls_.assign(segments_.size(), 1);
  for (size_t i = 0; i < segments_.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (segments_[j].luma - segments_[i].luma >= kEdgeStep) falls_[i] = std::max(falls_[i], falls_[j] + 1);
    longest = std::max(longest, falls_[i]);
  }
  v.candidates = longest;
}

bool BarsAnalyser::colours_known() {
  // Every so often the colours are read afresh (a bar an overlay uncovered).
  if (known_.empty() || ++since_colour_ >= kColourRefresh) return false;
  int matched = 0;
  for (Segment& s : segments_) {
    s.cls = '?';
    for (const Segment& k : known_) {
      if (std::abs(s.x0 - k.x0) <= 1 && std::abs(s.x1 - k.x1) <= 1 && std::abs(s.luma - k.luma) <= p_.column_tolerance / 2) {
        s.cls = k.cls;
        ++matched;
        break;
      }
    }
  }
  // Bands that changed (a running clock, a box moving over the bars) are
  // left unclassified while enough bands are known to judge the pattern.
  return matched == static_cast<int>(segments_.size()) || matched >= p_.min_bars;
}

void BarsAnalyser::analyse_colour(const cv::Mat& bgr, cv::Size luma_size) {
  since_colour_ = 0;
  if (bgr.empty() || bgr.type() != CV_8UC3 || luma_size.width <= 0 || luma_size.height <= 0) return;
  const double sx = static_cast<double>(bgr.cols) / luma_size.width;
  const double sy = static_cast<double>(bgr.rows) / luma_size.height;
  for (Segment& s : segments_) {
    // The middle half of the band, away from edge ringing, in the rows whose
    // luma agrees with the band's (not under an overlay).
    const int q = (s.x1 - s.x0) / 4;
    const int x0 = static_cast<int>((s.x0 + q) * sx);
    const int x1 = std::min(bgr.cols, std::max(x0 + 1, static_cast<int>((s.x1 - q) * sx)));
    double b = 0, g = 0, r = 0;
    int n = 0;
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (!(s.rows >> i & 1)) continue;
      const int row = rows_[i];
      const int yy = std::min(bgr.rows - 1, static_cast<int>(row * sy));
      const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(yy);
      for (int x = x0; x < x1; ++x, ++n) {
        b += p[x][0];
        g += p[x][1];
        r += p[x][2];
      }
    }
    s.cls = n == 0 ? '?' : classify(b / n, g / n, r / n, p_.min_saturation);
  }
}

void BarsAnalyser::fit_slots(BarsVerdict& v) {
  const int n = static_cast<int>(segments_.size());
  const double w = width_;
  int best = 0, best_width = 0;
  for (int i = 0; i < n; ++i) {
    const int ki = order_of(segments_[static_cast<size_t>(i)].cls);
    if (ki < 0) continue;
    for (int j = i + 1; j < n; ++j) {
      const int kj = order_of(segments_[static_cast<size_t>(j)].cls);
      if (kj <= ki) continue;
      // The pitch and first bar's edge that put both bands in their own slot.
      const double ci = (segments_[static_cast<size_t>(i)].x0 + segments_[static_cast<size_t>(i)].x1) / 2.0;
      const double cj = (segments_[static_cast<size_t>(j)].x0 + segments_[static_cast<size_t>(j)].x1) / 2.0;
      const double pitch = (cj - ci) / (kj - ki);
      if (pitch < kMinPitch * w || pitch > kMaxPitch * w) continue;
      const double x0 = ci - (ki + 0.5) * pitch;
      int slots = 0, width = 0;
      double last_luma = 1e9;
      bool falling = true;
      for (const Segment& s : segments_) {
        const double c = (s.x0 + s.x1) / 2.0;
        const int slot = static_cast<int>(std::floor((c - x0) / pitch));
        if (slot < 0 || slot >= kSlots || kOrder[slot] != s.cls || (slots >> slot & 1)) continue;
        if (s.x0 < x0 + (slot - kSlotSlack) * pitch || s.x1 > x0 + (slot + 1 + kSlotSlack) * pitch) continue;
        // Luma falls bar by bar in the canonical order.
        falling = falling && s.luma <= last_luma - kEdgeStep;
        last_luma = s.luma;
        slots |= 1 << slot;
        width += s.x1 - s.x0;
      }
      const int count = __builtin_popcount(static_cast<unsigned>(slots));
      if (!falling || count < best || (count == best && width <= best_width)) continue;
      best = count;
      best_width = width;
      v.x0 = x0;
      v.pitch = pitch;
    }
  }
  v.colour_bars = best;
  v.bars = best >= p_.min_bars;
  if (best == 0) return;
  refine(v);
  // Evidence: the class found in each slot ('.' for none), and EBU's black
  // eighth bar when it is there.
  std::string colours(kSlots, '.');
  bool black_bar = false;
  for (const Segment& s : segments_) {
    const double c = (s.x0 + s.x1) / 2.0;
    const int slot = static_cast<int>(std::floor((c - v.x0) / v.pitch));
    if (slot >= 0 && slot < kSlots && (colours[static_cast<size_t>(slot)] == '.' || s.cls == kOrder[slot]))
      colours[static_cast<size_t>(slot)] = s.cls;
    black_bar = black_bar || (slot == kSlots && s.cls == 'K');
  }
  v.colours = colours + (black_bar ? "K" : "");
}

void BarsAnalyser::refine(BarsVerdict& v) const {
  // Least squares over the bands that fill their slot: a band an overlay cuts
  // short has its centre off the slot's, which would move the geometry with
  // a moving overlay.
  double n = 0, sk = 0, sc = 0, skk = 0, skc = 0;
  for (const Segment& s : segments_) {
    const double c = (s.x0 + s.x1) / 2.0;
    const int slot = static_cast<int>(std::floor((c - v.x0) / v.pitch));
    if (slot < 0 || slot >= kSlots || kOrder[slot] != s.cls || s.x1 - s.x0 < kFullBand * v.pitch) continue;
    const double k = slot + 0.5;
    n += 1;
    sk += k;
    sc += c;
    skk += k * k;
    skc += k * c;
  }
  const double det = n * skk - sk * sk;
  if (n < 2 || det <= 0) return;
  v.pitch = (n * skc - sk * sc) / det;
  v.x0 = (sc - v.pitch * sk) / n;
}

}  // namespace avmon::video
