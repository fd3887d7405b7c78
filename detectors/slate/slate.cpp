#include "slate/slate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "avmon/registry.hpp"
#include "video_common/blocks.hpp"

namespace avmon::video {

namespace {

constexpr int kBlockW = kSadBlockWidth, kBlockRows = 4;  // 8x8 of the analysis luma: 8 columns x 4 even rows
constexpr double kConfirmHold_s = 1.0;      // programme holds pictures for a fraction of a second
constexpr double kDarkLuma = 32;            // 8-bit: a block this dark is black (limited range: black + 16)
constexpr double kMaxDarkFraction = 0.9;    // a black picture with a logo is black's, not a slate

}  // namespace

const std::vector<unsigned char>* SlateAnalyser::excluded(cv::Size plane) {
  return mask_.empty() ? nullptr : &mask_.blocks(plane, kBlockW, kBlockRows);
}

double SlateAnalyser::moving_fraction(const cv::Mat& luma, const cv::Mat& ref) {
  const int bw = luma.cols / kBlockW, bh = luma.rows / kBlockRows;
  if (bw <= 0 || bh <= 0) return 1;
  // Blocks that overlap an exclusion region take no part: a clock or a
  // ticker running over a card does not make it move.
  const std::vector<unsigned char>* out = excluded(luma.size());
  int moving = 0, counted = 0;
  const double limit = p_.block_threshold * kBlockW * kBlockRows;
  for (int by = 0; by < bh; ++by) {
    sads_.assign(static_cast<size_t>(bw), 0u);
    for (int r = 0; r < kBlockRows; ++r) {
      const int y = by * kBlockRows + r;
      add_block_sads(luma.ptr<unsigned char>(y), ref.ptr<unsigned char>(y), bw, sads_);
    }
    for (int bx = 0; bx < bw; ++bx) {
      if (out && (*out)[static_cast<size_t>(by * bw + bx)]) continue;
      ++counted;
      moving += sads_[static_cast<size_t>(bx)] > limit;
    }
  }
  return counted == 0 ? 0 : static_cast<double>(moving) / counted;
}

SlateLook SlateAnalyser::look(const cv::Mat& luma) {
  SlateLook l;
  const int bw = luma.cols / kBlockW, bh = luma.rows / kBlockRows;
  if (bw <= 0 || bh <= 0) return l;
  const std::vector<unsigned char>* out = excluded(luma.size());
  int flat = 0, dark = 0, counted = 0;
  double total = 0;
  for (int by = 0; by < bh; ++by) {
    for (int bx = 0; bx < bw; ++bx) {
      if (out && (*out)[static_cast<size_t>(by * bw + bx)]) continue;
      ++counted;
      // Detail: mean |difference| to the right and downwards neighbours
      // (the rows are every other analysis row: a gradient background moves
      // a level or two, text and natural texture much more).
      int sum = 0, grad = 0;
      for (int r = 0; r < kBlockRows; ++r) {
        const int y = by * kBlockRows + r;
        const unsigned char* p = luma.ptr<unsigned char>(y) + bx * kBlockW;
        const unsigned char* below = y + 1 < luma.rows ? p + luma.step[0] : p;
        for (int i = 0; i < kBlockW; ++i) {
          sum += p[i];
          const int right = bx * kBlockW + i + 1 < luma.cols ? p[i + 1] : p[i];
          grad += std::abs(right - p[i]) + std::abs(below[i] - p[i]);
        }
      }
      const double mean = static_cast<double>(sum) / (kBlockW * kBlockRows);
      total += mean;
      flat += grad <= p_.flat_detail * kBlockW * kBlockRows;
      dark += mean <= kDarkLuma;
    }
  }
  if (counted == 0) return l;
  const double n = counted;
  l.flat_fraction = flat / n;
  l.dark_fraction = dark / n;
  l.mean_luma = total / n;
  return l;
}

bool SlateAnalyser::is_slate(const SlateLook& l) const {
  return l.flat_fraction >= p_.min_flat_fraction && l.dark_fraction < kMaxDarkFraction;
}

SlateDetector::SlateDetector(const Options& o)
    : analyser_(SlateParams{o.get_double("block_threshold"), o.get_double("max_moving_fraction"),
                            o.get_double("flat_detail"), o.get_double("min_flat_fraction"),
                            o.get_regions("exclude_regions")}) {}

void SlateDetector::configure(const StreamInfo&) { ref_.release(); }

void SlateDetector::on_discontinuity(double) { ref_.release(); }

void SlateDetector::restart(const cv::Mat& luma, double media_time_s) {
  hold_picture(luma, ref_);
  hold_start_s_ = media_time_s;
  max_moving_ = 0;
  looked_ = slate_ = false;
}

void SlateDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const cv::Mat& luma = frame.luma_even_rows();
  const double t = frame.media_time_s();
  if (ref_.empty() || ref_.size() != luma.size()) {
    restart(luma, t);
  } else {
    const double moving = analyser_.moving_fraction(luma, ref_);
    if (moving > analyser_.max_moving_fraction()) restart(luma, t);
    else max_moving_ = std::max(max_moving_, moving);
  }
  // Judged once per hold, when it has lasted long enough to matter: moving
  // programme never pays for it.
  const double held_s = t - hold_start_s_;
  if (!looked_ && held_s >= kConfirmHold_s) {
    look_ = analyser_.look(ref_);
    slate_ = analyser_.is_slate(look_);
    looked_ = true;
  }
  Observation obs;
  obs.type = "slate";
  obs.media_time_s = t;
  obs.active = looked_ && slate_;
  if (obs.active) {
    obs.since_s = hold_start_s_;
    obs.score = look_.flat_fraction;
    obs.details = {{"held_s", std::round(held_s * 100) / 100},
                   {"flat_fraction", std::round(look_.flat_fraction * 1000) / 1000},
                   {"moving_fraction", std::round(max_moving_ * 1000) / 1000},
                   {"mean_luma", std::round(look_.mean_luma * 10) / 10}};
  }
  out.observe(std::move(obs));
}

DetectorInfo describe_slate() {
  DetectorInfo d;
  d.name = "slate";
  d.summary = "a still graphic card (slate, \"we'll be right back\") instead of programme, a clock on it allowed";
  d.media = kVideo;
  // Pictures needed: a slate is a lasting state; reference pictures show it and its stillness.
  d.pictures = PictureNeed::Reference;
  d.types = {"slate"};
  // A slate is a still picture: without this every slate would also be a freeze.
  d.suppresses = {"freeze"};
  // Off unless asked for: while a held picture could still become a slate
  // it suppresses freeze, so with slate on a frozen flat picture (animation,
  // graphics) is reported only after min_duration_s, as a slate. A channel
  // that airs cards turns it on knowing that.
  d.enabled_by_default = false;
  d.min_duration_s = 10.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.options = {
      {"block_threshold", OptionType::Double, 4.0, 0.5, 64.0, "8-bit levels",
       "mean |difference| against the held picture that makes an 8x8 analysis block changed", {}},
      {"max_moving_fraction", OptionType::Double, 0.1, 0.0, 0.5, "fraction",
       "share of blocks that may change while the picture still stands (a clock, a small animation)", {}},
      {"flat_detail", OptionType::Double, 1.5, 0.1, 32.0, "8-bit levels",
       "mean |gradient| of an 8x8 analysis block below which it is flat (plain or gradient background)", {}},
      {"min_flat_fraction", OptionType::Double, 0.7, 0.1, 1.0, "fraction",
       "share of flat blocks that makes the held picture a graphic card rather than a frozen camera picture", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<SlateDetector>(o); };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(slate, avmon::video::describe_slate);
