// Exclusion regions shared by the video detectors: areas of the picture whose
// content does not count (a station logo, a burnt-in clock, a ticker moving
// over a held or black programme). Regions are fractions of the picture; a
// RegionMask turns them into pixel rectangles and per-block masks of the plane
// a detector reads, rebuilt only when that plane's size changes.
#pragma once

#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "avmon/options.hpp"

namespace avmon::video {

// The option every video detector with exclusion regions declares.
OptionSpec exclude_regions_option();

class RegionMask {
 public:
  RegionMask() = default;
  explicit RegionMask(std::vector<Region> regions) : regions_(std::move(regions)) {}

  // No regions configured: callers keep their unmasked fast path.
  bool empty() const { return regions_.empty(); }

  // Pixel rectangles of the regions on a plane of this size. A region is
  // rounded outwards (a pixel the region touches is masked: a ticker's edge
  // must not leak into the analysis) and clipped to the plane.
  const std::vector<cv::Rect>& rects(cv::Size plane);

  // Per block of a grid of block_w x block_h pixel blocks laid from the
  // plane's top left (plane.width / block_w columns, plane.height / block_h
  // rows, row-major): 1 where the block overlaps a region.
  const std::vector<unsigned char>& blocks(cv::Size plane, int block_w, int block_h);

  // Column spans [x0, x1) of the plane's rows [y0, y1) that no region
  // touches, left to right (the whole row when nothing is masked there).
  void clear_spans(cv::Size plane, int y0, int y1, std::vector<std::pair<int, int>>& out);

  // Whether pixel (x, y) of a plane of this size lies in a region.
  bool covers(cv::Size plane, int x, int y);

 private:
  std::vector<Region> regions_;
  cv::Size rects_size_{-1, -1};
  std::vector<cv::Rect> rects_;
  cv::Size blocks_size_{-1, -1};
  int block_w_ = 0, block_h_ = 0;
  std::vector<unsigned char> blocks_;
};

}  // namespace avmon::video
