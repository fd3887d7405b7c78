// Exact box-average downscale of an 8-bit plane by a whole factor: each
// output pixel is the rounded mean of a factor x factor box of input pixels.
//
// This makes the analysis luma every video detector reads. It runs on every
// picture, so factors 2, 4 and 8 (720-, 1920- and 3840-wide pictures) have
// SIMD kernels (SSE2, and AVX2 where the CPU has it, chosen once at run
// time); on a 1080p picture they cost about a third of libswscale's area
// filter. Other factors, or other CPUs, return false and the caller falls
// back to libswscale.
#pragma once

#include <cstdint>

namespace avmon {

enum class BoxKernel { Auto, Sse2, Avx2 };

// Writes (width / factor) x (height / factor) pixels to dst (rows dst_stride
// bytes apart); input pixels past the last whole box are not read. Returns
// false, writing nothing, when no kernel handles this factor on this CPU (or
// the kernel asked for is not available).
bool box_downscale(const std::uint8_t* src, int src_stride, int width, int height, int factor,
                   std::uint8_t* dst, int dst_stride, BoxKernel kernel = BoxKernel::Auto);

// The same, one pixel at a time and for any factor: the reference the SIMD
// kernels must match bit for bit.
void box_downscale_reference(const std::uint8_t* src, int src_stride, int width, int height, int factor,
                             std::uint8_t* dst, int dst_stride);

// Whether this build and CPU have the kernel.
bool box_kernel_available(BoxKernel kernel);

}  // namespace avmon
