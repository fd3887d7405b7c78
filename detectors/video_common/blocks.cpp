#include "video_common/blocks.hpp"

#include <cstdlib>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::video {

void add_block_sads(const unsigned char* a, const unsigned char* b, int blocks, std::vector<unsigned>& acc) {
  constexpr int w = kSadBlockWidth;
  int bx = 0;
#if defined(__SSE2__)
  for (; bx + 1 < blocks; bx += 2) {
    const __m128i sad = _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + bx * w)),
                                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + bx * w)));
    acc[static_cast<size_t>(bx)] += static_cast<unsigned>(_mm_cvtsi128_si32(sad));
    acc[static_cast<size_t>(bx + 1)] += static_cast<unsigned>(_mm_extract_epi16(sad, 4));
  }
#endif
  for (; bx < blocks; ++bx) {
    unsigned s = 0;
    for (int x = bx * w; x < (bx + 1) * w; ++x) s += static_cast<unsigned>(std::abs(a[x] - b[x]));
    acc[static_cast<size_t>(bx)] += s;
  }
}

void block_sads(const unsigned char* const* a, const unsigned char* const* b, int rows, int blocks, unsigned* out) {
  constexpr int w = kSadBlockWidth;
  int bx = 0;
#if defined(__SSE2__)
  const auto sad_at = [](const unsigned char* p, const unsigned char* q) {
    return _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
  };
  if (rows == 4) {
    // Written out: the compiler keeps a loop over the rows, with the row
    // pointers reloaded from memory on every step.
    const unsigned char *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const unsigned char *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
    for (; bx + 1 < blocks; bx += 2) {
      const int x = bx * w;
      const __m128i sad = _mm_add_epi32(_mm_add_epi32(sad_at(a0 + x, b0 + x), sad_at(a1 + x, b1 + x)),
                                        _mm_add_epi32(sad_at(a2 + x, b2 + x), sad_at(a3 + x, b3 + x)));
      out[bx] = static_cast<unsigned>(_mm_cvtsi128_si32(sad));
      out[bx + 1] = static_cast<unsigned>(_mm_cvtsi128_si32(_mm_srli_si128(sad, 8)));
    }
  }
  for (; bx + 1 < blocks; bx += 2) {
    __m128i sad = _mm_setzero_si128();
    for (int r = 0; r < rows; ++r) sad = _mm_add_epi32(sad, sad_at(a[r] + bx * w, b[r] + bx * w));
    out[bx] = static_cast<unsigned>(_mm_cvtsi128_si32(sad));
    out[bx + 1] = static_cast<unsigned>(_mm_cvtsi128_si32(_mm_srli_si128(sad, 8)));
  }
#endif
  for (; bx < blocks; ++bx) {
    unsigned s = 0;
    for (int r = 0; r < rows; ++r)
      for (int x = bx * w; x < (bx + 1) * w; ++x) s += static_cast<unsigned>(std::abs(a[r][x] - b[r][x]));
    out[bx] = s;
  }
}

void hold_picture(const cv::Mat& luma, cv::Mat& keep) {
  if (luma.u != nullptr) {
    keep = luma;
  } else {
    keep.release();
    luma.copyTo(keep);
  }
}

}  // namespace avmon::video
