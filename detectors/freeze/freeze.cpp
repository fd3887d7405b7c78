#include "freeze/freeze.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "avmon/registry.hpp"
#include "video_common/blocks.hpp"

namespace avmon::video {

namespace {

constexpr int kBlock = kSadBlockWidth;  // analysis-size block: ~60x34 blocks on a 480-px picture
constexpr int kBlockRows = kBlock / 2;  // ... of which every other row is read (luma_even_rows())
constexpr size_t kLiveWindow = 25; // pictures of live-noise history (about 1 s)
constexpr double kConfirmHold_s = 1.0;
constexpr double kMaxNoiseThreshold = 10.0;  // 8-bit levels
// Mean |horizontal gradient| of ordinary programme at analysis size is 5-15
// levels; below this the change threshold shrinks in proportion, down to a
// quarter (a night scene at a few percent contrast still moves by a level).
constexpr double kTypicalActivity = 6.0;
constexpr double kMinDetailScale = 0.25;
constexpr double kKeyPictureFactor = 2.0;
constexpr double kStrongBlockFraction = 0.05;
constexpr double kStrongBlockDiff = 32.0;  // 8-bit levels

// The element at index size/2 of the sorted block differences (what
// nth_element would give) of the blocks not excluded. It is read from the
// blocks' whole sums (a difference is its sum / 32, at most 255 * 32): one
// pass counts every sum and every run of 32 sums, the runs' counts find the
// run and that run's counts the sum, without sorting or converting; a
// second pass over the sums clears the counts they touched (cheaper than
// clearing all 8192).
double median_of(const std::vector<std::uint16_t>& sums, const std::vector<unsigned char>* excluded,
                 std::vector<unsigned>& counts) {
  static constexpr int kSteps = kBlock * kBlockRows;  // 32 steps per level
  static constexpr size_t kSums = 256 * kSteps;       // every possible sum; the runs' counts follow
  if (counts.size() != kSums + 256) counts.assign(kSums + 256, 0u);
  unsigned* fine = counts.data();
  unsigned* coarse = fine + kSums;
  size_t n = 0;
  if (excluded == nullptr) {
    for (std::uint16_t k : sums) {
      ++fine[k];
      ++coarse[k >> 5];
    }
    n = sums.size();
  } else {
    for (size_t i = 0; i < sums.size(); ++i)
      if (!(*excluded)[i]) ++fine[sums[i]], ++coarse[sums[i] >> 5], ++n;
  }
  double median = 0;
  if (n > 0) {
    size_t rank = n / 2, bin = 0;
    while (rank >= coarse[bin]) rank -= coarse[bin++];
    size_t k = bin * 32;
    while (rank >= fine[k]) rank -= fine[k++];
    median = static_cast<double>(k) / kSteps;
  }
  for (std::uint16_t k : sums) {
    fine[k] = 0;
    coarse[k >> 5] = 0;
  }
  return median;
}

}  // namespace

// Mean |a - b| per 8x8 block, from every other row of the block (the
// pictures are luma_even_rows()): motion and noise statistics do not need
// every row, and this runs on every picture.
void FreezeAnalyser::block_diffs(const cv::Mat& a, const cv::Mat& b, std::vector<float>& out) {
  const int bw = a.cols / kBlock, bh = a.rows / kBlockRows;
  // Every element is written below.
  out.resize(static_cast<size_t>(bw) * static_cast<size_t>(bh));
  diff_sums_.resize(out.size());
  acc_.resize(static_cast<size_t>(bw));
  constexpr float inv_n = 1.f / (kBlock * kBlockRows);
  for (int by = 0; by < bh; ++by) {
    const unsigned char *pa[kBlockRows], *pb[kBlockRows];
    for (int r = 0; r < kBlockRows; ++r) {
      pa[r] = a.ptr<unsigned char>(by * kBlockRows + r);
      pb[r] = b.ptr<unsigned char>(by * kBlockRows + r);
    }
    block_sads(pa, pb, kBlockRows, bw, acc_.data());
    for (int bx = 0; bx < bw; ++bx) {
      const unsigned sum = acc_[static_cast<size_t>(bx)];
      out[static_cast<size_t>(by * bw + bx)] = static_cast<float>(sum) * inv_n;
      diff_sums_[static_cast<size_t>(by * bw + bx)] = static_cast<std::uint16_t>(sum);
    }
  }
}

// Per 8x8 block, the mean |horizontal gradient| of a picture (every other
// row): how much detail there is. Coding noise grows with detail (a held
// picture re-encoded at each key picture changes most where it is textured);
// motion changes a block by about its detail or more. Returns the picture's mean.
double FreezeAnalyser::block_activity(const cv::Mat& luma, std::vector<float>& out) {
  const int bw = luma.cols / kBlock, bh = luma.rows / kBlockRows;
  out.assign(static_cast<size_t>(bw) * static_cast<size_t>(bh), 0.f);
  std::vector<unsigned>& acc = acc_;
  acc.resize(static_cast<size_t>(bw));
  double total = 0;
  // Each row against itself one pixel on; each block's last column looks
  // one pixel right, so only blocks with a pixel after them go in pairs.
  const int paired = std::min(bw, (luma.cols - 1) / kBlock);
  for (int by = 0; by < bh; ++by) {
    const unsigned char *p[kBlockRows], *next[kBlockRows];
    for (int r = 0; r < kBlockRows; ++r) {
      p[r] = luma.ptr<unsigned char>(by * kBlockRows + r);
      next[r] = p[r] + 1;
    }
    block_sads(p, next, kBlockRows, paired, acc.data());
    for (int bx = paired; bx < bw; ++bx) {
      // The picture's last block looks at its own last-but-one column instead.
      const int x0 = bx * kBlock, last = std::min(x0 + kBlock, luma.cols - 1);
      unsigned sum = 0;
      for (int r = 0; r < kBlockRows; ++r)
        for (int x = x0; x < last; ++x) sum += static_cast<unsigned>(std::abs(p[r][x] - p[r][x + 1]));
      acc[static_cast<size_t>(bx)] = sum;
    }
    for (int bx = 0; bx < bw; ++bx) {
      const int x0 = bx * kBlock, last = std::min(x0 + kBlock, luma.cols - 1);
      const float a = static_cast<float>(acc[static_cast<size_t>(bx)]) / static_cast<float>((last - x0) * kBlockRows);
      out[static_cast<size_t>(by * bw + bx)] = a;
      total += a;
    }
  }
  if (excluded_ == nullptr) return out.empty() ? 0 : total / static_cast<double>(out.size());
  const std::vector<float>& k = kept(out);
  total = 0;
  for (float a : k) total += a;
  return k.empty() ? 0 : total / static_cast<double>(k.size());
}

const std::vector<float>& FreezeAnalyser::kept(const std::vector<float>& v) {
  if (excluded_ == nullptr) return v;
  kept_.clear();
  for (size_t i = 0; i < v.size(); ++i)
    if (!(*excluded_)[i]) kept_.push_back(v[i]);
  return kept_;
}

FreezeVerdict FreezeAnalyser::analyse(const cv::Mat& luma, bool key_picture) {
  FreezeVerdict v;
  // Blocks that overlap an exclusion region take no part: a clock or a ticker
  // moving over a held picture is not new content.
  excluded_ = mask_.empty() ? nullptr : &mask_.blocks(luma.size(), kBlock, kBlockRows);
  if (!has_ref_ || luma.size() != ref_.size() || luma.type() != ref_.type() || luma.cols < kBlock ||
      luma.rows < kBlockRows) {
    hold_picture(luma, ref_);
    hold_picture(luma, prev_);
    ref_activity_ = block_activity(ref_, ref_block_activity_);
    has_ref_ = true;
    v.changed = true;
    return v;
  }
  block_diffs(luma, ref_, diff_ref_);
  v.noise_floor = median_of(diff_sums_, excluded_, median_counts_);
  // The noise floor raises the threshold for noisy held pictures, but only up
  // to what coding noise can be: a picture that changes everywhere (a flash,
  // a fade, a cut to similar content) is new content, not louder noise.
  const double detail = std::clamp(ref_activity_ / kTypicalActivity, kMinDetailScale, 1.0);
  const double threshold =
      std::max(p_.block_threshold * detail, std::min(kMaxNoiseThreshold, p_.noise_factor * v.noise_floor));
  // A key picture re-codes a held picture from scratch: its coding noise is
  // the largest of the GOP. Motion does not stop at one picture, so asking
  // more of key pictures loses nothing but a change of exactly one picture.
  const double strictness = key_picture ? kKeyPictureFactor : 1.0;
  double max_changed = 0;
  size_t analysed = 0;
  for (size_t i = 0; i < diff_ref_.size(); ++i) {
    if (excluded_ != nullptr && (*excluded_)[i]) continue;
    ++analysed;
    const double d = diff_ref_[i];
    v.max_block_diff = std::max(v.max_block_diff, d);
    if (d > threshold * strictness && d > p_.texture_factor * strictness * ref_block_activity_[i]) {
      ++v.changed_blocks;
      max_changed = std::max(max_changed, d);
    }
  }
  const bool differs = v.changed_blocks >= p_.min_changed_blocks;
  // A strong change (many blocks, or a block changed by a lot) is new content
  // at once. A weak one must still be there on the next picture: the coding
  // transients around a hold (B pictures predicted across it, quality
  // refinement) last one picture and fall back; motion does not.
  const bool strong = differs && (v.changed_blocks >= kStrongBlockFraction * static_cast<double>(analysed) ||
                                  max_changed >= kStrongBlockDiff);
  v.changed = strong || (differs && pending_);
  v.began_at_previous = v.changed && !strong;
  pending_ = differs && !v.changed;
  v.pending = pending_;
  if (v.changed || (key_picture && !pending_)) {
    // A changed picture starts a new hold. An unchanged key picture re-bases
    // the hold on itself: the pictures predicted from it carry its coding
    // noise, not the old one's, and must be compared with it.
    hold_picture(luma, ref_);
    ref_activity_ = block_activity(ref_, ref_block_activity_);
  }
  if (!v.changed) {
    block_diffs(luma, prev_, diff_prev_);
    v.frame_noise = median_of(diff_sums_, excluded_, median_counts_);
  }
  hold_picture(luma, prev_);
  return v;
}

namespace {

FreezeParams params_from(const Options& o) {
  FreezeParams p;
  p.block_threshold = o.get_double("block_threshold");
  p.noise_factor = o.get_double("noise_factor");
  p.min_changed_blocks = static_cast<int>(o.get_int("min_changed_blocks"));
  p.texture_factor = o.get_double("texture_factor");
  p.live_noise_level = o.get_double("live_noise_level");
  p.live_fraction = o.get_double("live_fraction");
  p.exclude_regions = o.get_regions("exclude_regions");
  return p;
}

}  // namespace

FreezeDetector::FreezeDetector(const Options& o)
    : analyser_(params_from(o)), params_(params_from(o)), live_ring_(kLiveWindow, 0) {}

void FreezeDetector::configure(const StreamInfo&) { on_discontinuity(0); }

void FreezeDetector::on_discontinuity(double) {
  analyser_.reset();
  last_active_ = false;
  held_frames_ = 0;
  std::fill(live_ring_.begin(), live_ring_.end(), 0);
  live_pos_ = 0;
  live_count_ = live_seen_ = 0;
}

void FreezeDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const DecodeInfo& di = frame.decode_info();
  const FreezeVerdict v = analyser_.analyse(frame.luma_even_rows(), di.key_frame || di.pict_type == 'I');
  const double t = frame.media_time_s();
  Observation obs;
  obs.type = "freeze";
  obs.media_time_s = t;
  if (v.changed) {
    // The engine dates the end of a freeze at the first new picture.
    const double changed_at = v.began_at_previous ? prev_time_s_ : t;
    obs.since_s = changed_at;
    hold_start_s_ = changed_at;
    prev_time_s_ = t;
    held_frames_ = 0;
    std::fill(live_ring_.begin(), live_ring_.end(), 0);
    live_pos_ = 0;
    live_count_ = live_seen_ = 0;
    obs.active = false;
    last_active_ = false;
    out.observe(std::move(obs));
    return;
  }
  prev_time_s_ = t;
  if (v.pending) {
    // Undecided (a weak change): keep reporting the hold as it was.
    if (last_active_) {
      obs.active = true;
      obs.since_s = hold_start_s_;
      obs.score = t - hold_start_s_;
    }
    out.observe(std::move(obs));
    return;
  }
  ++held_frames_;
  const unsigned char live_now = v.frame_noise >= params_.live_noise_level ? 1 : 0;
  live_count_ += live_now - live_ring_[live_pos_];
  live_ring_[live_pos_] = live_now;
  live_pos_ = (live_pos_ + 1) % live_ring_.size();
  live_seen_ = std::min<int>(live_seen_ + 1, static_cast<int>(live_ring_.size()));
  const bool live = live_count_ >= params_.live_fraction * live_seen_ && live_count_ > 0;
  // Repeated pictures are common in programme (frame-rate conversion, low
  // frame-rate sources, animation holding a drawing for a few frames); they
  // are reported only once the hold outlasts them, so that a short hold right
  // after a freeze does not extend it through the engine's hold-off. The
  // engine's minimum duration then decides, counted from the first picture.
  obs.active = held_frames_ >= 2 && t - hold_start_s_ >= kConfirmHold_s && !live;
  obs.since_s = obs.active ? std::optional<double>(hold_start_s_) : std::nullopt;
  obs.score = t - hold_start_s_;
  last_active_ = obs.active;
  if (obs.active)
    obs.details = {{"held_s", std::round((t - hold_start_s_) * 1000) / 1000},
                   {"max_block_diff", std::round(v.max_block_diff * 100) / 100},
                   {"noise_floor", std::round(v.noise_floor * 100) / 100}};
  out.observe(std::move(obs));
}

DetectorInfo describe_freeze() {
  DetectorInfo d;
  d.name = "freeze";
  d.summary = "picture content stopped changing (held or repeated frames; not a static shot with live motion)";
  d.media = kVideo;
  // Pictures needed: holds are confirmed picture by picture and tuned on coding noise with the loop filter
  // on.
  d.pictures = PictureNeed::All;
  d.types = {"freeze"};
  d.min_duration_s = 2.0;
  d.hold_off_s = 0.5;
  d.severity = "major";
  d.options = {
      {"block_threshold", OptionType::Double, 4.0, 0.5, 64.0, "8-bit levels",
       "an 8x8 analysis block changed when its mean |difference| from the held picture exceeds this", {}},
      {"noise_factor", OptionType::Double, 3.0, 1.0, 20.0, "ratio",
       "... and exceeds this many times the picture's noise floor (median block difference)", {}},
      {"texture_factor", OptionType::Double, 0.75, 0.0, 10.0, "ratio",
       "... and exceeds this many times the block's own detail (mean |gradient|): coding noise of a "
       "re-encoded held picture grows with detail, motion changes a block by about its detail or more", {}},
      {"min_changed_blocks", OptionType::Int, std::int64_t{2}, 1.0, 10000.0, "blocks",
       "changed blocks that make a picture new content (a block is ~1/2000 of the picture)", {}},
      {"live_noise_level", OptionType::Double, 1.5, 0.1, 64.0, "8-bit levels",
       "median picture-to-picture block difference that is live (sensor) noise", {}},
      {"live_fraction", OptionType::Double, 0.5, 0.0, 1.0, "fraction",
       "share of the last second's pictures with live noise that keeps a static picture live", {}},
      exclude_regions_option(),
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<FreezeDetector>(o); };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(freeze, avmon::video::describe_freeze);
