#include "pipeline/box_downscale.hpp"

#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#define AVMON_BOX_X86 1
#include <immintrin.h>
#endif

namespace avmon {

int box_rows(int height, int factor, int row_step) {
  if (row_step <= 0) row_step = factor;
  return height < factor ? 0 : (height - factor) / row_step + 1;
}

void box_downscale_reference(const std::uint8_t* src, int src_stride, int width, int height, int factor,
                             std::uint8_t* dst, int dst_stride, int row_step) {
  if (row_step <= 0) row_step = factor;
  const int out_w = width / factor, out_h = box_rows(height, factor, row_step), n = factor * factor;
  for (int oy = 0; oy < out_h; ++oy)
    for (int ox = 0; ox < out_w; ++ox) {
      int sum = 0;
      for (int y = oy * row_step; y < oy * row_step + factor; ++y)
        for (int x = ox * factor; x < (ox + 1) * factor; ++x) sum += src[static_cast<std::ptrdiff_t>(y) * src_stride + x];
      dst[static_cast<std::ptrdiff_t>(oy) * dst_stride + ox] = static_cast<std::uint8_t>((sum + n / 2) / n);
    }
}

namespace {

// The columns a kernel's vector loop leaves over at the right edge.
// `rows` points at the box's first row.
void tail(const std::uint8_t* rows, int src_stride, int factor, int from_ox, int out_w, std::uint8_t* dst_row) {
  const int n = factor * factor;
  for (int ox = from_ox; ox < out_w; ++ox) {
    int sum = 0;
    for (int y = 0; y < factor; ++y)
      for (int x = ox * factor; x < (ox + 1) * factor; ++x) sum += rows[static_cast<std::ptrdiff_t>(y) * src_stride + x];
    dst_row[ox] = static_cast<std::uint8_t>((sum + n / 2) / n);
  }
}

#if defined(AVMON_BOX_X86)

// --- SSE2 (every x86-64 CPU) ---------------------------------------------
// Factors 2 and 4 sum even and odd bytes of each row separately as 16-bit
// lanes (mask and shift), which adds rows exactly without unpacking; pmaddwd
// then adds neighbouring lanes. Factor 8 is psadbw against zero: the sum of
// eight bytes in one instruction.

inline __m128i load16(const std::uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// The decoded plane is usually out of the core's caches by the time a
// detector asks. The next box row starts row_step rows down, a jump the
// hardware prefetcher does not foresee; asking for it while this one is
// summed hides part of the wait (a fifth of the kernel's time from memory).
inline void prefetch_rows(const std::uint8_t* next, std::ptrdiff_t stride, int rows, int x, int bytes) {
  for (int r = 0; r < rows; ++r)
    for (int b = 0; b < bytes; b += 64) _mm_prefetch(reinterpret_cast<const char*>(next + r * stride + x + b), _MM_HINT_T0);
}

// Sum of byte pairs of one 16-byte row chunk, as eight 16-bit lanes.
inline __m128i pairs(__m128i v) {
  return _mm_add_epi16(_mm_and_si128(v, _mm_set1_epi16(0x00FF)), _mm_srli_epi16(v, 8));
}

void sse2_x2(const std::uint8_t* src, int stride, int row_step, int out_w, int out_h, std::uint8_t* dst, int dst_stride) {
  const __m128i two = _mm_set1_epi16(2);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(row_step) * oy * stride;
    const std::uint8_t* r1 = r0 + stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 16 <= out_w; ox += 16) {  // 32 input columns
      const int x = 2 * ox;
      __m128i a = _mm_add_epi16(pairs(load16(r0 + x)), pairs(load16(r1 + x)));
      __m128i b = _mm_add_epi16(pairs(load16(r0 + x + 16)), pairs(load16(r1 + x + 16)));
      a = _mm_srli_epi16(_mm_add_epi16(a, two), 2);
      b = _mm_srli_epi16(_mm_add_epi16(b, two), 2);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + ox), _mm_packus_epi16(a, b));
    }
    tail(r0, stride, 2, ox, out_w, d);
  }
}

// Four outputs from a 16-column, 4-row chunk, as 32-bit lanes.
inline __m128i sse2_x4_chunk(const std::uint8_t* r0, std::ptrdiff_t stride, int x) {
  __m128i s = _mm_add_epi16(pairs(load16(r0 + x)), pairs(load16(r0 + stride + x)));
  s = _mm_add_epi16(s, _mm_add_epi16(pairs(load16(r0 + 2 * stride + x)), pairs(load16(r0 + 3 * stride + x))));
  const __m128i q = _mm_madd_epi16(s, _mm_set1_epi16(1));
  return _mm_srli_epi32(_mm_add_epi32(q, _mm_set1_epi32(8)), 4);
}

void sse2_x4(const std::uint8_t* src, int stride, int row_step, int out_w, int out_h, std::uint8_t* dst, int dst_stride) {
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(row_step) * oy * stride;
    const std::uint8_t* next = oy + 1 < out_h ? r0 + static_cast<std::ptrdiff_t>(row_step) * stride : nullptr;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 16 <= out_w; ox += 16) {  // 64 input columns
      const int x = 4 * ox;
      if (next) prefetch_rows(next, stride, 4, x, 64);
      const __m128i lo = _mm_packs_epi32(sse2_x4_chunk(r0, stride, x), sse2_x4_chunk(r0, stride, x + 16));
      const __m128i hi = _mm_packs_epi32(sse2_x4_chunk(r0, stride, x + 32), sse2_x4_chunk(r0, stride, x + 48));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + ox), _mm_packus_epi16(lo, hi));
    }
    tail(r0, stride, 4, ox, out_w, d);
  }
}

void sse2_x8(const std::uint8_t* src, int stride, int row_step, int out_w, int out_h, std::uint8_t* dst, int dst_stride) {
  const __m128i zero = _mm_setzero_si128(), round = _mm_set1_epi64x(32);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(row_step) * oy * stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 2 <= out_w; ox += 2) {  // 16 input columns
      const int x = 8 * ox;
      __m128i s = _mm_sad_epu8(load16(r0 + x), zero);
      for (int r = 1; r < 8; ++r) s = _mm_add_epi64(s, _mm_sad_epu8(load16(r0 + r * static_cast<std::ptrdiff_t>(stride) + x), zero));
      s = _mm_srli_epi64(_mm_add_epi64(s, round), 6);
      d[ox] = static_cast<std::uint8_t>(_mm_cvtsi128_si32(s));
      d[ox + 1] = static_cast<std::uint8_t>(_mm_extract_epi16(s, 4));
    }
    tail(r0, stride, 8, ox, out_w, d);
  }
}

// --- AVX2 (most x86-64 CPUs since 2013) ------------------------------------
// The same arithmetic on 32-byte rows. AVX2 packs work within 128-bit lanes,
// so the packed results are put back in order with one permute.

#define AVMON_AVX2 __attribute__((target("avx2")))

AVMON_AVX2 inline __m256i load32(const std::uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Sum of byte pairs as 16-bit lanes in one instruction: pmaddubsw with
// weights of one (at most 510, far from its saturation).
AVMON_AVX2 inline __m256i pairs32(__m256i v) { return _mm256_maddubs_epi16(v, _mm256_set1_epi8(1)); }

AVMON_AVX2 void avx2_x2(const std::uint8_t* src, int stride, int row_step, int out_w, int out_h,
                        std::uint8_t* dst, int dst_stride) {
  const __m256i two = _mm256_set1_epi16(2);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(row_step) * oy * stride;
    const std::uint8_t* r1 = r0 + stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 32 <= out_w; ox += 32) {  // 64 input columns
      const int x = 2 * ox;
      __m256i a = _mm256_add_epi16(pairs32(load32(r0 + x)), pairs32(load32(r1 + x)));
      __m256i b = _mm256_add_epi16(pairs32(load32(r0 + x + 32)), pairs32(load32(r1 + x + 32)));
      a = _mm256_srli_epi16(_mm256_add_epi16(a, two), 2);
      b = _mm256_srli_epi16(_mm256_add_epi16(b, two), 2);
      // Lanes hold outputs [0-7 | 8-15] and [16-23 | 24-31]; the pack
      // interleaves them as 0-7, 16-23, 8-15, 24-31.
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + ox), packed);
    }
    tail(r0, stride, 2, ox, out_w, d);
  }
}

// Eight outputs from a 32-column, 4-row chunk, as 32-bit lanes [0-3 | 4-7].
AVMON_AVX2 inline __m256i avx2_x4_chunk(const std::uint8_t* r0, std::ptrdiff_t stride, int x) {
  __m256i s = _mm256_add_epi16(pairs32(load32(r0 + x)), pairs32(load32(r0 + stride + x)));
  s = _mm256_add_epi16(s, _mm256_add_epi16(pairs32(load32(r0 + 2 * stride + x)), pairs32(load32(r0 + 3 * stride + x))));
  const __m256i q = _mm256_madd_epi16(s, _mm256_set1_epi16(1));
  return _mm256_srli_epi32(_mm256_add_epi32(q, _mm256_set1_epi32(8)), 4);
}

AVMON_AVX2 void avx2_x4(const std::uint8_t* src, int stride, int row_step, int out_w, int out_h,
                        std::uint8_t* dst, int dst_stride) {
  // After the two packs, dword k of the result holds outputs order[k]*4...+3.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(row_step) * oy * stride;
    const std::uint8_t* next = oy + 1 < out_h ? r0 + static_cast<std::ptrdiff_t>(row_step) * stride : nullptr;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 32 <= out_w; ox += 32) {  // 128 input columns
      const int x = 4 * ox;
      if (next) prefetch_rows(next, stride, 4, x, 128);
      const __m256i p01 = _mm256_packs_epi32(avx2_x4_chunk(r0, stride, x), avx2_x4_chunk(r0, stride, x + 32));
      const __m256i p23 = _mm256_packs_epi32(avx2_x4_chunk(r0, stride, x + 64), avx2_x4_chunk(r0, stride, x + 96));
      const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p01, p23), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + ox), packed);
    }
    tail(r0, stride, 4, ox, out_w, d);
  }
}

AVMON_AVX2 void avx2_x8(const std::uint8_t* src, int stride, int row_step, int out_w, int out_h,
                        std::uint8_t* dst, int dst_stride) {
  const __m256i zero = _mm256_setzero_si256(), round = _mm256_set1_epi64x(32);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(row_step) * oy * stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 4 <= out_w; ox += 4) {  // 32 input columns
      const int x = 8 * ox;
      __m256i s = _mm256_sad_epu8(load32(r0 + x), zero);
      for (int r = 1; r < 8; ++r)
        s = _mm256_add_epi64(s, _mm256_sad_epu8(load32(r0 + r * static_cast<std::ptrdiff_t>(stride) + x), zero));
      s = _mm256_srli_epi64(_mm256_add_epi64(s, round), 6);
      // One output in the low byte of each 64-bit lane: gather them into the low dword.
      const __m256i gathered = _mm256_shuffle_epi8(s, _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                                      0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
      const int lo = _mm256_cvtsi256_si32(gathered);
      const int hi = _mm_cvtsi128_si32(_mm256_extracti128_si256(gathered, 1));
      d[ox] = static_cast<std::uint8_t>(lo);
      d[ox + 1] = static_cast<std::uint8_t>(lo >> 8);
      d[ox + 2] = static_cast<std::uint8_t>(hi);
      d[ox + 3] = static_cast<std::uint8_t>(hi >> 8);
    }
    tail(r0, stride, 8, ox, out_w, d);
  }
}

// --- Any other factor (720p: 3) ---------------------------------------------
// The sum of `factor` rows from r0 down, per column, into acc[0, used_w)
// (16-bit: at most 255 * 32, the analysis width keeps factors small).
template <int kFactor>
inline void column_sums(const std::uint8_t* r0, int stride, int factor_at_run_time, int used_w, std::uint16_t* acc) {
  const int factor = kFactor > 0 ? kFactor : factor_at_run_time;
  const __m128i zero = _mm_setzero_si128();
  int x = 0;
  for (; x + 16 <= used_w; x += 16) {
    __m128i lo = zero, hi = zero;
    for (int r = 0; r < factor; ++r) {
      const __m128i v = load16(r0 + static_cast<std::ptrdiff_t>(r) * stride + x);
      lo = _mm_add_epi16(lo, _mm_unpacklo_epi8(v, zero));
      hi = _mm_add_epi16(hi, _mm_unpackhi_epi8(v, zero));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + x), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + x + 8), hi);
  }
  for (; x < used_w; ++x) {
    unsigned sum = 0;
    for (int r = 0; r < factor; ++r) sum += r0[static_cast<std::ptrdiff_t>(r) * stride + x];
    acc[x] = static_cast<std::uint16_t>(sum);
  }
}

// Rows are summed into 16-bit column sums with SSE2, then each output adds
// `factor` neighbouring sums; with the factor known at compile time the
// rounding division is a multiply. About half of libswscale's cost for the
// non-power-of-two ratios, where swscale has no fast path.
template <int kFactor>
void sse2_any(const std::uint8_t* src, int stride, int factor_at_run_time, int row_step, int out_w, int out_h,
              std::uint8_t* dst, int dst_stride) {
  const int factor = kFactor > 0 ? kFactor : factor_at_run_time;
  const int used_w = out_w * factor;
  const unsigned n = static_cast<unsigned>(factor * factor);
  thread_local std::vector<std::uint16_t> sums;
  sums.resize(static_cast<size_t>(used_w) + 16);
  std::uint16_t* acc = sums.data();
  for (int oy = 0; oy < out_h; ++oy) {
    column_sums<kFactor>(src + static_cast<std::ptrdiff_t>(row_step) * oy * stride, stride, factor, used_w, acc);
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    const std::uint16_t* a = acc;
    for (int ox = 0; ox < out_w; ++ox, a += factor) {
      unsigned sum = 0;
      for (int i = 0; i < factor; ++i) sum += a[i];
      d[ox] = static_cast<std::uint8_t>((sum + n / 2) / n);
    }
  }
}

// Factor 3 with SSSE3: after the same column sums, the sums of three
// neighbouring columns are taken at every position (three unaligned loads),
// divided by nine with a 16-bit high multiply ((s + 4) * 7282 >> 16 is
// (s + 4) / 9 exactly for every s up to 20000; a box sums to at most 2295),
// and every third result is gathered with pshufb: 16 outputs at a time.
__attribute__((target("ssse3"))) void ssse3_x3(const std::uint8_t* src, int stride, int row_step, int out_w,
                                              int out_h, std::uint8_t* dst, int dst_stride) {
  const int used_w = out_w * 3;
  thread_local std::vector<std::uint16_t> sums;
  sums.resize(static_cast<size_t>(used_w) + 16);  // the last sliding sums read two past the end
  std::uint16_t* acc = sums.data();
  const __m128i four = _mm_set1_epi16(4), ninth = _mm_set1_epi16(7282);
  const __m128i pick0 = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i pick1 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
  const __m128i pick2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
  const auto load8x16 = [](const std::uint16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  for (int oy = 0; oy < out_h; ++oy) {
    column_sums<3>(src + static_cast<std::ptrdiff_t>(row_step) * oy * stride, stride, 3, used_w, acc);
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 16 <= out_w; ox += 16) {
      const std::uint16_t* base = acc + 3 * ox;
      // Sliding three-column sums over 8 positions, divided by nine.
      const auto ninths = [&](int k) {
        const std::uint16_t* p = base + 8 * k;
        const __m128i sum = _mm_add_epi16(_mm_add_epi16(load8x16(p), load8x16(p + 1)), load8x16(p + 2));
        return _mm_mulhi_epu16(_mm_add_epi16(sum, four), ninth);
      };
      const __m128i t0 = _mm_packus_epi16(ninths(0), ninths(1)), t1 = _mm_packus_epi16(ninths(2), ninths(3)),
                    t2 = _mm_packus_epi16(ninths(4), ninths(5));
      const __m128i out = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(t0, pick0), _mm_shuffle_epi8(t1, pick1)),
                                       _mm_shuffle_epi8(t2, pick2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + ox), out);
    }
    for (; ox < out_w; ++ox) d[ox] = static_cast<std::uint8_t>((acc[3 * ox] + acc[3 * ox + 1] + acc[3 * ox + 2] + 4) / 9);
  }
}

bool cpu_has_ssse3() {
  static const bool has = __builtin_cpu_supports("ssse3");
  return has;
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

#endif  // AVMON_BOX_X86

}  // namespace

bool box_kernel_available(BoxKernel kernel) {
#if defined(AVMON_BOX_X86)
  switch (kernel) {
    case BoxKernel::Auto:
    case BoxKernel::Sse2:
      return true;
    case BoxKernel::Avx2:
      return cpu_has_avx2();
  }
  return false;
#else
  (void)kernel;
  return false;
#endif
}

bool box_downscale(const std::uint8_t* src, int src_stride, int width, int height, int factor, std::uint8_t* dst,
                   int dst_stride, BoxKernel kernel, int row_step) {
#if defined(AVMON_BOX_X86)
  // 16-bit column sums hold up to 257 rows of 255; wider factors are not analysis sizes.
  if (factor < 2 || factor > 32) return false;
  if (!box_kernel_available(kernel)) return false;
  const bool avx2 = kernel == BoxKernel::Avx2 || (kernel == BoxKernel::Auto && cpu_has_avx2());
  if (row_step <= 0) row_step = factor;
  const int out_w = width / factor, out_h = box_rows(height, factor, row_step);
  if (out_w <= 0 || out_h <= 0) return true;
  using Fn = void (*)(const std::uint8_t*, int, int, int, int, std::uint8_t*, int);
  Fn fn = nullptr;
  switch (factor) {
    case 2: fn = avx2 ? avx2_x2 : sse2_x2; break;
    case 4: fn = avx2 ? avx2_x4 : sse2_x4; break;
    case 8: fn = avx2 ? avx2_x8 : sse2_x8; break;
    case 3:
      // AVX2 CPUs all have SSSE3; asking for SSE2 gets the SSE2 kernel.
      if (kernel != BoxKernel::Sse2 && cpu_has_ssse3())
        ssse3_x3(src, src_stride, row_step, out_w, out_h, dst, dst_stride);
      else
        sse2_any<3>(src, src_stride, 3, row_step, out_w, out_h, dst, dst_stride);
      return true;
    default: sse2_any<0>(src, src_stride, factor, row_step, out_w, out_h, dst, dst_stride); return true;
  }
  fn(src, src_stride, row_step, out_w, out_h, dst, dst_stride);
  return true;
#else
  (void)src, (void)src_stride, (void)width, (void)height, (void)factor, (void)dst, (void)dst_stride, (void)kernel,
      (void)row_step;
  return false;
#endif
}

}  // namespace avmon
