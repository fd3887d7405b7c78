#include "black/black.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "avmon/registry.hpp"
#include "video_common/levels.hpp"

namespace avmon::video {

namespace {

// 8x8 blocks at analysis size (about 60x34 of them): large enough that noise
// averages out in a block's mean, small enough that a logo's surroundings
// still count as black. Statistics come from every other row of a block,
// i.e. kBlockRows rows of luma_even_rows().
constexpr int kBlock = 8;
constexpr int kBlockRows = kBlock / 2;

}  // namespace

void BlackAnalyser::layout(int cols, int rows) {
  cols_ = cols;
  rows_ = rows;
  bw_ = cols / kBlock;
  bh_ = rows / kBlockRows;
  block_sum_.assign(static_cast<size_t>(bw_) * static_cast<size_t>(bh_), 0);
}

namespace {

// Sum of the squares of one block's 32 pixels (rows `first`, `first` + 1, ...
// of the even-row picture, columns x .. x + 7).
unsigned block_squares(const cv::Mat& luma, int first, int x) {
  unsigned sq = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  __m128i acc = zero;
  for (int y = 0; y < kBlockRows; ++y) {
    const __m128i px = _mm_unpacklo_epi8(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(luma.ptr<unsigned char>(first + y) + x)), zero);
    acc = _mm_add_epi32(acc, _mm_madd_epi16(px, px));
  }
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(1, 0, 3, 2)));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, _MM_SHUFFLE(2, 3, 0, 1)));
  sq = static_cast<unsigned>(_mm_cvtsi128_si32(acc));
#else
  for (int y = 0; y < kBlockRows; ++y) {
    const unsigned char* row = luma.ptr<unsigned char>(first + y) + x;
    for (int i = 0; i < kBlock; ++i) sq += static_cast<unsigned>(row[i]) * row[i];
  }
#endif
  return sq;
}

}  // namespace

BlackVerdict BlackAnalyser::analyse(const cv::Mat& luma, int black_level) {
  BlackVerdict v;
  if (luma.empty() || luma.type() != CV_8UC1 || luma.cols < kBlock || luma.rows < kBlockRows) return v;
  if (luma.cols != cols_ || luma.rows != rows_) layout(luma.cols, luma.rows);
  // A block that overlaps an exclusion region is left out of every step.
  const std::vector<unsigned char>& excluded = mask_.blocks(luma.size(), kBlock, kBlockRows);

  // Block sums (from every other row: enough for noise statistics), two
  // blocks per psadbw; a histogram of the means (1/4-level bins) gives the
  // picture's black reference without sorting. Sums of squares are read
  // later, only for the blocks that may be black: most pictures have none,
  // and a picture whose reference is above the ceiling has none at all.
  constexpr double inv_n = 1.0 / (kBlock * kBlockRows);
  int hist[1024] = {0};
  int analysed = 0;
  std::uint64_t sum_total = 0;
  for (int by = 0; by < bh_; ++by) {
    const unsigned char* rows[kBlockRows];
    for (int y = 0; y < kBlockRows; ++y) rows[y] = luma.ptr<unsigned char>(by * kBlockRows + y);
    std::uint16_t* sums = block_sum_.data() + static_cast<size_t>(by) * static_cast<size_t>(bw_);
    int bx = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    static_assert(kBlockRows == 4);
    // Written out: the compiler keeps a loop over the rows otherwise.
    const unsigned char *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const auto sad = [zero](const unsigned char* p) {
      return _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), zero);
    };
    for (; bx + 1 < bw_; bx += 2) {
      const int x = bx * kBlock;
      const __m128i vsum = _mm_add_epi32(_mm_add_epi32(sad(r0 + x), sad(r1 + x)), _mm_add_epi32(sad(r2 + x), sad(r3 + x)));
      sums[bx] = static_cast<std::uint16_t>(_mm_cvtsi128_si32(vsum));
      sums[bx + 1] = static_cast<std::uint16_t>(_mm_extract_epi16(vsum, 4));
    }
#endif
    for (; bx < bw_; ++bx) {
      unsigned sum = 0;
      for (int y = 0; y < kBlockRows; ++y)
        for (int x = bx * kBlock; x < (bx + 1) * kBlock; ++x) sum += rows[y][x];
      sums[bx] = static_cast<std::uint16_t>(sum);
    }
    const unsigned char* skip = excluded.data() + static_cast<size_t>(by) * static_cast<size_t>(bw_);
    for (bx = 0; bx < bw_; ++bx) {
      if (skip[bx]) continue;
      // sum / 8 is the mean in quarter levels.
      ++hist[std::min(1023, sums[bx] >> 3)];
      sum_total += sums[bx];
      ++analysed;
    }
  }
  if (analysed == 0) return v;
  // Sums of whole multiples of 1/32 in a double are exact: this is the mean of the block means.
  v.mean = static_cast<double>(sum_total) * inv_n / analysed;

  // The reference is a low percentile of block means: with a logo on black
  // most blocks are black, so the 25th percentile is black level itself.
  const int want = std::max(1, analysed / 4);
  int acc = 0, bin = 0;
  for (; bin < 1024; ++bin) {
    acc += hist[bin];
    if (acc >= want) break;
  }
  v.level = (bin + 0.5) / 4.0;

  const double ceiling = black_level + p_.luma_threshold;
  int black_blocks = 0;
  if (v.level <= ceiling) {
    for (size_t bi = 0; bi < block_sum_.size(); ++bi) {
      if (excluded[bi]) continue;
      const double m = block_sum_[bi] * inv_n;
      if (m > ceiling || std::abs(m - v.level) > p_.uniformity_tolerance) continue;
      const int by = static_cast<int>(bi / static_cast<size_t>(bw_)), bx = static_cast<int>(bi % static_cast<size_t>(bw_));
      const unsigned sq = block_squares(luma, by * kBlockRows, bx * kBlock);
      const float deviation = static_cast<float>(std::sqrt(std::max(0.0, sq * inv_n - m * m)));
      if (deviation <= p_.noise_threshold) ++black_blocks;
    }
  }
  v.black_fraction = static_cast<double>(black_blocks) / analysed;
  v.black = v.black_fraction >= 1.0 - p_.max_content_fraction;
  return v;
}

namespace {

BlackParams params_from(const Options& o) {
  BlackParams p;
  p.luma_threshold = o.get_double("luma_threshold");
  p.uniformity_tolerance = o.get_double("uniformity_tolerance");
  p.noise_threshold = o.get_double("noise_threshold");
  p.max_content_fraction = o.get_double("max_content_fraction");
  p.exclude_regions = o.get_regions("exclude_regions");
  return p;
}

}  // namespace

BlackDetector::BlackDetector(const Options& o) : analyser_(params_from(o)) {}

void BlackDetector::configure(const StreamInfo&) {}

void BlackDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const BlackVerdict v = analyser_.analyse(frame.luma_even_rows(), black_level_of(frame));
  Observation obs;
  obs.type = "black";
  obs.media_time_s = frame.media_time_s();
  obs.active = v.black;
  obs.score = v.black_fraction;
  if (v.black)
    obs.details = {{"black_fraction", std::round(v.black_fraction * 1000) / 1000},
                   {"black_level", std::round(v.level * 10) / 10},
                   {"mean_luma", std::round(v.mean * 10) / 10}};
  out.observe(std::move(obs));
}

DetectorInfo describe_black() {
  DetectorInfo d;
  d.name = "black";
  d.summary = "black picture (a small logo or caption left on black is still black; a dark scene is not)";
  d.media = kVideo;
  // Pictures needed: a black picture stays black from one reference picture to the next; the picture rate
  // only sets how finely the onset is timed.
  d.pictures = PictureNeed::Reference;
  d.types = {"black"};
  // A black picture is also a still one (freeze) and not a card (slate): one incident, one alarm.
  d.suppresses = {"freeze", "slate"};
  d.min_duration_s = 1.0;
  d.hold_off_s = 0.5;
  d.severity = "critical";
  d.options = {
      {"luma_threshold", OptionType::Double, 10.0, 0.0, 64.0, "8-bit levels",
       "a black area's mean luma is at most this far above black level (16 limited, 0 full range)", {}},
      {"uniformity_tolerance", OptionType::Double, 2.0, 0.5, 32.0, "8-bit levels",
       "black areas all lie within this of the picture's black; a dark scene's shadows do not", {}},
      {"noise_threshold", OptionType::Double, 4.0, 0.0, 64.0, "8-bit levels",
       "largest standard deviation inside an 8x8 analysis block that is still black (noise, grain)", {}},
      {"max_content_fraction", OptionType::Double, 0.1, 0.0, 0.5, "fraction",
       "share of the picture that may hold something else (logo, caption) on a black picture", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<BlackDetector>(o); };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(black, avmon::video::describe_black);
