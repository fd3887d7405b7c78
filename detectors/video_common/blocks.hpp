// Block comparison shared by the detectors that hold a picture and compare
// the next ones with it (freeze, slate): sums of absolute differences over
// 8-pixel blocks of a row, and keeping the held picture by reference.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

namespace avmon::video {

// Pixels of a block's row.
constexpr int kSadBlockWidth = 8;

// Adds the sum of |a[x] - b[x]| over each of the first `blocks` 8-pixel
// blocks of a row to acc[block] (SSE2: two blocks per psadbw).
void add_block_sads(const unsigned char* a, const unsigned char* b, int blocks, std::vector<unsigned>& acc);

// The sum of |a[r][x] - b[r][x]| over each of the first `blocks` blocks of 8
// pixels by `rows` rows into out[block]: a block's rows are summed in a
// register, not added row by row into memory (a third of the instructions).
void block_sads(const unsigned char* const* a, const unsigned char* const* b, int rows, int blocks, unsigned* out);

// Keeps a picture for later comparison. The bus's analysis luma is its own
// refcounted, read-only buffer: holding it costs nothing. A plane that only
// borrows the decoder's memory (no refcount) is copied, into a fresh buffer so
// that a picture still held elsewhere is never written to.
void hold_picture(const cv::Mat& luma, cv::Mat& keep);

}  // namespace avmon::video
