// Colour-bar recognition robust to overlays: an ident caption, a running
// clock, a logo or a moving box over up to a fifth of the picture.
//
// Bars are vertical bands of uniform, saturated colour in a fixed order
// (white, yellow, cyan, green, magenta, red, blue) and of equal width, so
// each bar is found from whatever of it is not covered:
// - per column, the median luma over the rows of the bars' band, and how many
//   rows agree with it (an overlay over less than half of a column's rows
//   does not move its median; a column mostly covered drops out);
// - flat bands of the median profile, their colour from the rows that agree;
// - the equal-width slot geometry (first bar's left edge, bar pitch) that puts
//   the most bands into the slot of their own colour. Bars hidden under a
//   caption leave their slots empty; a band in another slot's colour does not
//   count.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace avmon::video {

struct BarsParams {
  double column_tolerance = 6;        // 8-bit levels a bar column's rows may differ from its median
  double min_constant_columns = 0.5;  // share of columns whose rows mostly agree (the rest: overlays)
  int min_bars = 4;                   // bars found in their own slot of the canonical order
  double min_saturation = 40;         // 8-bit: max-min of a colour bar's RGB
};

struct BarsVerdict {
  bool bars = false;
  double constant_columns = 0;  // share of columns whose rows mostly agree
  int candidates = 0;           // flat bands of bar width whose luma falls left to right
  int colour_bars = 0;          // bars in the slot of their own colour
  double x0 = 0, pitch = 0;     // slot geometry, analysis columns
  std::string colours;          // class per slot, '.' where nothing was found, e.g. "WYC..RB"
};

class BarsAnalyser {
 public:
  explicit BarsAnalyser(BarsParams p) : p_(p) {}

  // `bgr` is requested only when the luma test passes (it costs a conversion).
  // `luma` may be every other row of bgr's picture (rows map by proportion).
  // Bands found where the previous picture's were, at the same luma, keep
  // their colour: steady bars cost no colour conversion after the first.
  template <class BgrFn>
  BarsVerdict analyse(const cv::Mat& luma, BgrFn&& bgr) {
    BarsVerdict v = analyse_luma(luma);
    if (v.candidates < p_.min_bars) {
      known_.clear();
      return v;
    }
    if (!colours_known()) analyse_colour(bgr(), luma.size());
    known_ = segments_;
    fit_slots(v);
    return v;
  }

  // Rectangles of the luma plane that do not count (exclusion regions): their
  // pixels are left out like an overlay's. Empty: nothing masked.
  void set_masked(std::vector<cv::Rect> rects) { masked_ = std::move(rects); }

  // Rows of a picture of `height` rows that the band reads.
  static std::vector<int> band_rows(int height);

 private:
  struct Segment {
    int x0, x1;        // columns [x0, x1)
    double luma;       // mean of the column medians
    unsigned rows = 0; // band rows (bit i: rows_[i]) that show the bar, not an overlay
    char cls = '?';    // colour class
  };
  BarsVerdict analyse_luma(const cv::Mat& luma);
  // Profile, flat bands and their falling sequence from every `step`-th column.
  void bands(const cv::Mat& luma, int step, BarsVerdict& v);
  void analyse_colour(const cv::Mat& bgr, cv::Size luma_size);
  bool colours_known();
  void fit_slots(BarsVerdict& v);
  void refine(BarsVerdict& v) const;

  BarsParams p_;
  std::vector<cv::Rect> masked_;
  std::vector<int> rows_;             // sampled rows of the band
  std::vector<float> profile_;        // medians of the columns read
  std::vector<unsigned char> usable_; // column read: rows mostly agree, not on an edge
  std::vector<Segment> segments_;
  std::vector<Segment> known_;        // the previous picture's bands, with their colours
  int width_ = 0;                     // of the luma plane analysed
  int since_colour_ = 0;              // analysed pictures since colour was read
  std::vector<int> falls_;            // longest falling sequence ending at each band
};

}  // namespace avmon::video
