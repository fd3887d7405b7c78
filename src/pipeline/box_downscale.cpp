#include "pipeline/box_downscale.hpp"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define AVMON_BOX_X86 1
#include <immintrin.h>
#endif

namespace avmon {

void box_downscale_reference(const std::uint8_t* src, int src_stride, int width, int height, int factor,
                             std::uint8_t* dst, int dst_stride) {
  const int out_w = width / factor, out_h = height / factor, n = factor * factor;
  for (int oy = 0; oy < out_h; ++oy)
    for (int ox = 0; ox < out_w; ++ox) {
      int sum = 0;
      for (int y = oy * factor; y < (oy + 1) * factor; ++y)
        for (int x = ox * factor; x < (ox + 1) * factor; ++x) sum += src[static_cast<std::ptrdiff_t>(y) * src_stride + x];
      dst[static_cast<std::ptrdiff_t>(oy) * dst_stride + ox] = static_cast<std::uint8_t>((sum + n / 2) / n);
    }
}

namespace {

// The columns a kernel's vector loop leaves over at the right edge.
void tail(const std::uint8_t* src, int src_stride, int factor, int oy, int from_ox, int out_w, std::uint8_t* dst_row) {
  const int n = factor * factor;
  for (int ox = from_ox; ox < out_w; ++ox) {
    int sum = 0;
    for (int y = oy * factor; y < (oy + 1) * factor; ++y)
      for (int x = ox * factor; x < (ox + 1) * factor; ++x) sum += src[static_cast<std::ptrdiff_t>(y) * src_stride + x];
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

// Sum of byte pairs of one 16-byte row chunk, as eight 16-bit lanes.
inline __m128i pairs(__m128i v) {
  return _mm_add_epi16(_mm_and_si128(v, _mm_set1_epi16(0x00FF)), _mm_srli_epi16(v, 8));
}

void sse2_x2(const std::uint8_t* src, int stride, int out_w, int out_h, std::uint8_t* dst, int dst_stride) {
  const __m128i two = _mm_set1_epi16(2);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(2 * oy) * stride;
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
    tail(src, stride, 2, oy, ox, out_w, d);
  }
}

// Four outputs from a 16-column, 4-row chunk, as 32-bit lanes.
inline __m128i sse2_x4_chunk(const std::uint8_t* r0, std::ptrdiff_t stride, int x) {
  __m128i s = _mm_add_epi16(pairs(load16(r0 + x)), pairs(load16(r0 + stride + x)));
  s = _mm_add_epi16(s, _mm_add_epi16(pairs(load16(r0 + 2 * stride + x)), pairs(load16(r0 + 3 * stride + x))));
  const __m128i q = _mm_madd_epi16(s, _mm_set1_epi16(1));
  return _mm_srli_epi32(_mm_add_epi32(q, _mm_set1_epi32(8)), 4);
}

void sse2_x4(const std::uint8_t* src, int stride, int out_w, int out_h, std::uint8_t* dst, int dst_stride) {
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(4 * oy) * stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 16 <= out_w; ox += 16) {  // 64 input columns
      const int x = 4 * ox;
      const __m128i lo = _mm_packs_epi32(sse2_x4_chunk(r0, stride, x), sse2_x4_chunk(r0, stride, x + 16));
      const __m128i hi = _mm_packs_epi32(sse2_x4_chunk(r0, stride, x + 32), sse2_x4_chunk(r0, stride, x + 48));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d + ox), _mm_packus_epi16(lo, hi));
    }
    tail(src, stride, 4, oy, ox, out_w, d);
  }
}

void sse2_x8(const std::uint8_t* src, int stride, int out_w, int out_h, std::uint8_t* dst, int dst_stride) {
  const __m128i zero = _mm_setzero_si128(), round = _mm_set1_epi64x(32);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(8 * oy) * stride;
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
    tail(src, stride, 8, oy, ox, out_w, d);
  }
}

// --- AVX2 (most x86-64 CPUs since 2013) ------------------------------------
// The same arithmetic on 32-byte rows. AVX2 packs work within 128-bit lanes,
// so the packed results are put back in order with one permute.

#define AVMON_AVX2 __attribute__((target("avx2")))

AVMON_AVX2 inline __m256i load32(const std::uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

AVMON_AVX2 inline __m256i pairs32(__m256i v) {
  return _mm256_add_epi16(_mm256_and_si256(v, _mm256_set1_epi16(0x00FF)), _mm256_srli_epi16(v, 8));
}

AVMON_AVX2 void avx2_x2(const std::uint8_t* src, int stride, int out_w, int out_h, std::uint8_t* dst,
                        int dst_stride) {
  const __m256i two = _mm256_set1_epi16(2);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(2 * oy) * stride;
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
    tail(src, stride, 2, oy, ox, out_w, d);
  }
}

// Eight outputs from a 32-column, 4-row chunk, as 32-bit lanes [0-3 | 4-7].
AVMON_AVX2 inline __m256i avx2_x4_chunk(const std::uint8_t* r0, std::ptrdiff_t stride, int x) {
  __m256i s = _mm256_add_epi16(pairs32(load32(r0 + x)), pairs32(load32(r0 + stride + x)));
  s = _mm256_add_epi16(s, _mm256_add_epi16(pairs32(load32(r0 + 2 * stride + x)), pairs32(load32(r0 + 3 * stride + x))));
  const __m256i q = _mm256_madd_epi16(s, _mm256_set1_epi16(1));
  return _mm256_srli_epi32(_mm256_add_epi32(q, _mm256_set1_epi32(8)), 4);
}

AVMON_AVX2 void avx2_x4(const std::uint8_t* src, int stride, int out_w, int out_h, std::uint8_t* dst,
                        int dst_stride) {
  // After the two packs, dword k of the result holds outputs order[k]*4...+3.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(4 * oy) * stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(oy) * dst_stride;
    int ox = 0;
    for (; ox + 32 <= out_w; ox += 32) {  // 128 input columns
      const int x = 4 * ox;
      const __m256i p01 = _mm256_packs_epi32(avx2_x4_chunk(r0, stride, x), avx2_x4_chunk(r0, stride, x + 32));
      const __m256i p23 = _mm256_packs_epi32(avx2_x4_chunk(r0, stride, x + 64), avx2_x4_chunk(r0, stride, x + 96));
      const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p01, p23), order);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + ox), packed);
    }
    tail(src, stride, 4, oy, ox, out_w, d);
  }
}

AVMON_AVX2 void avx2_x8(const std::uint8_t* src, int stride, int out_w, int out_h, std::uint8_t* dst,
                        int dst_stride) {
  const __m256i zero = _mm256_setzero_si256(), round = _mm256_set1_epi64x(32);
  for (int oy = 0; oy < out_h; ++oy) {
    const std::uint8_t* r0 = src + static_cast<std::ptrdiff_t>(8 * oy) * stride;
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
    tail(src, stride, 8, oy, ox, out_w, d);
  }
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
                   int dst_stride, BoxKernel kernel) {
#if defined(AVMON_BOX_X86)
  if (factor != 2 && factor != 4 && factor != 8) return false;
  if (!box_kernel_available(kernel)) return false;
  const bool avx2 = kernel == BoxKernel::Avx2 || (kernel == BoxKernel::Auto && cpu_has_avx2());
  const int out_w = width / factor, out_h = height / factor;
  if (out_w <= 0 || out_h <= 0) return true;
  using Fn = void (*)(const std::uint8_t*, int, int, int, std::uint8_t*, int);
  Fn fn = nullptr;
  switch (factor) {
    case 2: fn = avx2 ? avx2_x2 : sse2_x2; break;
    case 4: fn = avx2 ? avx2_x4 : sse2_x4; break;
    default: fn = avx2 ? avx2_x8 : sse2_x8; break;
  }
  fn(src, src_stride, out_w, out_h, dst, dst_stride);
  return true;
#else
  (void)src, (void)src_stride, (void)width, (void)height, (void)factor, (void)dst, (void)dst_stride, (void)kernel;
  return false;
#endif
}

}  // namespace avmon
