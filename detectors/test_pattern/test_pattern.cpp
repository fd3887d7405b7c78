#include "test_pattern/test_pattern.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "avmon/registry.hpp"

namespace avmon::video {

namespace {

// The band examined: below any top caption, above SMPTE's lower castellations
// (the top bars fill 2/3 of SMPTE bars and 7/12 of HD bars, all of EBU bars).
constexpr double kBandTop = 0.12, kBandBottom = 0.55;
constexpr int kBandRows = 10;
constexpr double kMinBarWidth = 0.04;   // of the picture width (bars are ~1/7 or 1/8)
constexpr double kMaxBarWidth = 0.25;
constexpr double kEdgeStep = 8;         // 8-bit levels between neighbouring bars' luma (>= 18 for 75% bars)
constexpr const char* kOrder = "WYCGMRB";

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

}  // namespace

BarsVerdict BarsAnalyser::analyse_luma(const cv::Mat& luma) {
  BarsVerdict v;
  if (luma.empty() || luma.type() != CV_8UC1 || luma.cols < 64 || luma.rows < 32) return v;
  const int w = luma.cols;
  rows_.clear();
  for (int i = 0; i < kBandRows; ++i)
    rows_.push_back(static_cast<int>((kBandTop + (kBandBottom - kBandTop) * i / (kBandRows - 1)) * luma.rows));

  // Pixels inside an exclusion region are not read: a column is judged on
  // its other rows, and a column with fewer than three left takes its
  // neighbour's value.
  const bool masked = !mask_.empty();
  const auto hidden = [&](int x, int row) { return masked && mask_.covers(luma.size(), x, row); };
  // Quick rejection for programme: three rows of the band, every 8th column.
  {
    const unsigned char* ra = luma.ptr<unsigned char>(rows_.front());
    const unsigned char* rb = luma.ptr<unsigned char>(rows_[rows_.size() / 2]);
    const unsigned char* rc = luma.ptr<unsigned char>(rows_.back());
    int sampled = 0, flat = 0;
    for (int x = 0; x < w; x += 8) {
      if (hidden(x, rows_.front()) || hidden(x, rows_[rows_.size() / 2]) || hidden(x, rows_.back())) continue;
      ++sampled;
      const int mx = std::max({ra[x], rb[x], rc[x]}), mn = std::min({ra[x], rb[x], rc[x]});
      flat += mx - mn <= 2 * p_.column_tolerance;
    }
    // A caption may cover one of the three rows everywhere; half must agree.
    if (flat < sampled / 2) return v;
  }
  // Per column: the median over the band's rows (a caption or ident box over
  // a few rows does not move it), and whether the column is constant.
  profile_.assign(static_cast<size_t>(w), -1.f);
  int constant = 0, judged = 0;
  float column[kBandRows];
  for (int x = 0; x < w; ++x) {
    int n = 0;
    for (int i = 0; i < kBandRows; ++i)
      if (!hidden(x, rows_[static_cast<size_t>(i)])) column[n++] = luma.ptr<unsigned char>(rows_[static_cast<size_t>(i)])[x];
    if (n < 3) continue;
    ++judged;
    std::nth_element(column, column + n / 2, column + n);
    const float median = column[n / 2];
    profile_[static_cast<size_t>(x)] = median;
    int near = 0;
    for (int i = 0; i < n; ++i) near += std::abs(column[i] - median) <= p_.column_tolerance;
    constant += near >= n * 8 / 10;
  }
  if (judged == 0) return v;
  if (judged < w) {
    // Hidden columns continue the band on their left (on their right at the
    // picture's left edge).
    const auto first = std::find_if(profile_.begin(), profile_.end(), [](float f) { return f >= 0; });
    std::fill(profile_.begin(), first, *first);
    for (size_t x = 1; x < profile_.size(); ++x)
      if (profile_[x] < 0) profile_[x] = profile_[x - 1];
  }
  v.constant_columns = static_cast<double>(constant) / judged;
  if (v.constant_columns < p_.min_constant_columns) return v;

  // Flat bands between luma edges.
  steps_.assign(static_cast<size_t>(w), 0);
  for (int x = 1; x + 1 < w; ++x)
    steps_[static_cast<size_t>(x)] =
        std::abs(profile_[static_cast<size_t>(x + 1)] - profile_[static_cast<size_t>(x - 1)]) >= kEdgeStep / 2;
  segments_.clear();
  const int min_w = std::max(3, static_cast<int>(kMinBarWidth * w));
  for (int x = 0; x < w;) {
    if (steps_[static_cast<size_t>(x)]) {
      ++x;
      continue;
    }
    int x1 = x;
    while (x1 < w && !steps_[static_cast<size_t>(x1)]) ++x1;
    if (x1 - x >= min_w) {
      double sum = 0;
      for (int i = x; i < x1; ++i) sum += profile_[static_cast<size_t>(i)];
      segments_.push_back({x, x1, sum / (x1 - x)});
    }
    x = x1;
  }
  // Longest run of adjacent bands of bar width whose luma falls bar by bar.
  const int max_w = static_cast<int>(kMaxBarWidth * w), max_gap = std::max(3, w / 20);  // edge zones widen with ringing and chroma bleed
  run_.clear();
  std::vector<Segment>& cur = cur_;
  cur.clear();
  for (const Segment& s : segments_) {
    const bool fits = s.x1 - s.x0 <= max_w;
    if (fits && !cur.empty() && s.x0 - cur.back().x1 <= max_gap && s.luma <= cur.back().luma - kEdgeStep) {
      cur.push_back(s);
    } else {
      cur.clear();
      if (fits) cur.push_back(s);
    }
    if (cur.size() > run_.size()) run_ = cur;
  }
  v.staircase = static_cast<int>(run_.size());
  return v;
}

void BarsAnalyser::analyse_colour(const cv::Mat& bgr, cv::Size luma_size, BarsVerdict& v) {
  if (bgr.empty() || bgr.type() != CV_8UC3 || luma_size.width <= 0 || luma_size.height <= 0) return;
  const double sx = static_cast<double>(bgr.cols) / luma_size.width;
  const double sy = static_cast<double>(bgr.rows) / luma_size.height;
  std::string classes;
  for (const Segment& s : run_) {
    // The middle half of the bar, away from edge ringing.
    const int q = (s.x1 - s.x0) / 4;
    const int x0 = static_cast<int>((s.x0 + q) * sx), x1 = std::max(x0 + 1, static_cast<int>((s.x1 - q) * sx));
    double b = 0, g = 0, r = 0;
    int n = 0;
    for (int row : rows_) {
      const int yy = std::min(bgr.rows - 1, static_cast<int>(row * sy));
      const cv::Vec3b* p = bgr.ptr<cv::Vec3b>(yy);
      for (int x = x0; x < x1 && x < bgr.cols; ++x) {
        if (!mask_.empty() && mask_.covers(luma_size, static_cast<int>(x / sx), row)) continue;
        ++n;
        b += p[x][0];
        g += p[x][1];
        r += p[x][2];
      }
    }
    if (n == 0) return;
    classes += classify(b / n, g / n, r / n, p_.min_saturation);
  }
  v.colours = classes;
  // Longest stretch whose classes follow the canonical order (one may be
  // missing, e.g. merged into a neighbour by a caption).
  const std::string order = kOrder;
  int best = 0, len = 0, skips = 0;
  size_t last = std::string::npos;
  for (char c : classes) {
    const size_t pos = order.find(c);
    if (pos != std::string::npos && last != std::string::npos && pos > last && pos - last - 1 + skips <= 1) {
      skips += static_cast<int>(pos - last - 1);
      ++len;
    } else {
      len = pos == std::string::npos ? 0 : 1;
      skips = 0;
    }
    last = pos;
    best = std::max(best, len);
  }
  v.colour_bars = best;
  v.bars = best >= p_.min_bars;
}

TestPatternDetector::TestPatternDetector(const Options& o)
    : analyser_(TestPatternParams{o.get_double("column_tolerance"), o.get_double("min_constant_columns"),
                                  static_cast<int>(o.get_int("min_bars")), o.get_double("min_saturation"),
                                  o.get_regions("exclude_regions")}) {}

void TestPatternDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const BarsVerdict v = analyser_.analyse(frame.luma_even_rows(), [&frame]() -> const cv::Mat& { return frame.bgr(); });
  Observation obs;
  obs.type = "test_pattern";
  obs.media_time_s = frame.media_time_s();
  obs.active = v.bars;
  obs.score = v.colour_bars;
  if (v.bars)
    obs.details = {{"pattern", "colour_bars"},
                   {"bars", v.colour_bars},
                   {"colours", v.colours},
                   {"constant_columns", std::round(v.constant_columns * 1000) / 1000}};
  out.observe(std::move(obs));
}

DetectorInfo describe_test_pattern() {
  DetectorInfo d;
  d.name = "test_pattern";
  d.summary = "colour bars (SMPTE, EBU, HD) or a similar static line-up pattern instead of programme";
  d.media = kVideo;
  // Pictures needed: bars are a steady picture: reference pictures show them as well as every picture.
  d.pictures = PictureNeed::Reference;
  d.types = {"test_pattern"};
  d.suppresses = {"freeze", "black"};
  d.min_duration_s = 1.0;
  d.hold_off_s = 0.5;
  d.severity = "major";
  d.options = {
      {"column_tolerance", OptionType::Double, 6.0, 0.0, 64.0, "8-bit levels",
       "a bar column's luma may vary this much over the examined band (noise, coding)", {}},
      {"min_constant_columns", OptionType::Double, 0.8, 0.1, 1.0, "fraction",
       "share of the picture's columns that must be constant down the band (the rest: captions, idents)", {}},
      {"min_bars", OptionType::Int, std::int64_t{6}, 3.0, 7.0, "bars",
       "bars of the canonical order (white yellow cyan green magenta red blue) that must be found", {}},
      {"min_saturation", OptionType::Double, 40.0, 10.0, 255.0, "8-bit levels",
       "spread of a colour bar's RGB (max - min) that makes it a colour rather than grey", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    return std::make_unique<TestPatternDetector>(o);
  };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(test_pattern, avmon::video::describe_test_pattern);
