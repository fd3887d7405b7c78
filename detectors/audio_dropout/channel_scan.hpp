// One channel's search for dropouts: short mutes and sample discontinuities.
// Kept apart from the detector shell so the unit tests can drive it sample by
// sample and so the detector can merge what its channels find.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace avmon::audio {

struct DropoutParams {
  double mute_dbfs = -70.0;          // a 1 ms block below this RMS is muted
  double min_mute_ms = 8.0;          // shorter mutes are not reported
  double max_mute_s = 2.0;           // longer mutes are the silence detector's
  double min_programme_dbfs = -65.0; // the audio either side of a mute is at least this loud
  double edge_tolerance_db = 12.0;   // ...and within this of the 50 ms of programme around it
  double click_ratio = 3.0;          // a jump's prediction error vs the largest around it
  double click_min_dbfs = -40.0;     // smallest second difference a click can have
};

// A dropout found on one channel, in samples of the channel's running count.
struct ChannelDropout {
  enum class Kind { Mute, Discontinuity } kind = Kind::Mute;
  std::int64_t start = 0, end = 0;   // [start, end); a discontinuity has start == end
  double edge_dbfs = 0;              // mute: programme level at its quieter edge
  double level_dbfs = 0;             // mute: level inside it; discontinuity: jump size
  double ratio = 0;                  // discontinuity: jump vs the signal around it
};

class ChannelScan {
 public:
  // Context lengths, in 1 ms blocks.
  static constexpr int kEdgeBlocks = 3;       // "just before/after the mute"
  static constexpr int kContextBlocks = 50;   // programme level around a mute
  static constexpr int kClickHistory = 10;    // a jump is compared with 10 ms before...
  static constexpr int kClickLookahead = 3;   // ...and 3 ms after it
  static constexpr int kClickGuard = 16;      // samples either side of a jump that belong to it
  static constexpr int kPredictorOrder = 16;  // linear predictor that explains the signal's own course
  static constexpr double kCandidateRatio = 1.5;  // block maxima test before the exact one
  static constexpr double kMedianRatio = 10.0;    // a jump's prediction error vs the typical one
  static constexpr double kCutDepth = 1e-4;       // 40 dB: a jump after which the sound falls this far is a cut
  // A gated tone: a steady tone switched on from the quiet for at most this
  // long (a sync beep, the pip of a line-up sequence, half a second on and
  // half off) before the mute.
  static constexpr int kMaxBurstBlocks = 600;
  static constexpr int kToneWindow = 5;        // blocks per level window (5 ms: a few periods of a beep)
  static constexpr int kMinToneWindows = 2;    // steady windows a tone needs

  void reset(const DropoutParams& p, int sample_rate);
  // Samples x[0..n) following on from the previous call. Dropouts decided by
  // them go to `found` (in the order they are decided).
  void feed(const float* x, int n, std::vector<ChannelDropout>& found);
  // End of input: decide what waits for context that will not come.
  void finish(std::vector<ChannelDropout>& found);
  // Samples seen so far.
  std::int64_t position() const { return pos_; }
  // Every dropout that can still be reported starts at or after this sample.
  std::int64_t undecided_from() const;
  int block_size() const { return block_; }

 private:
  struct Block {
    double power = 0;                // mean square
    float d2_max = 0;                // largest |second difference|
    std::int64_t d2_pos = 0;         // where it is
    std::int64_t first_loud = -1;    // first / last sample at or above the mute level
    std::int64_t last_loud = -1;
    int crossings = 0;               // sign changes (a tone's frequency)
  };
  struct MuteRun {
    std::int64_t first_block = 0, end_block = 0;  // [first, end)
    std::int64_t start = 0;                       // first muted sample
    double cut_power = 0;                         // mean square of the 1 ms before it
    std::int64_t span_start = 0;                  // first block of the sound before it (after the previous quiet)
  };
  // A steady tone over blocks [from, to): its level and frequency.
  struct Tone {
    double power = 0;         // mean square of its steady part
    double crossing_rate = 0; // sign changes per sample
    std::int64_t samples = 0; // length of its steady part
  };

  void block_done(std::vector<ChannelDropout>& found);
  void judge_mute(const MuteRun& run, std::int64_t blocks_after, std::vector<ChannelDropout>& found);
  void judge_click(std::int64_t b, std::vector<ChannelDropout>& found);
  // The mute is the gap of a gated tone: the same steady tone on both sides,
  // the one before it a short burst switched on from the quiet.
  bool gated_tone(const MuteRun& run, std::int64_t blocks_after) const;
  bool steady_tone(std::int64_t from, std::int64_t to, Tone& t) const;
  const Block& blk(std::int64_t b) const { return blocks_[static_cast<size_t>(b) & blocks_mask_]; }
  float raw(std::int64_t s) const { return raw_[static_cast<size_t>(s) & raw_mask_]; }
  double mean_power(std::int64_t from, std::int64_t to) const;
  // Largest prediction error at the jump at `p` over the largest elsewhere in
  // [from, to) (guard excepted), the predictor fitted on what precedes the jump.
  double prediction_ratio(std::int64_t p, std::int64_t from, std::int64_t to);  // blocks [from, to), clamped to what is kept

  DropoutParams p_;
  int rate_ = 48000, block_ = 48;
  float mute_amp_ = 0;
  double mute_power_ = 0, programme_power_ = 0, edge_factor_ = 0;
  float click_min_ = 0;
  std::int64_t min_mute_samples_ = 0, max_mute_blocks_ = 0;

  std::vector<Block> blocks_;        // ring, the last blocks
  size_t blocks_mask_ = 0;
  std::vector<float> raw_;           // ring, the last samples (clicks are verified on them)
  size_t raw_mask_ = 0;

  std::int64_t pos_ = 0;             // samples seen
  std::int64_t nblocks_ = 0;         // complete blocks
  Block cur_;
  int in_block_ = 0;
  double sq_ = 0;
  float p1_ = 0, p2_ = 0;            // previous two samples (second difference)

  bool in_run_ = false;
  MuteRun run_;
  std::int64_t span_start_ = -1;     // first block after the last quiet one (-1: none seen; the sound may have run before)
  std::deque<MuteRun> waiting_;      // ended mutes waiting for the programme after them
  std::vector<double> errors_;       // prediction errors around a candidate (scratch)
  std::vector<float> d2_;            // |second differences| of the current segment (scratch)
  std::vector<double> lin_;          // the samples they are computed from, out of the ring (scratch)
};

}  // namespace avmon::audio
