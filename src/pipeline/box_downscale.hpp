// Exact box-average downscale of an 8-bit plane by a whole factor: each
// output pixel is the rounded mean of a factor x factor box of input pixels.
//
// This makes the analysis luma every video detector reads. It runs on every
// picture, so factors 2, 4 and 8 (720-, 1920- and 3840-wide pictures) have
// SIMD kernels (SSE2, and AVX2 where the CPU has it, chosen once at run
// time); on a 1080p picture they cost a seventh of libswscale's area filter.
// Factor 3 (1280-wide pictures) has an SSSE3 kernel, a third of swscale's
// cost there; other factors up to 32 sum rows with SSE2 and columns one
// output at a time. CPUs other than x86-64 get false, and the caller falls
// back to libswscale.
#pragma once

#include <cstdint>

namespace avmon {

enum class BoxKernel { Auto, Sse2, Avx2 };

// Writes (width / factor) x (height / factor) pixels to dst (rows dst_stride
// bytes apart); input pixels past the last whole box are not read. Returns
// false, writing nothing, when no kernel handles this factor on this CPU (or
// the kernel asked for is not available). `kernel` picks the instruction
// set: Sse2 forces the SSE2 kernels (tests); the AVX2 choice only changes
// factors 2, 4 and 8 (factor 3 uses SSSE3 whenever it is there).
//
// `row_step` (default: factor) is how many input rows apart consecutive
// output rows start: 2 * factor makes every other output row only (the
// analysis luma's even rows), reading half the input. The output then has
// box_rows(height, factor, row_step) rows.
bool box_downscale(const std::uint8_t* src, int src_stride, int width, int height, int factor,
                   std::uint8_t* dst, int dst_stride, BoxKernel kernel = BoxKernel::Auto, int row_step = 0);

// Output rows for an input height (boxes that fit whole).
int box_rows(int height, int factor, int row_step = 0);

// The same, one pixel at a time and for any factor: the reference the SIMD
// kernels must match bit for bit.
void box_downscale_reference(const std::uint8_t* src, int src_stride, int width, int height, int factor,
                             std::uint8_t* dst, int dst_stride, int row_step = 0);

// Whether this build and CPU have the kernel.
bool box_kernel_available(BoxKernel kernel);

}  // namespace avmon
