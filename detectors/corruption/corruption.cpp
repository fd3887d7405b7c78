#include "corruption/corruption.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "avmon/registry.hpp"

namespace avmon::video {

namespace {

constexpr int kColStride = 4;  // sampled columns along horizontal grid lines
constexpr double kBaselineRatio = 2.5;
constexpr int kMinPictureStreak = 2;

inline bool broken(int step, int n1, int n2, const GridParams& p) {
  return step >= p.min_step && step >= p.step_ratio * std::max(n1, n2) + 2;
}

}  // namespace

// Damage is concealed per macroblock, so edges on the 16-px grid are compared
// with edges 8 px off it: both are transform-block boundaries, so the
// blocking of clean heavy compression cancels, and what remains is
// macroblock-sized damage. Only every `phases`-th macroblock row is examined
// on one picture (rotating), which keeps the reads of the full-size plane to
// a fraction of it.
GridStats analyse_grid(const cv::Mat& y, const GridParams& p, int phase) {
  GridStats s;
  const int b = p.block_px, half = b / 2, phases = std::max(1, p.phases);
  if (y.empty() || y.type() != CV_8UC1 || y.cols < 4 * b || y.rows < 4 * b) return s;
  phase = ((phase % phases) + phases) % phases;
  // Vertical grid lines (steps between columns x-1 and x), on the middle row
  // of the examined macroblock rows. Broken counts are kept per grid column:
  // a column broken on most rows is a straight content edge (a graphic, a
  // pillarbox, a bar), not damage, and is left out.
  constexpr int kMaxColumns = 512;  // 8192 px / 16
  std::array<unsigned short, kMaxColumns> col_on{}, col_off{};
  const int columns = std::min(kMaxColumns, (y.cols - half - 2) / b);
  int rows_examined = 0;
  for (int mb = phase; (mb + 1) * b <= y.rows; mb += phases, ++rows_examined) {
    const unsigned char* r = y.ptr<unsigned char>(mb * b + half);
    for (int c = 0; c < columns; ++c) {
      const int gx = (c + 1) * b;
      for (int off = 0; off <= half; off += half) {
        const int x = gx + off;
        const bool is_broken = broken(std::abs(r[x] - r[x - 1]), std::abs(r[x - 1] - r[x - 2]),
                                      std::abs(r[x + 1] - r[x]), p);
        (off == 0 ? col_on : col_off)[static_cast<size_t>(c)] += is_broken;
      }
    }
  }
  for (int c = 0; c < columns; ++c) {
    const int on = col_on[static_cast<size_t>(c)], off = col_off[static_cast<size_t>(c)];
    if (on * 2 <= rows_examined) {
      s.on_grid += rows_examined;
      s.on_broken += on;
    }
    if (off * 2 <= rows_examined) {
      s.off_grid += rows_examined;
      s.off_broken += off;
    }
  }
  // Horizontal grid lines (steps between rows gy-1 and gy), on sampled columns.
  for (int mb = phase + 1; mb * b + half + 1 < y.rows; mb += phases) {
    for (int off = 0; off <= half; off += half) {
      const int yy = mb * b + off;
      const unsigned char* r_2 = y.ptr<unsigned char>(yy - 2);
      const unsigned char* r_1 = y.ptr<unsigned char>(yy - 1);
      const unsigned char* r0 = y.ptr<unsigned char>(yy);
      const unsigned char* r1 = y.ptr<unsigned char>(yy + 1);
      int examined = 0, n_broken = 0;
      for (int x = 1; x < y.cols; x += kColStride) {
        ++examined;
        n_broken += broken(std::abs(r0[x] - r_1[x]), std::abs(r_1[x] - r_2[x]), std::abs(r1[x] - r0[x]), p);
      }
      // A line broken along most of its length is a straight content edge
      // (letterbox, lower third, the bottom of colour bars): left out.
      if (n_broken * 2 > examined) continue;
      if (off == 0) {
        s.on_grid += examined;
        s.on_broken += n_broken;
      } else {
        s.off_grid += examined;
        s.off_broken += n_broken;
      }
    }
  }
  return s;
}

namespace {

CorruptionParams params_from(const Options& o) {
  CorruptionParams p;
  p.grid.min_step = static_cast<int>(o.get_int("edge_min_step"));
  p.grid.step_ratio = o.get_double("edge_step_ratio");
  p.picture_threshold = o.get_double("picture_threshold");
  p.picture_jump = o.get_double("picture_jump");
  p.max_recovery_s = o.get_double("max_recovery_s");
  return p;
}

}  // namespace

CorruptionDetector::CorruptionDetector(const Options& o) : p_(params_from(o)) {}

void CorruptionDetector::reset() {
  seen_key_ = false;
  damaged_ = false;
  decoder_evidence_ = false;
  baseline_ = -1;
  picture_streak_ = 0;
  incident_errors_ = incident_corrupt_frames_ = incident_picture_frames_ = 0;
  incident_peak_score_ = 0;
}

void CorruptionDetector::configure(const StreamInfo&) { reset(); }

void CorruptionDetector::on_discontinuity(double) {
  // After a gap the decoder rejoins the stream: errors before the next key
  // picture are the join, not damage. An open incident is ended by the host.
  reset();
}

void CorruptionDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const DecodeInfo& di = frame.decode_info();
  const double t = frame.media_time_s();
  const bool key = di.key_frame || di.pict_type == 'I';
  if (key) seen_key_ = true;

  const bool decoder_error = seen_key_ && (di.corrupt || di.decode_error_flags != 0 || di.errors_before > 0);
  const GridStats grid = analyse_grid(frame.luma_full(), p_.grid, static_cast<int>(frame.index() % 2));
  const double score = grid.score();
  // Picture evidence alone must stand out from what this stream's clean
  // pictures look like (synthetic graphics and heavy compression have grid
  // edges of their own) and must last two pictures: damage persists until a
  // key picture, a single odd picture is not damage.
  const bool damaged_look = baseline_ >= 0 && score >= p_.picture_threshold && grid.concentrated_on_grid() &&
                            score >= kBaselineRatio * baseline_ + p_.picture_jump;
  if (damaged_look && picture_streak_ == 0) picture_streak_start_s_ = t;
  picture_streak_ = damaged_look ? picture_streak_ + 1 : 0;
  const bool picture_damage = picture_streak_ >= kMinPictureStreak;

  if (decoder_error || picture_damage) {
    if (!damaged_) {
      damaged_ = true;
      incident_start_s_ = decoder_error ? t : picture_streak_start_s_;
      decoder_evidence_ = false;
      incident_errors_ = incident_corrupt_frames_ = incident_picture_frames_ = 0;
      incident_peak_score_ = 0;
    }
    decoder_evidence_ = decoder_evidence_ || decoder_error;
    last_evidence_s_ = t;
    incident_errors_ += di.errors_before;
    incident_corrupt_frames_ += di.corrupt ? 1 : 0;
    incident_picture_frames_ += picture_damage ? 1 : 0;
    incident_peak_score_ = std::max(incident_peak_score_, score);
  } else if (damaged_) {
    // Predicted pictures inherit the damage: a clean key picture ends it. A
    // stream without key pictures (intra refresh) ends after a clean spell.
    const double clean_for_s = t - last_evidence_s_;
    if ((key && score < p_.picture_threshold) ||
        clean_for_s >= (decoder_evidence_ ? p_.max_recovery_s : p_.picture_recovery_s))
      damaged_ = false;
  }
  if (!damaged_) {
    // The baseline is what this stream's clean pictures look like (heavily
    // compressed MPEG-2 shows its grid); it moves slowly (~4 s at 25 fps).
    baseline_ = baseline_ < 0 ? score : baseline_ + (score - baseline_) * 0.01;
  }

  Observation obs;
  obs.type = "corruption";
  obs.media_time_s = t;
  obs.active = damaged_;
  if (damaged_) obs.since_s = incident_start_s_;
  obs.score = score;
  if (damaged_)
    obs.details = {{"decoder_errors", incident_errors_},
                   {"corrupt_frames", incident_corrupt_frames_},
                   {"picture_damaged_frames", incident_picture_frames_},
                   {"grid_score", std::round(score * 1000) / 1000},
                   {"peak_grid_score", std::round(incident_peak_score_ * 1000) / 1000},
                   {"evidence", decoder_evidence_ ? "decoder" : "picture"}};
  out.observe(std::move(obs));
}

DetectorInfo describe_corruption() {
  DetectorInfo d;
  d.name = "corruption";
  d.summary = "bitstream damage or packet loss: decoder errors and macroblock damage on the coding grid";
  d.media = kVideo;
  d.types = {"corruption"};
  d.min_duration_s = 0.0;
  d.hold_off_s = 1.0;
  d.severity = "major";
  d.options = {
      {"edge_min_step", OptionType::Int, std::int64_t{20}, 1.0, 255.0, "8-bit levels",
       "a damaged block edge steps at least this much across the coding grid", {}},
      {"edge_step_ratio", OptionType::Double, 3.0, 1.0, 50.0, "ratio",
       "... and this many times the gradients beside it (content does not explain it)", {}},
      {"picture_threshold", OptionType::Double, 0.03, 0.001, 1.0, "fraction",
       "excess share of broken grid edges (on-grid minus off-grid) that is damage with no decoder error", {}},
      {"picture_jump", OptionType::Double, 0.02, 0.0, 1.0, "fraction",
       "... and how far above the stream's own clean baseline it must be (heavy compression is not damage)", {}},
      {"max_recovery_s", OptionType::Double, 10.0, 0.5, 600.0, "s",
       "with no clean key picture (intra refresh), a decoder-flagged incident ends after this long clean", {}},
  };
  d.create = [](const Options& o) -> std::unique_ptr<Detector> { return std::make_unique<CorruptionDetector>(o); };
  return d;
}

}  // namespace avmon::video

AVMON_REGISTER_DETECTOR(corruption, avmon::video::describe_corruption);
