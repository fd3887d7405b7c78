#include "flash/flash.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libavutil/pixfmt.h>
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace avmon::video {

namespace {

// Cells of 8x8 analysis pixels (32x32 of 1080p, ~1/2000 of the picture),
// sampled from the luma plane (plane_means) or read from luma_even_rows()
// (8 pixels by 4 rows). A flash over a quarter of the screen is hundreds of
// cells; a cell's mean is the unit of area.
constexpr int kCell = 8;
constexpr int kCellRows = kCell / 2;
// Colour is read at four points along the middle chroma row of a cell: red
// flashes cover large areas, and four samples of a cell are plenty for its mean.
constexpr int kChromaSamples = 4;
// Change of the red measure that makes a red transition (the measure is 320
// for a full red on an SDR display, 0 for anything not saturated red).
constexpr float kRedMinChange = 20.f;
// The frame bus's analysis width (pipeline/frames.hpp, not part of the SDK).
constexpr int kAnalysisMaxWidth = 480;

}  // namespace

void FlashAnalyser::reset() {
  general_cells_.clear();
  red_cells_.clear();
  general_dir_ = red_dir_ = 0;
  general_last_ = red_last_ = -1;
  count_ = 0;
}

void FlashAnalyser::layout(int cols, int rows) {
  bw_ = cols / kCell;
  bh_ = rows / kCellRows;
  const size_t n = static_cast<size_t>(bw_) * static_cast<size_t>(bh_);
  luminance_.assign(n, 0.f);
  red_.assign(n, 0.f);
  code_.assign(n, 0.f);
  reset();
}

void FlashAnalyser::set_model(const VideoFrame& frame) {
  const AVFrame* av = frame.av_frame();
  DisplayModel m;
  m.sdr_peak_cd_m2 = p_.sdr_peak_white_cd_m2;
  m.hlg_peak_cd_m2 = p_.hlg_peak_cd_m2;
  m.transfer = av ? transfer_of(av->color_trc) : Transfer::Sdr;
  const int fmt = frame.pixel_format();
  m.full_range = (av && av->color_range == AVCOL_RANGE_JPEG) || fmt == AV_PIX_FMT_YUVJ420P ||
                 fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P || fmt == AV_PIX_FMT_YUVJ440P;
  const int space = av ? av->colorspace : AVCOL_SPC_UNSPECIFIED;
  if (space == AVCOL_SPC_BT470BG || space == AVCOL_SPC_SMPTE170M || space == AVCOL_SPC_FCC ||
      (space != AVCOL_SPC_BT709 && space != AVCOL_SPC_BT2020_NCL && space != AVCOL_SPC_BT2020_CL &&
       frame.height() < 720)) {
    m.kr = 0.299, m.kb = 0.114;  // BT.601: declared, or unspecified standard definition
  } else if (space == AVCOL_SPC_BT2020_NCL || space == AVCOL_SPC_BT2020_CL) {
    m.kr = 0.2627, m.kb = 0.0593;
  }
  if (have_model_ && m == model_) return;
  model_ = m;
  have_model_ = true;
  lum_table_ = luminance_table(m);
  lin_table_ = linear_table(m);
}

// Mean luma code of each cell, through the table to cd/m². Sums of 8 pixels
// per psadbw, two cells per load.
void FlashAnalyser::cell_means(const cv::Mat& even) {
  acc_.resize(static_cast<size_t>(bw_));
  for (int by = 0; by < bh_; ++by) {
    std::fill(acc_.begin(), acc_.end(), 0u);
    for (int y = by * kCellRows; y < (by + 1) * kCellRows; ++y) {
      const unsigned char* row = even.ptr<unsigned char>(y);
      int bx = 0;
#if defined(__SSE2__)
      const __m128i zero = _mm_setzero_si128();
      for (; bx + 1 < bw_; bx += 2) {
        const __m128i sad = _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + bx * kCell)), zero);
        acc_[static_cast<size_t>(bx)] += static_cast<unsigned>(_mm_cvtsi128_si32(sad));
        acc_[static_cast<size_t>(bx + 1)] += static_cast<unsigned>(_mm_extract_epi16(sad, 4));
      }
#endif
      for (; bx < bw_; ++bx) {
        unsigned s = 0;
        for (int x = bx * kCell; x < (bx + 1) * kCell; ++x) s += row[x];
        acc_[static_cast<size_t>(bx)] += s;
      }
    }
    // 32 pixels per cell: sum / 8 is the mean in quarter codes.
    float* out = luminance_.data() + static_cast<size_t>(by) * static_cast<size_t>(bw_);
    float* code = code_.data() + static_cast<size_t>(by) * static_cast<size_t>(bw_);
    for (int bx = 0; bx < bw_; ++bx) {
      const unsigned s = acc_[static_cast<size_t>(bx)];
      out[bx] = lum_table_[s >> 3];
      code[bx] = static_cast<float>(s) * (1.f / (kCell * kCellRows));
    }
  }
}

// The same cells straight from an 8-bit luma plane, sampled: four rows of
// each cell (one in every 2 x factor) and, of each, the 8 (factor 1) or 16
// pixels in the middle of the cell. A flash is a large uniform change, which
// an eighth of the pixels measures as well as all of them, at a tenth of the
// cost of making the analysis luma (the box downscale of half the rows).
void FlashAnalyser::plane_means(const unsigned char* plane, std::ptrdiff_t stride, int height, int factor) {
  const int cell_px = kCell * factor;
  const int width = factor == 1 ? kCell : 16;      // pixels read per row
  const int x_in = (cell_px - width) / 2;          // their offset in the cell
  const unsigned n = static_cast<unsigned>(4 * width);
  const unsigned shift = factor == 1 ? 3 : 4;      // sum >> shift: quarter codes
  for (int by = 0; by < bh_; ++by) {
    const unsigned char* rows[4];
    for (int k = 0; k < 4; ++k)
      rows[k] = plane + static_cast<std::ptrdiff_t>(std::min(height - 1, by * cell_px + (2 * k + 1) * cell_px / 8)) * stride;
    float* out = luminance_.data() + static_cast<size_t>(by) * static_cast<size_t>(bw_);
    float* code = code_.data() + static_cast<size_t>(by) * static_cast<size_t>(bw_);
    for (int bx = 0; bx < bw_; ++bx) {
      const int x = bx * cell_px + x_in;
      unsigned sum = 0;
#if defined(__SSE2__)
      const __m128i zero = _mm_setzero_si128();
      __m128i acc = zero;
      if (width == 16) {
        for (int k = 0; k < 4; ++k)
          acc = _mm_add_epi32(acc, _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + x)), zero));
      } else {
        for (int k = 0; k < 4; ++k)
          acc = _mm_add_epi32(acc, _mm_sad_epu8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[k] + x)), zero));
      }
      sum = static_cast<unsigned>(_mm_cvtsi128_si32(acc)) + static_cast<unsigned>(_mm_extract_epi16(acc, 4));
#else
      for (int k = 0; k < 4; ++k)
        for (int i = 0; i < width; ++i) sum += rows[k][x + i];
#endif
      out[bx] = lum_table_[std::min(1023u, sum >> shift)];
      code[bx] = static_cast<float>(sum) / static_cast<float>(n);
    }
  }
}

namespace {

// Reads the sum of kChromaSamples samples of one colour-difference component
// along a chroma row at the given sample offsets.
template <typename Sample>
unsigned chroma_sum(const unsigned char* row, const int* offsets, int shift) {
  unsigned s = 0;
  for (int j = 0; j < kChromaSamples; ++j) {
    Sample v;
    std::memcpy(&v, row + offsets[j], sizeof v);
    s += static_cast<unsigned>(v >> shift);
  }
  return s;
}

}  // namespace

// The red measure of each cell, from the cell's mean luma and a subsampled
// read of its chroma. A cell whose Cr is at or below neutral cannot be
// saturated red (R' <= Y' means R is not the largest primary), so Cb is read,
// and the colour converted, only for the reddish ones.
void FlashAnalyser::cell_reds(const VideoFrame& frame, int factor) {
  if (red_seen_) std::fill(red_.begin(), red_.end(), 0.f);
  red_seen_before_ = red_seen_;
  red_seen_ = false;
  const AVFrame* av = frame.av_frame();
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.pixel_format()));
  if (!av || !d || d->nb_components < 3 || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_PAL)) ||
      d->comp[1].depth > 16)
    return;
  const AVComponentDescriptor& cb = d->comp[1];
  const AVComponentDescriptor& cr = d->comp[2];
  const bool wide = cb.depth > 8;
  const int depth = cb.depth;
  // Neutral and scale of the read sums, in 8-bit codes.
  const float to8 = 1.f / static_cast<float>(kChromaSamples * (1 << (depth - 8)));
  const int cell_px = kCell * factor;
  std::vector<int>& cb_off = cb_offsets_;
  std::vector<int>& cr_off = cr_offsets_;
  cb_off.resize(static_cast<size_t>(bw_ * kChromaSamples));
  cr_off.resize(cb_off.size());
  for (int bx = 0; bx < bw_; ++bx)
    for (int j = 0; j < kChromaSamples; ++j) {
      const int x = (bx * cell_px + (2 * j + 1) * cell_px / (2 * kChromaSamples)) >> d->log2_chroma_w;
      cb_off[static_cast<size_t>(bx * kChromaSamples + j)] = x * cb.step + cb.offset;
      cr_off[static_cast<size_t>(bx * kChromaSamples + j)] = x * cr.step + cr.offset;
    }
  const unsigned neutral_sum = static_cast<unsigned>(kChromaSamples) * (128u << (depth - 8));
  const int chroma_rows = AV_CEIL_RSHIFT(frame.height(), d->log2_chroma_h);
#if defined(__SSE2__)
  // Most cells are not reddish, and reading their Cr is most of the cost. For
  // 8-bit samples whose four reads of a cell lie within 16 bytes of the first
  // (planar 4:2:0 and 4:2:2 at every analysis factor), one load masked to
  // those bytes and a psadbw give the same sum. Up to the row's linesize:
  // the decoder's row is allocated that far.
  bool masked_cr = !wide && cr.shift == 0 && av->linesize[cr.plane] > 0;
  alignas(16) unsigned char pick[16] = {0};
  for (int j = 0; masked_cr && j < kChromaSamples; ++j) {
    const int rel = cr_off[static_cast<size_t>(j)] - cr_off[0];
    masked_cr = rel >= 0 && rel < 16 && pick[rel] == 0;
    if (masked_cr) pick[rel] = 0xFF;
  }
  for (int bx = 1; masked_cr && bx < bw_; ++bx)
    for (int j = 0; j < kChromaSamples; ++j)
      masked_cr = masked_cr && cr_off[static_cast<size_t>(bx * kChromaSamples + j)] - cr_off[static_cast<size_t>(bx * kChromaSamples)] ==
                                   cr_off[static_cast<size_t>(j)] - cr_off[0];
  // Cells [0, masked_cells) are read with the mask.
  int masked_cells = 0;
  if (masked_cr)
    while (masked_cells < bw_ && cr_off[static_cast<size_t>(masked_cells * kChromaSamples)] + 16 <= av->linesize[cr.plane])
      ++masked_cells;
  const __m128i pick_v = _mm_load_si128(reinterpret_cast<const __m128i*>(pick)), zero = _mm_setzero_si128();
#else
  const int masked_cells = 0;
#endif
  for (int by = 0; by < bh_; ++by) {
    const int cy = std::min(chroma_rows - 1, (by * cell_px + cell_px / 2) >> d->log2_chroma_h);
    const unsigned char* cb_row = av->data[cb.plane] + static_cast<std::ptrdiff_t>(cy) * av->linesize[cb.plane];
    const unsigned char* cr_row = av->data[cr.plane] + static_cast<std::ptrdiff_t>(cy) * av->linesize[cr.plane];
    for (int bx = 0; bx < bw_; ++bx) {
      const size_t k = static_cast<size_t>(bx * kChromaSamples);
      unsigned cr_sum;
#if defined(__SSE2__)
      if (bx < masked_cells) {
        const __m128i sad = _mm_sad_epu8(
            _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(cr_row + cr_off[k])), pick_v), zero);
        cr_sum = static_cast<unsigned>(_mm_cvtsi128_si32(_mm_add_epi32(sad, _mm_srli_si128(sad, 8))));
      } else
#endif
      {
        cr_sum = wide ? chroma_sum<std::uint16_t>(cr_row, &cr_off[k], cr.shift)
                      : chroma_sum<std::uint8_t>(cr_row, &cr_off[k], cr.shift);
      }
      if (cr_sum <= neutral_sum) continue;
      const float crv = static_cast<float>(cr_sum) * to8;
      const float cbv = static_cast<float>(wide ? chroma_sum<std::uint16_t>(cb_row, &cb_off[k], cb.shift)
                                                : chroma_sum<std::uint8_t>(cb_row, &cb_off[k], cb.shift)) * to8;
      const size_t i = static_cast<size_t>(by * bw_ + bx);
      red_[i] = red_level(model_, lin_table_, code_[i], cbv, crv);
      if (red_[i] > 0.f) red_seen_ = true;
    }
  }
}

// One kind of transition, cell by cell, then for the picture. A cell follows
// the extremes of its value since its last transition: after a rise it
// watches its maximum for a fall of min_change (to below max_dark), after a
// fall its minimum for a rise of min_change (from below max_dark), so a
// change spread over several pictures is one transition, dated to the
// picture where it has become large enough. The picture makes a transition
// when the cells that made one in that direction since the picture's last
// transition, within the last `span` pictures, cover min_area_fraction.
PictureTransition FlashAnalyser::step(std::vector<CellTrack>& cells, const std::vector<float>& values,
                                      float min_change, float max_dark, int& dir, std::int32_t& last,
                                      int span) {
  const std::int32_t n = count_;
  int up = 0, down = 0;
  double up_change = 0, down_change = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    CellTrack& c = cells[i];
    const float v = values[i];
    if (c.dir >= 0 && c.hi - v >= min_change && v < max_dark) {
      c.swing = c.hi - v;
      c.dir = -1;
      c.lo = v;
      c.when = n;
    } else if (c.dir <= 0 && v - c.lo >= min_change && c.lo < max_dark) {
      c.swing = v - c.lo;
      c.dir = 1;
      c.hi = v;
      c.when = n;
    } else {
      if (c.dir >= 0) c.hi = std::max(c.hi, v);
      if (c.dir <= 0) c.lo = std::min(c.lo, v);
    }
    if (c.when > last && n - c.when < span) {
      if (c.dir > 0) {
        ++up;
        up_change += c.swing;
      } else {
        ++down;
        down_change += c.swing;
      }
    }
  }
  PictureTransition t;
  const double need = std::max(1.0, p_.min_area_fraction * static_cast<double>(cells.size()));
  if (dir != 1 && up >= need && (dir != 0 || up >= down)) {
    t.dir = 1;
    t.area_fraction = up / static_cast<double>(cells.size());
    t.change = up_change / up;
  } else if (dir != -1 && down >= need) {
    t.dir = -1;
    t.area_fraction = down / static_cast<double>(cells.size());
    t.change = down_change / down;
  }
  if (t.dir != 0) {
    dir = t.dir;
    last = n;
  }
  return t;
}

FlashVerdict FlashAnalyser::analyse(const VideoFrame& frame, int span) {
  FlashVerdict v;
  // The cells of the analysis size (VideoFrame::luma()): the coded size
  // divided by the smallest whole factor that brings the width to 480 or less.
  const int factor = std::max(1, (frame.width() + kAnalysisMaxWidth - 1) / kAnalysisMaxWidth);
  const int cols = frame.width() / factor, even_rows = (frame.height() / factor + 1) / 2;
  if (cols < kCell || even_rows < kCellRows) return v;
  if (cols / kCell != bw_ || even_rows / kCellRows != bh_) layout(cols, even_rows);
  set_model(frame);
  const AVFrame* av = frame.av_frame();
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.pixel_format()));
  if (av && d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM)) &&
      d->comp[0].plane == 0 && d->comp[0].depth == 8 && d->comp[0].step == 1 && d->comp[0].shift == 0 &&
      d->comp[0].offset == 0 && av->data[0] && av->linesize[0] > 0) {
    plane_means(av->data[0], av->linesize[0], frame.height(), factor);
  } else {
    // Deeper or packed pictures: the shared analysis luma, converted once for every detector.
    const cv::Mat& even = frame.luma_even_rows();
    if (even.empty() || even.type() != CV_8UC1 || even.cols / kCell != bw_ || even.rows / kCellRows != bh_) return v;
    cell_means(even);
  }
  if (p_.red) cell_reds(frame, factor);
  double sum = 0;
  for (float l : luminance_) sum += l;
  v.mean_cd_m2 = luminance_.empty() ? 0 : sum / static_cast<double>(luminance_.size());
  if (count_ == 0) {
    // The first picture: every cell's extremes start at its value.
    general_cells_.assign(luminance_.size(), CellTrack{});
    red_cells_.assign(red_.size(), CellTrack{});
    for (size_t i = 0; i < luminance_.size(); ++i) {
      general_cells_[i].lo = general_cells_[i].hi = luminance_[i];
      red_cells_[i].lo = red_cells_[i].hi = red_[i];
    }
  } else {
    v.general = step(general_cells_, luminance_, static_cast<float>(p_.min_change_cd_m2),
                     static_cast<float>(p_.max_dark_cd_m2), general_dir_, general_last_, span);
    // A picture without red after one without red changes no red track: the
    // first one settled every track (a cell that had been red fell back
    // then), and the cells' count towards a picture transition only shrinks.
    if (p_.red && (red_seen_ || red_seen_before_))
      v.red = step(red_cells_, red_, kRedMinChange, std::numeric_limits<float>::infinity(), red_dir_, red_last_,
                   span);
  }
  ++count_;
  return v;
}

}  // namespace avmon::video
