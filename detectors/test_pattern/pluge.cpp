#include "test_pattern/pluge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace avmon::video {

namespace {

// The field: its level lies within this of the picture's black level (a
// lifted pedestal is still a PLUGE's field; dark grey is not).
constexpr int kMaxFieldOffset = 6;
// A stripe's level lies this far off the field: from about 1 % of the range
// (-2 % is 4.4 levels on a limited-range scale) to about 7 % (the +4 % and
// old +/-4 IRE pulses with coding overshoot); further off is a patch or an
// overlay, not a black-level stripe.
constexpr double kMinOffset = 2.5, kMaxOffset = 16;
// A pixel belongs to a stripe's run when it is at least this far off the
// field (edge pixels between field and stripe included, so the run's ends
// fall on the same columns row after row).
constexpr double kNearOffset = 2;
constexpr int kFlat = 3;                // 8-bit levels a run may span (coding noise)
constexpr double kMinWidth = 0.015;     // of the picture width
constexpr double kMaxWidth = 0.25;
constexpr double kMinHeight = 0.2;      // of the rows scanned: stripes are tall
constexpr int kEdgeSlack = 2;           // analysis columns a run's ends may wander (coding)
constexpr double kLevelSlack = 1.5;     // 8-bit levels the same stripe may wander
constexpr double kLevelGap = 2;         // 8-bit levels between distinct stripe levels
constexpr double kMinNearShare = 0.0025;  // of the sample: two narrow stripes are more
constexpr int kMaxTracks = 128;         // more runs than this: busy dark content
constexpr double kMaxGreySpread = 12;   // 8-bit RGB max - min of a grey stripe

int distinct_levels(std::vector<double> levels) {
  std::sort(levels.begin(), levels.end());
  int n = 0;
  double last = -1e9;
  for (double l : levels) {
    if (l - last >= kLevelGap) ++n;
    last = l;
  }
  return n;
}

bool same_place(const PlugeStripe& a, const PlugeStripe& b) {
  return std::abs(a.x0 - b.x0) <= kEdgeSlack && std::abs(a.x1 - b.x1) <= kEdgeSlack &&
         std::abs(a.level - b.level) <= kLevelSlack;
}

}  // namespace

void PlugeAnalyser::row_spans(int y, int width) {
  spans_.assign(1, {0, width});
  for (const cv::Rect& m : masked_) {
    if (y < m.y || y >= m.y + m.height) continue;
    std::vector<std::pair<int, int>> cut;
    for (const auto& [a, b] : spans_) {
      if (a < m.x) cut.emplace_back(a, std::min(b, m.x));
      if (b > m.x + m.width) cut.emplace_back(std::max(a, m.x + m.width), b);
    }
    spans_ = std::move(cut);
  }
}

PlugeVerdict PlugeAnalyser::analyse_luma(const cv::Mat& luma, int black_level) {
  PlugeVerdict v;
  if (luma.empty() || luma.type() != CV_8UC1 || luma.cols < 64 || luma.rows < 32) return v;
  const int w = luma.cols, h = luma.rows;

  // 1. The field: the commonest level of a sparse sample (every 4th row and
  // column). Programme rarely has four tenths of its picture on one level;
  // a black picture with nothing off black stops here too.
  int hist[256] = {0};
  int sampled = 0;
  for (int y = 1; y < h; y += 4) {
    row_spans(y, w);
    const unsigned char* p = luma.ptr<unsigned char>(y);
    for (const auto& [a, b] : spans_)
      for (int x = a + (4 - a % 4) % 4; x < b; x += 4, ++sampled) ++hist[p[x]];
  }
  if (sampled == 0) return v;
  const int mode = static_cast<int>(std::max_element(hist, hist + 256) - hist);
  if (std::abs(mode - black_level) > kMaxFieldOffset) return v;
  const int lo = std::max(0, mode - 1), hi = std::min(255, mode + 1);
  int field = 0;
  double level_sum = 0;
  for (int l = lo; l <= hi; ++l) {
    field += hist[l];
    level_sum += static_cast<double>(l) * hist[l];
  }
  v.black = level_sum / field;
  v.black_fraction = static_cast<double>(field) / sampled;
  if (v.black_fraction < p_.min_black_fraction) return v;
  int near = 0;
  for (int l = 0; l < 256; ++l) {
    const double off = std::abs(l - v.black);
    if (off >= kMinOffset && off <= kMaxOffset) near += hist[l];
  }
  if (near < kMinNearShare * sampled) return v;

  // 2. Flat runs off the field, every other row; a run that recurs on the
  // same columns at the same level row after row is a stripe's.
  const int min_w = std::max(3, static_cast<int>(std::lround(kMinWidth * w)));
  const int max_w = static_cast<int>(kMaxWidth * w);
  // Which levels are off the field (a table: the scan below reads every
  // pixel of every other row, mostly field).
  unsigned char off_field[256];
  for (int l = 0; l < 256; ++l) {
    const double off = std::abs(l - v.black);
    off_field[l] = off >= kNearOffset && off <= kMaxOffset;
  }
  tracks_.clear();
  int scanned = 0;
  for (int y = 0; y < h; y += 2, ++scanned) {
    row_spans(y, w);
    const unsigned char* p = luma.ptr<unsigned char>(y);
    for (const auto& [a, b] : spans_) {
      for (int x = a; x < b;) {
        if (!off_field[p[x]]) {
          ++x;
          continue;
        }
        const int x0 = x;
        int rmin = p[x], rmax = p[x];
        for (; x < b && off_field[p[x]]; ++x) {
          const int nmin = std::min(rmin, static_cast<int>(p[x])), nmax = std::max(rmax, static_cast<int>(p[x]));
          if (nmax - nmin > kFlat) break;
          rmin = nmin;
          rmax = nmax;
        }
        const int x1 = x;
        if (x1 - x0 < min_w || x1 - x0 > max_w) continue;
        // The level without the run's edge pixels.
        int sum = 0;
        for (int i = x0 + 1; i < x1 - 1; ++i) sum += p[i];
        const double level = static_cast<double>(sum) / (x1 - x0 - 2);
        const double off = std::abs(level - v.black);
        if (off < kMinOffset || off > kMaxOffset) continue;
        auto t = std::find_if(tracks_.begin(), tracks_.end(), [&](const Track& k) {
          return std::abs(k.x0 - x0) <= kEdgeSlack && std::abs(k.x1 - x1) <= kEdgeSlack &&
                 std::abs(k.level_sum / k.rows - level) <= kLevelSlack;
        });
        if (t != tracks_.end()) {
          t->level_sum += level;
          ++t->rows;
        } else if (tracks_.size() < static_cast<size_t>(kMaxTracks)) {
          tracks_.push_back({x0, x1, level, 1, y});
        } else {
          return v;
        }
      }
    }
  }

  // 3. Stripes: tall, and standing on the field at least on one side.
  const auto on_field = [&](int x, int y) {
    return x >= 0 && x < w && std::abs(luma.ptr<unsigned char>(y)[x] - v.black) <= 2;
  };
  for (const Track& t : tracks_) {
    if (t.rows < kMinHeight * scanned) continue;
    if (!on_field(t.x0 - 2, t.first_row) && !on_field(t.x1 + 1, t.first_row)) continue;
    v.stripes.push_back({t.x0, t.x1, t.level_sum / t.rows, t.rows, t.first_row, false});
  }
  std::sort(v.stripes.begin(), v.stripes.end(),
            [](const PlugeStripe& a, const PlugeStripe& b) { return a.x0 < b.x0; });
  return v;
}

bool PlugeAnalyser::colours_known(std::vector<PlugeStripe>& stripes) const {
  for (PlugeStripe& s : stripes) {
    auto k = std::find_if(known_.begin(), known_.end(), [&](const PlugeStripe& o) { return same_place(s, o); });
    if (k == known_.end()) return false;
    s.neutral = k->neutral;
  }
  return true;
}

void PlugeAnalyser::read_colours(const cv::Mat& bgr, cv::Size luma_size, std::vector<PlugeStripe>& stripes) const {
  if (bgr.empty() || bgr.type() != CV_8UC3 || luma_size.width <= 0 || luma_size.height <= 0) return;
  const double sx = static_cast<double>(bgr.cols) / luma_size.width;
  const double sy = static_cast<double>(bgr.rows) / luma_size.height;
  for (PlugeStripe& s : stripes) {
    // The middle half of the stripe on its first row (edges carry chroma
    // bleeding from the neighbours).
    const int q = (s.x1 - s.x0) / 4;
    const int x0 = std::min(bgr.cols - 1, static_cast<int>((s.x0 + q) * sx));
    const int x1 = std::min(bgr.cols, std::max(x0 + 1, static_cast<int>((s.x1 - q) * sx)));
    const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(std::min(bgr.rows - 1, static_cast<int>(s.first_row * sy)));
    double c[3] = {0, 0, 0};
    for (int x = x0; x < x1; ++x)
      for (int i = 0; i < 3; ++i) c[i] += p[x][i];
    const double spread = (std::max({c[0], c[1], c[2]}) - std::min({c[0], c[1], c[2]})) / (x1 - x0);
    s.neutral = spread <= kMaxGreySpread;
  }
}

void PlugeAnalyser::judge(PlugeVerdict& v) const {
  std::vector<double> levels;
  for (const PlugeStripe& s : v.stripes)
    if (s.neutral) levels.push_back(s.level);
  v.levels = distinct_levels(levels);
  v.pluge = v.levels >= p_.min_levels;
}

bool PlugeAnalyser::same_stripes(const std::vector<PlugeStripe>& then, const std::vector<PlugeStripe>& now) const {
  std::vector<double> levels;
  for (const PlugeStripe& a : then) {
    if (!a.neutral) continue;
    for (const PlugeStripe& b : now)
      if (b.neutral && same_place(a, b)) {
        levels.push_back(a.level);
        break;
      }
  }
  return distinct_levels(std::move(levels)) >= p_.min_levels;
}

}  // namespace avmon::video
