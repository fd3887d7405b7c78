#include "corruption/corruption.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "avmon/registry.hpp"

namespace avmon::video {

namespace {

constexpr double kBaselineRatio = 2.5;
// Horizontal grid lines are examined on every column, vertical ones on one
// row per examined macroblock row; vertical positions count this many times
// so that the two directions weigh about the same (damage that smears
// sideways shows mostly on vertical lines).
constexpr int kVerticalWeight = 4;
constexpr int kMinPictureStreak = 2;

// The edge test in integers, so that the vector and scalar paths agree bit
// for bit: a step is broken when it is at least min_step and at least
// ratio * (the larger neighbouring gradient) + 2, with the ratio in 1/256ths.
struct EdgeTest {
  int min_step;   // at least 2: a step below 2 can never beat ratio * 0 + 2
  int ratio_q8;   // step_ratio * 256 (<= 50 * 256, so products fit in 16 bits)
  // The ratio when it is a whole 2, 3 or 4 and min_step is below 255, else
  // 0. Then the test fits in bytes: ratio * m + 2 by saturating adds is
  // exact up to 254 and 255 means "more than any step" (253 is no multiple
  // of 2, 3 or 4, so a true 255 cannot occur), and it is
  // max(ratio * m + 2, min_step) <= min(step, 254). A third fewer
  // instructions than the 16-bit multiply; the default ratio is 3.
  int byte_ratio;
  explicit EdgeTest(const GridParams& p)
      : min_step(std::clamp(p.min_step, 2, 255)),
        ratio_q8(static_cast<int>(std::lround(std::clamp(p.step_ratio, 0.0, 50.0) * 256))),
        byte_ratio(ratio_q8 % 256 == 0 && ratio_q8 >= 512 && ratio_q8 <= 1024 && min_step <= 254 ? ratio_q8 / 256 : 0) {}
  bool broken(int step, int n1, int n2) const {
    return step >= min_step && ((std::max(n1, n2) * ratio_q8) >> 8) + 2 <= step;
  }
};

#if defined(__x86_64__)
// The byte form of the test (EdgeTest::byte_ratio): declares OUT, 0xFF in
// the lanes of broken steps. K is the ratio. (Statements, not a lambda: a
// lambda would not inherit the AVX2 target of the function around it.)
#define AVMON_EDGE_BYTES(OUT, V, SUBS, ADDS, OR, MAX, MIN, CMPEQ, K, a2, a1, a0, b1, two, min_step, cap, zero)         \
  const V OUT##_step = OR(SUBS(a0, a1), SUBS(a1, a0));                                                              \
  const V OUT##_m = MAX(OR(SUBS(a1, a2), SUBS(a2, a1)), OR(SUBS(b1, a0), SUBS(a0, b1)));                            \
  V OUT##_km = ADDS(OUT##_m, OUT##_m);                                                                              \
  if constexpr ((K) == 3) OUT##_km = ADDS(OUT##_km, OUT##_m);                                                       \
  if constexpr ((K) == 4) OUT##_km = ADDS(OUT##_km, OUT##_km);                                                      \
  const V OUT = CMPEQ(SUBS(MAX(ADDS(OUT##_km, two), min_step), MIN(OUT##_step, cap)), zero)

// The edge test in its general, 16-bit form (any ratio_q8): OUT is 0xFF in
// the lanes of a broken step. Shared by the row and the column kernels.
#define AVMON_EDGE_WORDS(OUT, V, SUBS, OR, MAX, CMPEQ, UNPACKLO, UNPACKHI, MULHI, CMPGT, PACKS, ANDNOT, a2, a1, a0, b1, \
                         two, min_step, ratio, zero)                                                                 \
  const V OUT##_step = OR(SUBS(a0, a1), SUBS(a1, a0));                                                              \
  const V OUT##_m = MAX(OR(SUBS(a1, a2), SUBS(a2, a1)), OR(SUBS(b1, a0), SUBS(a0, b1)));                            \
  const V OUT##_big = CMPEQ(MAX(OUT##_step, min_step), OUT##_step);                                                 \
  const V OUT##_room = SUBS(OUT##_step, two);                                                                       \
  const V OUT##_lo = CMPGT(MULHI(UNPACKLO(zero, OUT##_m), ratio), UNPACKLO(OUT##_room, zero));                      \
  const V OUT##_hi = CMPGT(MULHI(UNPACKHI(zero, OUT##_m), ratio), UNPACKHI(OUT##_room, zero));                      \
  const V OUT = ANDNOT(PACKS(OUT##_lo, OUT##_hi), OUT##_big)

// Sixteen (SSE2) or thirty-two (AVX2) columns at a time: |a - b| as two
// saturating subtractions; the ratio test as a 16-bit high multiply,
// (m << 8) * ratio_q8 >> 16; broken lanes (0xFF) counted with psadbw.
// NAME##_bytes<K>: the byte form, broken lanes counted down in a byte per
// lane (at most 255 vectors before they are added up).
#define AVMON_EDGE_KERNEL(NAME, ATTR, V, P, LOAD, SETZERO, SET1_8, SET1_16, SUBS, OR, MAX, CMPEQ, UNPACKLO, UNPACKHI, \
                          MULHI, CMPGT, PACKS, ANDNOT, AND, SAD, ADD64, ADDS, MIN, SUB8, WIDTH)                      \
  template <int K>                                                                                                  \
  ATTR long long NAME##_bytes(const unsigned char* r_2, const unsigned char* r_1, const unsigned char* r0,          \
                              const unsigned char* r1, int cols, const EdgeTest& t, int& x) {                       \
    const V zero = SETZERO(), two = SET1_8(2), cap = SET1_8(static_cast<char>(254));                                \
    const V min_step = SET1_8(static_cast<char>(t.min_step));                                                      \
    V total = zero;                                                                                                 \
    while (x + (WIDTH) <= cols) {                                                                                   \
      V count = zero;                                                                                               \
      for (int i = 0; i < 255 && x + (WIDTH) <= cols; ++i, x += (WIDTH)) {                                          \
        const V a2 = LOAD(reinterpret_cast<const P*>(r_2 + x)), a1 = LOAD(reinterpret_cast<const P*>(r_1 + x));    \
        const V a0 = LOAD(reinterpret_cast<const P*>(r0 + x)), b1 = LOAD(reinterpret_cast<const P*>(r1 + x));      \
        AVMON_EDGE_BYTES(broken, V, SUBS, ADDS, OR, MAX, MIN, CMPEQ, K, a2, a1, a0, b1, two, min_step, cap, zero);  \
        count = SUB8(count, broken);                                                                                \
      }                                                                                                             \
      total = ADD64(total, SAD(count, zero));                                                                       \
    }                                                                                                               \
    alignas(32) long long lanes[(WIDTH) / 8];                                                                       \
    std::memcpy(lanes, &total, sizeof lanes);                                                                       \
    long long n = 0;                                                                                                \
    for (long long v : lanes) n += v;                                                                               \
    return n;                                                                                                       \
  }                                                                                                                 \
  ATTR int NAME(const unsigned char* r_2, const unsigned char* r_1, const unsigned char* r0, const unsigned char* r1,  \
                int cols, const EdgeTest& t, int& x) {                                                              \
    if (t.byte_ratio == 2) return static_cast<int>(NAME##_bytes<2>(r_2, r_1, r0, r1, cols, t, x));                 \
    if (t.byte_ratio == 3) return static_cast<int>(NAME##_bytes<3>(r_2, r_1, r0, r1, cols, t, x));                 \
    if (t.byte_ratio == 4) return static_cast<int>(NAME##_bytes<4>(r_2, r_1, r0, r1, cols, t, x));                 \
    const V zero = SETZERO(), two = SET1_8(2), one = SET1_8(1);                                                    \
    const V min_step = SET1_8(static_cast<char>(t.min_step));                                                      \
    const V ratio = SET1_16(static_cast<short>(t.ratio_q8));                                                       \
    V total = zero;                                                                                                 \
    for (; x + (WIDTH) <= cols; x += (WIDTH)) {                                                                     \
      const V a2 = LOAD(reinterpret_cast<const P*>(r_2 + x)), a1 = LOAD(reinterpret_cast<const P*>(r_1 + x));      \
      const V a0 = LOAD(reinterpret_cast<const P*>(r0 + x)), b1 = LOAD(reinterpret_cast<const P*>(r1 + x));        \
      AVMON_EDGE_WORDS(broken, V, SUBS, OR, MAX, CMPEQ, UNPACKLO, UNPACKHI, MULHI, CMPGT, PACKS, ANDNOT, a2, a1, a0,  \
                       b1, two, min_step, ratio, zero);                                                             \
      total = ADD64(total, SAD(AND(broken, one), zero));                                                            \
    }                                                                                                               \
    alignas(32) long long lanes[(WIDTH) / 8];                                                                       \
    std::memcpy(lanes, &total, sizeof lanes);                                                                       \
    long long n = 0;                                                                                                \
    for (long long v : lanes) n += v;                                                                               \
    return static_cast<int>(n);                                                                                     \
  }

AVMON_EDGE_KERNEL(broken_sse2, , __m128i, __m128i, _mm_loadu_si128, _mm_setzero_si128, _mm_set1_epi8, _mm_set1_epi16,
                  _mm_subs_epu8, _mm_or_si128, _mm_max_epu8, _mm_cmpeq_epi8, _mm_unpacklo_epi8, _mm_unpackhi_epi8,
                  _mm_mulhi_epu16, _mm_cmpgt_epi16, _mm_packs_epi16, _mm_andnot_si128, _mm_and_si128, _mm_sad_epu8,
                  _mm_add_epi64, _mm_adds_epu8, _mm_min_epu8, _mm_sub_epi8, 16)
AVMON_EDGE_KERNEL(broken_avx2, __attribute__((target("avx2"))), __m256i, __m256i, _mm256_loadu_si256,
                  _mm256_setzero_si256, _mm256_set1_epi8, _mm256_set1_epi16, _mm256_subs_epu8, _mm256_or_si256,
                  _mm256_max_epu8, _mm256_cmpeq_epi8, _mm256_unpacklo_epi8, _mm256_unpackhi_epi8, _mm256_mulhi_epu16,
                  _mm256_cmpgt_epi16, _mm256_packs_epi16, _mm256_andnot_si256, _mm256_and_si256, _mm256_sad_epu8,
                  _mm256_add_epi64, _mm256_adds_epu8, _mm256_min_epu8, _mm256_sub_epi8, 32)
#undef AVMON_EDGE_KERNEL

// The same test across the vertical grid lines of one row (steps between
// columns x-1 and x: the row against itself shifted), for 16-px blocks: a
// vector from a line on the grid holds it in lane 0 and the line 8 px off it
// in lane 8, and the next block's two in lanes 16 and 24 (AVX2; packs and
// unpacks keep the byte order within 128-bit lanes). Counts into on[c] and
// off[c] from column c while a vector's reads stay inside the row; returns
// the first column not done.
#define AVMON_COLUMN_KERNEL(NAME, ATTR, V, P, LOAD, SETZERO, SET1_8, SET1_16, SUBS, OR, MAX, CMPEQ, UNPACKLO,          \
                            UNPACKHI, MULHI, CMPGT, PACKS, ANDNOT, MOVEMASK, ADDS, MIN, WIDTH)                        \
  /* K: the byte form's ratio (EdgeTest::byte_ratio), 0 for the 16-bit one. */                                      \
  template <int K>                                                                                                   \
  ATTR int NAME##_k(const unsigned char* r, int cols, int c, int columns, const EdgeTest& t, unsigned short* on,      \
                    unsigned short* off) {                                                                           \
    const V zero = SETZERO(), two = SET1_8(2), cap = SET1_8(static_cast<char>(254));                                 \
    const V min_step = SET1_8(static_cast<char>(t.min_step));                                                        \
    const V ratio = SET1_16(static_cast<short>(t.ratio_q8));                                                         \
    constexpr int per = (WIDTH) / 16;                                                                                \
    for (; c + per <= columns && (c + 1) * 16 + (WIDTH) + 1 <= cols; c += per) {                                     \
      const unsigned char* x = r + (c + 1) * 16;                                                                     \
      const V a2 = LOAD(reinterpret_cast<const P*>(x - 2)), a1 = LOAD(reinterpret_cast<const P*>(x - 1));            \
      const V a0 = LOAD(reinterpret_cast<const P*>(x)), b1 = LOAD(reinterpret_cast<const P*>(x + 1));                \
      unsigned bits;                                                                                                 \
      if constexpr (K > 0) {                                                                                         \
        AVMON_EDGE_BYTES(broken, V, SUBS, ADDS, OR, MAX, MIN, CMPEQ, K, a2, a1, a0, b1, two, min_step, cap, zero);    \
        bits = static_cast<unsigned>(MOVEMASK(broken));                                                              \
      } else {                                                                                                       \
        AVMON_EDGE_WORDS(broken, V, SUBS, OR, MAX, CMPEQ, UNPACKLO, UNPACKHI, MULHI, CMPGT, PACKS, ANDNOT, a2, a1,    \
                         a0, b1, two, min_step, ratio, zero);                                                       \
        bits = static_cast<unsigned>(MOVEMASK(broken));                                                              \
      }                                                                                                              \
      for (int k = 0; k < per; ++k) {                                                                                \
        on[c + k] = static_cast<unsigned short>(on[c + k] + ((bits >> (16 * k)) & 1u));                              \
        off[c + k] = static_cast<unsigned short>(off[c + k] + ((bits >> (16 * k + 8)) & 1u));                        \
      }                                                                                                              \
    }                                                                                                                \
    return c;                                                                                                        \
  }                                                                                                                  \
  ATTR int NAME(const unsigned char* r, int cols, int c, int columns, const EdgeTest& t, unsigned short* on,          \
                unsigned short* off) {                                                                               \
    switch (t.byte_ratio) {                                                                                          \
      case 2: return NAME##_k<2>(r, cols, c, columns, t, on, off);                                                   \
      case 3: return NAME##_k<3>(r, cols, c, columns, t, on, off);                                                   \
      case 4: return NAME##_k<4>(r, cols, c, columns, t, on, off);                                                   \
      default: return NAME##_k<0>(r, cols, c, columns, t, on, off);                                                  \
    }                                                                                                                \
  }

AVMON_COLUMN_KERNEL(columns_sse2, , __m128i, __m128i, _mm_loadu_si128, _mm_setzero_si128, _mm_set1_epi8,
                    _mm_set1_epi16, _mm_subs_epu8, _mm_or_si128, _mm_max_epu8, _mm_cmpeq_epi8, _mm_unpacklo_epi8,
                    _mm_unpackhi_epi8, _mm_mulhi_epu16, _mm_cmpgt_epi16, _mm_packs_epi16, _mm_andnot_si128,
                    _mm_movemask_epi8, _mm_adds_epu8, _mm_min_epu8, 16)
AVMON_COLUMN_KERNEL(columns_avx2, __attribute__((target("avx2"))), __m256i, __m256i, _mm256_loadu_si256,
                    _mm256_setzero_si256, _mm256_set1_epi8, _mm256_set1_epi16, _mm256_subs_epu8, _mm256_or_si256,
                    _mm256_max_epu8, _mm256_cmpeq_epi8, _mm256_unpacklo_epi8, _mm256_unpackhi_epi8,
                    _mm256_mulhi_epu16, _mm256_cmpgt_epi16, _mm256_packs_epi16, _mm256_andnot_si256,
                    _mm256_movemask_epi8, _mm256_adds_epu8, _mm256_min_epu8, 32)
#undef AVMON_COLUMN_KERNEL
#undef AVMON_EDGE_BYTES
#undef AVMON_EDGE_WORDS
#endif

int broken_along_row(const unsigned char* r_2, const unsigned char* r_1, const unsigned char* r0,
                     const unsigned char* r1, int cols, const EdgeTest& t) {
  int n_broken = 0, x = 0;
#if defined(__x86_64__)
  // AVX2 packs and unpacks work within 128-bit lanes, which is harmless
  // here: every column is tested on its own and only the count is kept.
  static const bool avx2 = __builtin_cpu_supports("avx2");
  n_broken = avx2 ? broken_avx2(r_2, r_1, r0, r1, cols, t, x) : broken_sse2(r_2, r_1, r0, r1, cols, t, x);
#endif
  for (; x < cols; ++x)
    n_broken += t.broken(std::abs(r0[x] - r_1[x]), std::abs(r_1[x] - r_2[x]), std::abs(r1[x] - r0[x]));
  return n_broken;
}

}  // namespace

int broken_steps_along_row(const unsigned char* r_2, const unsigned char* r_1, const unsigned char* r0,
                           const unsigned char* r1, int cols, const GridParams& p) {
  return broken_along_row(r_2, r_1, r0, r1, cols, EdgeTest(p));
}

// Damage is concealed per macroblock, so edges on the 16-px grid are compared
// with edges 8 px off it: both are transform-block boundaries, so the
// blocking of clean heavy compression cancels, and what remains is
// macroblock-sized damage. Only every `phases`-th macroblock row is examined
// on one picture (rotating), which keeps the reads of the full-size plane to
// a fraction of it.
GridStats analyse_grid(const cv::Mat& y, const GridParams& p, int phase, RegionMask* mask) {
  GridStats s;
  const int b = p.block_px, half = b / 2, phases = std::max(1, p.phases);
  const EdgeTest edge(p);
  if (y.empty() || y.type() != CV_8UC1 || y.cols < 4 * b || y.rows < 4 * b) return s;
  phase = ((phase % phases) + phases) % phases;
  if (mask != nullptr && mask->empty()) mask = nullptr;
  // With exclusion regions, the columns a line may be examined on: spans of
  // the rows an edge test reads that no region touches.
  std::vector<std::pair<int, int>> spans;
  const auto in_spans = [&spans](int x0, int x1) {  // [x0, x1) inside one clear span
    for (const auto& [a, e] : spans)
      if (x0 >= a && x1 <= e) return true;
    return false;
  };
  // Vertical grid lines (steps between columns x-1 and x), on the middle row
  // of the examined macroblock rows. Broken counts are kept per grid column:
  // a column broken on most rows is a straight content edge (a graphic, a
  // pillarbox, a bar), not damage, and is left out.
  constexpr int kMaxColumns = 512;  // 8192 px / 16
  std::array<unsigned short, kMaxColumns> col_on{}, col_off{}, col_on_n{}, col_off_n{};
  const int columns = std::min(kMaxColumns, (y.cols - half - 2) / b);
  int vector_columns = 0, vector_rows = 0;  // columns [0, vector_columns) examined by vector on so many rows
  for (int mb = phase; (mb + 1) * b <= y.rows; mb += phases) {
    const int row = mb * b + half;
    const unsigned char* r = y.ptr<unsigned char>(row);
    if (mask != nullptr) mask->clear_spans(y.size(), row, row + 1, spans);
    int c = 0;
#if defined(__x86_64__)
    if (mask == nullptr && b == 16) {
      static const bool avx2 = __builtin_cpu_supports("avx2");
      if (avx2) c = columns_avx2(r, y.cols, c, columns, edge, col_on.data(), col_off.data());
      c = columns_sse2(r, y.cols, c, columns, edge, col_on.data(), col_off.data());
      vector_columns = c;  // the same on every row
      ++vector_rows;
    }
#endif
    for (; c < columns; ++c) {
      const int gx = (c + 1) * b;
      for (int off = 0; off <= half; off += half) {
        const int x = gx + off;
        if (mask != nullptr && !in_spans(x - 2, x + 2)) continue;
        const bool is_broken =
            edge.broken(std::abs(r[x] - r[x - 1]), std::abs(r[x - 1] - r[x - 2]), std::abs(r[x + 1] - r[x]));
        (off == 0 ? col_on : col_off)[static_cast<size_t>(c)] += is_broken;
        ++(off == 0 ? col_on_n : col_off_n)[static_cast<size_t>(c)];
      }
    }
  }
  for (int c = 0; c < vector_columns; ++c) {
    col_on_n[static_cast<size_t>(c)] = static_cast<unsigned short>(col_on_n[static_cast<size_t>(c)] + vector_rows);
    col_off_n[static_cast<size_t>(c)] = static_cast<unsigned short>(col_off_n[static_cast<size_t>(c)] + vector_rows);
  }
  for (int c = 0; c < columns; ++c) {
    const int on = col_on[static_cast<size_t>(c)], off = col_off[static_cast<size_t>(c)];
    const int on_n = col_on_n[static_cast<size_t>(c)], off_n = col_off_n[static_cast<size_t>(c)];
    if (on * 2 <= on_n) {
      s.on_grid += kVerticalWeight * on_n;
      s.on_broken += kVerticalWeight * on;
    }
    if (off * 2 <= off_n) {
      s.off_grid += kVerticalWeight * off_n;
      s.off_broken += kVerticalWeight * off;
    }
  }
  // Horizontal grid lines (steps between rows gy-1 and gy), on every column.
  for (int mb = phase + 1; mb * b + half + 1 < y.rows; mb += phases) {
    for (int off = 0; off <= half; off += half) {
      const int yy = mb * b + off;
      const unsigned char *r_2 = y.ptr<unsigned char>(yy - 2), *r_1 = y.ptr<unsigned char>(yy - 1);
      const unsigned char *r0 = y.ptr<unsigned char>(yy), *r1 = y.ptr<unsigned char>(yy + 1);
      int examined = y.cols, n_broken = 0;
      if (mask == nullptr) {
        n_broken = broken_along_row(r_2, r_1, r0, r1, y.cols, edge);
      } else {
        examined = 0;
        mask->clear_spans(y.size(), yy - 2, yy + 2, spans);
        for (const auto& [x0, x1] : spans) {
          examined += x1 - x0;
          n_broken += broken_along_row(r_2 + x0, r_1 + x0, r0 + x0, r1 + x0, x1 - x0, edge);
        }
      }
      // A line broken along most of its length is a straight content edge
      // (letterbox, lower third, the bottom of colour bars): left out.
      if (n_broken * 2 > examined) continue;
      if (off == 0) {
        s.on_grid += examined;
        s.on_broken += n_broken;
      } else {
        s.off_grid += examined;
        s.off_broken += n_broken;
      }
    }
  }
  return s;
}

namespace {

CorruptionParams params_from(const Options& o) {
  CorruptionParams p;
  p.grid.min_step = static_cast<int>(o.get_int("edge_min_step"));
  p.grid.step_ratio = o.get_double("edge_step_ratio");
  p.picture_threshold = o.get_double("picture_threshold");
  p.picture_jump = o.get_double("picture_jump");
  p.max_recovery_s = o.get_double("max_recovery_s");
  p.exclude_regions = o.get_regions("exclude_regions");
  return p;
}

}  // namespace

CorruptionDetector::CorruptionDetector(const Options& o) : p_(params_from(o)), mask_(p_.exclude_regions) {}

void CorruptionDetector::reset() {
  seen_key_ = false;
  damaged_ = false;
  decoder_evidence_ = false;
  baseline_ = -1;
  picture_streak_ = 0;
  incident_errors_ = incident_corrupt_frames_ = incident_picture_frames_ = 0;
  incident_peak_score_ = 0;
}

void CorruptionDetector::configure(const StreamInfo&) { reset(); }

void CorruptionDetector::on_discontinuity(double) {
  // After a gap the decoder rejoins the stream: errors before the next key
  // picture are the join, not damage. An open incident is ended by the host.
  reset();
}

void CorruptionDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const DecodeInfo& di = frame.decode_info();
  const double t = frame.media_time_s();
  const bool key = di.key_frame || di.pict_type == 'I';
  if (key) seen_key_ = true;

  const bool decoder_error = seen_key_ && (di.corrupt || di.decode_error_flags != 0 || di.errors_before > 0);
  const GridStats grid = analyse_grid(frame.luma_full(), p_.grid, static_cast<int>(frame.index() % 2), &mask_);
  const double score = grid.score();
  // Picture evidence alone must stand out from what this stream's clean
  // pictures look like (synthetic graphics and heavy compression have grid
  // edges of their own) and must last two pictures: damage persists until a
  // key picture, a single odd picture is not damage.
  const bool damaged_look = baseline_ >= 0 && score >= p_.picture_threshold && grid.concentrated_on_grid() &&
                            score >= kBaselineRatio * baseline_ + p_.picture_jump;
  if (damaged_look && picture_streak_ == 0) picture_streak_start_s_ = t;
  picture_streak_ = damaged_look ? picture_streak_ + 1 : 0;
  const bool picture_damage = picture_streak_ >= kMinPictureStreak;

  if (decoder_error || picture_damage) {
    if (!damaged_) {
      damaged_ = true;
      incident_start_s_ = decoder_error ? t : picture_streak_start_s_;
      decoder_evidence_ = false;
      incident_errors_ = incident_corrupt_frames_ = incident_picture_frames_ = 0;
      incident_peak_score_ = 0;
    }
    decoder_evidence_ = decoder_evidence_ || decoder_error;
    last_evidence_s_ = t;
    incident_errors_ += di.errors_before;
    incident_corrupt_frames_ += di.corrupt ? 1 : 0;
    incident_picture_frames_ += picture_damage ? 1 : 0;
    incident_peak_score_ = std::max(incident_peak_score_, score);
  } else if (damaged_) {
    // Predicted pictures inherit the damage: a clean key picture ends it. A
    // stream without key pictures (intra refresh) ends after a clean spell.
    const double clean_for_s = t - last_evidence_s_;
    if ((key && score < p_.picture_threshold) ||
        clean_for_s >= (decoder_evidence_ ? p_.max_recovery_s : p_.picture_recovery_s))
      damaged_ = false;
  }
  if (!damaged_) {
    // The baseline is what this stream's clean pictures look like (heavily
    // compressed MPEG-2 shows its grid); it moves slowly (~4 s at 25 fps).
    baseline_ = baseline_ < 0 ? score : baseline_ + (score - baseline_) * 0.01;
  }

  Observation obs;
  obs.type = "corruption";
  obs.media_time_s = t;
  obs.active = damaged_;
  if (damaged_) obs.since_s = incident_start_s_;
  obs.score = score;
  if (damaged_)
    obs.details = {{"decoder_errors", incident_errors_},
                   {"corrupt_frames", incident_corrupt_frames_},
                   {"picture_damaged_frames", incident_picture_frames_},
                   {"grid_score", std::round(score * 1000) / 1000},
                   {"peak_grid_score", std::round(incident_peak_score_ * 1000) / 1000},
                   {"evidence", decoder_evidence_ ? "decoder" : "picture"}};
  out.observe(std::move(obs));
}

DetectorInfo describe_corruption() {
  DetectorInfo d;
  d.name = "corruption";
  d.summary = "bitstream damage or packet loss: decoder errors and macroblock damage on the coding grid";
  d.media = kVideo;
  // Pictures needed: decoder errors and damage in any picture, non-reference ones included, and the loop
  // filter changes block edges.
  d.pictures = PictureNeed::All;
  d.types = {"corruption"};
  d.min_duration_s = 0.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.options = {
      {"edge_min_step", OptionType::Int, std::int64_t{20}, 1.0, 255.0, "8-bit levels",
       "a damaged block edge steps at least this much across the coding grid", {}},
      {"edge_step_ratio", OptionType::Double, 3.0, 1.0, 50.0, "ratio",
       "... and this many times the gradients beside it (content does not explain it)", {}},
      {"picture_threshold", OptionType::Double, 0.03, 0.001, 1.0, "fraction",
       "excess share of broken grid edges (on-grid minus off-grid) that is damage with no decoder error", {}},
      {"picture_jump", OptionType::Double, 0.02, 0.0, 1.0, "fraction",
       "... and how far above the stream's own clean baseline it must be (heavy compression is not damage)", {}},
      {"max_recovery_s", OptionType::Double, 10.0, 0.5, 600.0, "s",
       "with no clean key picture (intra refresh), a decoder-flagged incident ends after this long clean", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<CorruptionDetector>(o); };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(corruption, avmon::video::describe_corruption);
