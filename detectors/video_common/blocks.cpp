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

void hold_picture(const cv::Mat& luma, cv::Mat& keep) {
  if (luma.u != nullptr) {
    keep = luma;
  } else {
    keep.release();
    luma.copyTo(keep);
  }
}

}  // namespace avmon::video
