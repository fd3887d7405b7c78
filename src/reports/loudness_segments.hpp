// The loudness log's measuring side: cuts the programme audio into segments
// (fixed length: media time for files, the UTC wall clock for live inputs,
// so that hourly segments start on the hour) and measures each as if it
// were a file of its own, the way FFmpeg's ebur128 filter measures an
// `atrim`med piece: integrated loudness (BS.1770 gating over the 400 ms
// blocks that lie inside the segment), loudness range (EBU Tech 3342 over
// the segment's 3 s windows), maximum momentary and short-term loudness, and
// true peak. Each segment becomes one `report.loudness` line carrying a
// one-second loudness series, so the report can be rebuilt from the events
// file alone.
//
// A segment also ends at the splice points of SCTE-35 cues when asked
// (splice()): an out starts a break segment, an in a programme segment. And
// where the audio is AC-3 or E-AC-3, the dialogue level its frames declare
// (set_dialnorm()) is compared with what was measured.
//
// Runs on the decoding thread, with libebur128 (K-weighting and its 4x
// oversampled true peak, read per 100 ms step so that each segment has its
// own).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "avmon/frame.hpp"
#include "reports/presets.hpp"

namespace avmon::reports {

struct SegmenterOptions {
  double segment_s = 3600;    // segment length; a multiple of 0.1 s
  bool wall_aligned = false;  // live: segments end where the UTC wall clock crosses a multiple of segment_s
  LoudnessPreset preset;
  bool on_interval = true;    // segments end every segment_s (else only at splices and the end)
  // A segment whose integrated loudness is further than this from its
  // dialnorm fails (AC-3 / E-AC-3 audio).
  double dialnorm_tolerance_db = 2.0;
};

// One second of the loudness history: the short-term loudness at its end
// and the highest momentary loudness in it (none: below the gate, or the
// window not yet filled since the segment's start or a gap).
struct LoudnessPoint {
  double media_time_s = 0;                // end of the second
  std::optional<double> wall_s;           // live: UTC seconds since the epoch at that point
  std::optional<double> short_term_lufs, momentary_max_lufs;
};

class LoudnessSegmenter {
 public:
  explicit LoudnessSegmenter(SegmenterOptions o);
  ~LoudnessSegmenter();
  LoudnessSegmenter(const LoudnessSegmenter&) = delete;
  LoudnessSegmenter& operator=(const LoudnessSegmenter&) = delete;

  // Feeds one block; `wall_s` is the UTC wall clock at its arrival (used
  // with wall_aligned). Returns the report.loudness lines of the segments
  // it completed (usually none).
  std::vector<nlohmann::json> feed(const AudioBlock& b, double wall_s);
  // Timestamps jumped or media stopped: no window spans the gap.
  void discontinuity();
  // The dialogue level (dB, -1 to -31) declared by the compressed frames of
  // the audio fed next; none: the audio declares none (not AC-3).
  void set_dialnorm(std::optional<int> dialnorm_db) { dialnorm_db_ = dialnorm_db; }
  // A splice point at `media_time_s` (usually ahead of the audio: cues come
  // with a pre-roll): the segment in progress ends at the 100 ms step
  // nearest to it, and the next starts as a break (`out`) or programme.
  // `automatic`: the return a break_duration with auto_return implies; an
  // explicit return of the same event replaces it.
  void splice(double media_time_s, bool out, std::optional<std::uint32_t> event_id, bool automatic = false);
  // The event's splices not yet reached are forgotten (a cancelled cue).
  void cancel_splice(std::uint32_t event_id);
  // End of input: the segment in progress as a line, if it has audio.
  std::optional<nlohmann::json> finish();

  // Called for each completed second (the live loudness history).
  std::function<void(const LoudnessPoint&)> on_point;

 private:
  struct Segment;
  void setup(const AudioBlock& b);
  void step_done(double end_s, double wall_s, std::vector<nlohmann::json>& out);
  double window_energy(int steps) const;
  nlohmann::json close_segment();
  struct Splice {
    double media_time_s = 0;
    bool out = false, automatic = false;
    std::optional<std::uint32_t> event_id;
  };

  SegmenterOptions o_;
  void* st_ = nullptr;  // ebur128_state* (a C header kept out of ours)
  int rate_ = 0, channels_ = 0;
  std::vector<float> interleaved_;
  double true_peak_ = 0;          // of the segment in progress, as an amplitude
  // Sample clock: media time `anchor_s_` + samples_ / rate_.
  bool have_clock_ = false;
  double anchor_s_ = 0;
  long long samples_ = 0;
  long long next_step_ = 0;       // index of the 100 ms step in progress (ends at next_step_ * 0.1 s)
  std::vector<double> ring_;      // K-weighted mean square of the last 30 steps
  int ring_pos_ = 0;
  int fresh_steps_ = 0;           // steps since start or a gap
  double last_wall_s_ = 0;
  std::unique_ptr<Segment> seg_;
  long long seg_index_ = 0;       // media or wall segment number of seg_
  int sequence_ = 0;              // segments reported so far
  std::optional<int> dialnorm_db_;
  std::vector<Splice> splices_;   // announced, not yet reached; in time order
  // How the next segment starts: "start", "interval", "splice_out", "splice_in".
  std::string next_reason_ = "start";
  std::optional<std::uint32_t> next_event_id_;
  bool in_break_ = false;         // between a splice out and its return
};

}  // namespace avmon::reports
