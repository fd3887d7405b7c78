// PLUGE recognition (picture line-up generation equipment, the brightness
// line-up pattern of ITU-R BT.814 and the PLUGE part of SMPTE RP 219 bars shown
// on its own): a field at black with narrow flat stripes just below and above
// black (-2 %, +2 %, often +4 % of the signal range), often with a white
// patch or stepped grey patches, also under an ident (a caption, a clock).
//
// What sets it apart from dark programme is its make: most of the picture sits
// on one level at black; stripes a few levels off it are flat, neutral grey,
// tall and straight-edged (the same columns row after row), stand on the field,
// and come at two or more distinct levels. A night scene's shadows are neither
// flat nor straight; a fade, credits or a logo on black have no such stripes.
#pragma once

#include <utility>
#include <vector>

#include <opencv2/core.hpp>

namespace avmon::video {

struct PlugeParams {
  double min_black_fraction = 0.4;  // share of the picture on the field's level (the rest: stripes, patches, idents)
  int min_levels = 2;               // distinct stripe levels off black
};

struct PlugeStripe {
  int x0 = 0, x1 = 0;    // analysis columns [x0, x1)
  double level = 0;      // 8-bit luma as coded
  int rows = 0;          // scanned rows that show it
  int first_row = 0;     // of the plane analysed
  bool neutral = false;  // grey (no colour): a PLUGE is
};

struct PlugeVerdict {
  bool pluge = false;
  double black = 0;                  // the field's level, 8-bit as coded
  double black_fraction = 0;         // share of sampled pixels on it
  std::vector<PlugeStripe> stripes;  // left to right
  int levels = 0;                    // distinct levels of the neutral stripes
};

class PlugeAnalyser {
 public:
  explicit PlugeAnalyser(PlugeParams p) : p_(p) {}

  // `luma`: analysis luma (every other row of it will do); `black_level`: 16
  // for limited range, 0 for full. `bgr` (the picture at analysis size) is
  // asked for only when stripes appear that the previous picture did not
  // have: steady stripes keep the colour verdict they had.
  template <class BgrFn>
  PlugeVerdict analyse(const cv::Mat& luma, int black_level, BgrFn&& bgr) {
    PlugeVerdict v = analyse_luma(luma, black_level);
    if (v.stripes.empty()) {
      known_.clear();
      return v;
    }
    if (!colours_known(v.stripes)) {
      read_colours(bgr(), luma.size(), v.stripes);
      known_ = v.stripes;
    }
    judge(v);
    return v;
  }

  // Rectangles of the luma plane that do not count (exclusion regions).
  void set_masked(std::vector<cv::Rect> rects) { masked_ = std::move(rects); }

  // Whether `now` shows enough of `then`'s stripes (min_levels distinct
  // levels) in the same place at the same level: a PLUGE stands still.
  bool same_stripes(const std::vector<PlugeStripe>& then, const std::vector<PlugeStripe>& now) const;

 private:
  struct Track {
    int x0, x1;
    double level_sum;
    int rows, first_row;
  };
  PlugeVerdict analyse_luma(const cv::Mat& luma, int black_level);
  // Clear column spans of row y (outside every exclusion rectangle).
  void row_spans(int y, int width);
  bool colours_known(std::vector<PlugeStripe>& stripes) const;
  void read_colours(const cv::Mat& bgr, cv::Size luma_size, std::vector<PlugeStripe>& stripes) const;
  void judge(PlugeVerdict& v) const;

  PlugeParams p_;
  std::vector<cv::Rect> masked_;
  std::vector<std::pair<int, int>> spans_;  // of the row being read
  std::vector<Track> tracks_;
  std::vector<PlugeStripe> known_;          // the previous picture's stripes, with their colour verdicts
};

}  // namespace avmon::video
