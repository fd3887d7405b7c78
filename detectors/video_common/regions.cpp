#include "video_common/regions.hpp"

#include <algorithm>
#include <cmath>

namespace avmon::video {

OptionSpec exclude_regions_option() {
  return {"exclude_regions", OptionType::Regions, std::vector<Region>{}, {}, {}, "fraction of picture",
          "areas left out of the analysis, e.g. a station logo, a clock or a ticker ({x, y, w, h} in 0..1)", {}};
}

const std::vector<cv::Rect>& RegionMask::rects(cv::Size plane) {
  if (plane == rects_size_) return rects_;
  rects_size_ = plane;
  rects_.clear();
  // A hair of slack so that a region given on the pixel grid (0.25 of 480)
  // does not round out by one pixel through floating-point error.
  constexpr double kSlack = 1e-9;
  for (const Region& r : regions_) {
    const int x0 = std::max(0, static_cast<int>(std::floor(r.x * plane.width + kSlack)));
    const int y0 = std::max(0, static_cast<int>(std::floor(r.y * plane.height + kSlack)));
    const int x1 = std::min(plane.width, static_cast<int>(std::ceil((r.x + r.w) * plane.width - kSlack)));
    const int y1 = std::min(plane.height, static_cast<int>(std::ceil((r.y + r.h) * plane.height - kSlack)));
    if (x1 > x0 && y1 > y0) rects_.emplace_back(x0, y0, x1 - x0, y1 - y0);
  }
  return rects_;
}

const std::vector<unsigned char>& RegionMask::blocks(cv::Size plane, int block_w, int block_h) {
  if (plane == blocks_size_ && block_w == block_w_ && block_h == block_h_) return blocks_;
  blocks_size_ = plane;
  block_w_ = block_w;
  block_h_ = block_h;
  const int bw = block_w > 0 ? plane.width / block_w : 0, bh = block_h > 0 ? plane.height / block_h : 0;
  blocks_.assign(static_cast<size_t>(std::max(0, bw)) * static_cast<size_t>(std::max(0, bh)), 0);
  for (const cv::Rect& r : rects(plane)) {
    // Blocks [first, last] that the rectangle overlaps.
    const int bx0 = r.x / block_w, by0 = r.y / block_h;
    const int bx1 = std::min(bw - 1, (r.x + r.width - 1) / block_w);
    const int by1 = std::min(bh - 1, (r.y + r.height - 1) / block_h);
    for (int by = by0; by <= by1; ++by)
      for (int bx = bx0; bx <= bx1; ++bx) blocks_[static_cast<size_t>(by * bw + bx)] = 1;
  }
  return blocks_;
}

void RegionMask::clear_spans(cv::Size plane, int y0, int y1, std::vector<std::pair<int, int>>& out) {
  out.clear();
  out.emplace_back(0, plane.width);
  for (const cv::Rect& r : rects(plane)) {
    if (r.y >= y1 || r.y + r.height <= y0) continue;
    // Cut [r.x, r.x + r.width) out of every span.
    const int cx0 = r.x, cx1 = r.x + r.width;
    for (size_t i = 0; i < out.size();) {
      auto [a, b] = out[i];
      if (cx1 <= a || cx0 >= b) {
        ++i;
        continue;
      }
      out.erase(out.begin() + static_cast<long>(i));
      if (cx0 > a) out.insert(out.begin() + static_cast<long>(i++), {a, cx0});
      if (cx1 < b) out.insert(out.begin() + static_cast<long>(i++), {cx1, b});
    }
  }
}

bool RegionMask::covers(cv::Size plane, int x, int y) {
  for (const cv::Rect& r : rects(plane))
    if (r.contains({x, y})) return true;
  return false;
}

}  // namespace avmon::video
