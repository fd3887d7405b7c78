#include "av_sync/av_sync.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>

#include "audio_common/audio_common.hpp"
#include "audio_common/sample_loops.hpp"

namespace avmon::audio {

namespace {

constexpr size_t kMaxPairs = 4096;  // bounded history for a live stream (over an hour at one pair per second)
constexpr double kLapseS = 5.0;     // no pair for this long: the sync signal has gone

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<long>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2) return *mid;
  const double upper = *mid;
  const double lower = *std::max_element(v.begin(), mid);
  return 0.5 * (lower + upper);
}

}  // namespace

void AvSyncDetector::configure(const StreamInfo& /*info*/) {
  have_prev_luma_ = flash_open_ = false;
  reset_audio();
  flashes_.clear();
  beeps_.clear();
}

void AvSyncDetector::reset_audio() {
  sub_filled_ = 0;
  sub_power_ = 0;
  quiet_pos_ = quiet_filled_ = 0;
  quiet_max_.clear();
  in_burst_ = false;
  expected_next_s_ = -1;
  std::fill(recent_.begin(), recent_.end(), 0.f);
}

void AvSyncDetector::on_discontinuity(double /*media_time_s*/) {
  // Unpaired onsets from before the gap would pair across it.
  have_prev_luma_ = flash_open_ = false;
  reset_audio();
  flashes_.clear();
  beeps_.clear();
}

namespace {

// A flash lights the whole picture: the mean of a sparse grid of the coded
// luma (a header over the decoder's plane) sees it as well as the full mean,
// and costs nothing next to a scaled copy when no other detector wants one.
// About 60 rows of about 100 points: a flash moves the mean by 40 levels or
// more, programme noise moves a 6000-point mean by a fraction of one.
double sparse_mean(const cv::Mat& y) {
  const int step = std::max(1, std::min(y.cols, y.rows) / 60);
  std::uint64_t sum = 0, n = 0;
  for (int r = step / 2; r < y.rows; r += step) {
    const unsigned char* row = y.ptr<unsigned char>(r);
    // Four points per turn: a strided sum spends most of its instructions on
    // the loop itself.
    int c = step / 2;
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; c + 3 * step < y.cols; c += 4 * step) {
      s0 += row[c];
      s1 += row[c + step];
      s2 += row[c + 2 * step];
      s3 += row[c + 3 * step];
    }
    for (; c < y.cols; c += step) s0 += row[c];
    sum += s0 + s1 + s2 + s3;
    n += static_cast<std::uint64_t>((y.cols - step / 2 + step - 1) / step);
  }
  return n ? static_cast<double>(sum) / static_cast<double>(n) : 0.0;
}

}  // namespace

void AvSyncDetector::on_video(const VideoFrame& frame, ObservationSink& out) {
  const double t = frame.media_time_s();
  const double luma = sparse_mean(frame.luma_full());
  if (flash_open_) {
    if (luma <= flash_luma_ - p_.flash_jump / 2) {
      flash_open_ = false;
      on_flash(flash_start_s_);
    } else if (t - flash_start_s_ > p_.max_flash_s) {
      flash_open_ = false;  // stayed bright: a cut, not a flash
    }
  }
  if (!flash_open_ && have_prev_luma_ && luma - prev_luma_ >= p_.flash_jump) {
    flash_open_ = true;
    flash_start_s_ = t;
    flash_luma_ = luma;
  }
  prev_luma_ = luma;
  have_prev_luma_ = true;
  video_clock_s_ = t;
  pair(out, false);
}

void AvSyncDetector::on_audio(const AudioBlock& b, ObservationSink& out) {
  if (b.sample_rate() != rate_) {
    rate_ = b.sample_rate();
    sub_ = std::max(1, rate_ / 1000);
    // At least 50 ms (enough to look back at an onset), a power of two so
    // that the per-sample ring index is a mask, not a division.
    size_t ring = 1;
    while (ring < static_cast<size_t>(rate_ / 20)) ring <<= 1;
    recent_.assign(ring, 0.f);
    quiet_ring_db_.assign(static_cast<size_t>(std::max(1.0, p_.quiet_before_s * 1000)), kFloorDb);
    reset_audio();
  }
  if (expected_next_s_ >= 0 && std::abs(b.media_time_s() - expected_next_s_) > 0.1) reset_audio();
  expected_next_s_ = b.media_time_s() + static_cast<double>(b.samples()) / rate_;
  // Sample times come from the block's timestamp, not from counting.
  index_base_ = sample_index_;
  index_time_s_ = b.media_time_s();
  auto time_of = [&](std::uint64_t idx) {
    return index_time_s_ + (static_cast<double>(idx) - static_cast<double>(index_base_)) / rate_;
  };

  const int n = b.samples(), channels = b.channels();
  const std::uint64_t mask = recent_.size() - 1;
  planes_.resize(static_cast<size_t>(channels));  // no allocation once the layout is known
  for (int c = 0; c < channels; ++c) planes_[static_cast<size_t>(c)] = b.channel(c);
  for (int i = 0; i < n;) {
    // The samples up to the end of this envelope step (or of the block), cut
    // where the ring wraps: their peaks go to the ring, their power to the step.
    const int take = std::min(n - i, sub_ - sub_filled_);
    for (int done = 0; done < take;) {
      const auto at = static_cast<size_t>(sample_index_ & mask);
      const int run = std::min(take - done, static_cast<int>(recent_.size() - at));
      sub_power_ = channel_envelope(planes_.data(), channels, i + done, run, recent_.data() + at, sub_power_);
      done += run;
      sample_index_ += static_cast<std::uint64_t>(run);
    }
    i += take;
    sub_filled_ += take;
    if (sub_filled_ < sub_) continue;

    const double db = power_to_db(sub_power_ / sub_);
    sub_power_ = 0;
    sub_filled_ = 0;
    const std::uint64_t sub_start = sample_index_ - static_cast<std::uint64_t>(sub_);
    if (in_burst_) {
      ++burst_subs_;
      if (db < burst_start_db_ - p_.beep_rise_db / 2 || db < p_.beep_min_dbfs - 10) {
        in_burst_ = false;
        // A beep is short; programme after a pause goes on.
        if (burst_subs_ * sub_ <= p_.max_beep_s * rate_) on_beep(time_of(burst_start_index_));
      }
    } else if (db >= p_.beep_min_dbfs && quiet_filled_ == static_cast<int>(quiet_ring_db_.size())) {
      // The ring holds the last quiet_ring_db_.size() writes (it is full).
      const double before_db = quiet_max_.front().second;
      if (db - before_db >= p_.beep_rise_db) {
        // Refine to the sample: the first sample, from one envelope step
        // back, reaching a quarter of this step's peak. Codec pre-echo stays
        // well below that; a sine reaches it within a few samples.
        float peak = 0;
        for (std::uint64_t k = sub_start; k < sample_index_; ++k) peak = std::max(peak, recent_[k & mask]);
        const std::uint64_t from = sub_start >= static_cast<std::uint64_t>(sub_) ? sub_start - static_cast<std::uint64_t>(sub_) : 0;
        std::uint64_t onset = sub_start;
        for (std::uint64_t k = from; k < sample_index_; ++k)
          if (recent_[k & mask] >= 0.25f * peak) {
            onset = k;
            break;
          }
        in_burst_ = true;
        burst_start_index_ = onset;
        burst_start_db_ = db;
        burst_subs_ = 1;
      }
    }
    if (!in_burst_ || burst_subs_ == 1) {
      quiet_ring_db_[static_cast<size_t>(quiet_pos_)] = db;
      // (db is never NaN: power_to_db gives the floor for a NaN power.)
      while (!quiet_max_.empty() && quiet_max_.back().second <= db) quiet_max_.pop_back();
      quiet_max_.emplace_back(quiet_writes_++, db);
      while (quiet_max_.front().first + quiet_ring_db_.size() < quiet_writes_) quiet_max_.pop_front();
      quiet_pos_ = (quiet_pos_ + 1) % static_cast<int>(quiet_ring_db_.size());
      quiet_filled_ = std::min(quiet_filled_ + 1, static_cast<int>(quiet_ring_db_.size()));
    }
    if (in_burst_ && burst_subs_ * sub_ > p_.max_beep_s * rate_) {
      in_burst_ = false;  // too long for a beep
      quiet_filled_ = 0;  // and its loudness must leave the quiet window before the next onset
    }
  }
  audio_clock_s_ = time_of(sample_index_);
  pair(out, false);
}

void AvSyncDetector::on_flash(double t) {
  flashes_.push_back(t);
  if (all_flashes_.size() < kMaxPairs) all_flashes_.push_back(t);
}

void AvSyncDetector::on_beep(double t) {
  beeps_.push_back(t);
  if (all_beeps_.size() < kMaxPairs) all_beeps_.push_back(t);
}

void AvSyncDetector::pair(ObservationSink& out, bool flush) {
  const double window_s = p_.max_offset_ms / 1000;
  bool paired = false;
  // A beep is paired once the video has been seen far enough past it that
  // every candidate flash is known.
  while (!beeps_.empty() && (flush || video_clock_s_ >= beeps_.front() + window_s)) {
    const double b = beeps_.front();
    beeps_.pop_front();
    while (!flashes_.empty() && flashes_.front() < b - window_s) flashes_.pop_front();
    auto best = flashes_.end();
    for (auto it = flashes_.begin(); it != flashes_.end() && *it <= b + window_s; ++it)
      if (best == flashes_.end() || std::abs(*it - b) < std::abs(*best - b)) best = it;
    if (best == flashes_.end()) continue;
    const double f = *best;
    flashes_.erase(flashes_.begin(), best + 1);
    if (pairs_.size() >= kMaxPairs) pairs_.erase(pairs_.begin());
    pairs_.push_back({f, (b - f) * 1000});
    last_pair_video_s_ = f;
    paired = true;
  }
  // Flashes no beep can reach any more.
  while (!flashes_.empty() && flashes_.front() < audio_clock_s_ - 2 * window_s && beeps_.empty() &&
         flashes_.front() < video_clock_s_ - 2 * window_s)
    flashes_.pop_front();
  if (paired) report(out);

  // The signal went away: the measurement lapses and so does any defect.
  const double now = std::min(video_clock_s_, audio_clock_s_);
  if (last_active_ && now - last_pair_video_s_ > kLapseS) {
    Observation o;
    o.type = "av_sync";
    o.media_time_s = now;
    o.active = false;
    o.since_s = last_pair_video_s_ + 1.0;
    out.observe(std::move(o));
    last_active_ = false;
  }
}

void AvSyncDetector::report(ObservationSink& out) {
  const auto n = static_cast<int>(pairs_.size());
  const int k = std::min(n, std::max(p_.recent_pairs, p_.min_pairs));
  if (k < p_.min_pairs) return;
  std::vector<double> recent;
  for (int i = n - k; i < n; ++i) recent.push_back(pairs_[static_cast<size_t>(i)].offset_ms);
  // Judged on the figure reported (0.1 ms): a sine burst reaches the onset
  // threshold a couple of samples after it starts, which must not tip an
  // offset sitting exactly on a tolerance over it.
  const double offset_ms = round_to(median(recent), 1);
  int agree = 0;
  for (double v : recent) agree += std::abs(v - offset_ms) <= p_.max_spread_ms;
  // Onsets that do not agree are not the sync signal (or it is broken): no verdict.
  if (agree < p_.min_pairs) return;
  const bool active = offset_ms > p_.late_tolerance_ms || offset_ms < -p_.early_tolerance_ms;
  Observation o;
  o.type = "av_sync";
  o.media_time_s = std::max(video_clock_s_, audio_clock_s_);
  o.active = active;
  // The offset has been what it is since the first pair it rests on.
  o.since_s = active && !last_active_ ? pairs_[static_cast<size_t>(n - k)].video_s : pairs_.back().video_s;
  o.score = offset_ms;
  o.details = {{"offset_ms", round_to(offset_ms, 1)},
               {"late_tolerance_ms", p_.late_tolerance_ms},
               {"early_tolerance_ms", p_.early_tolerance_ms},
               {"pairs", k}};
  out.observe(std::move(o));
  reported_ = true;
  last_active_ = active;
}

void AvSyncDetector::finish(double /*end_media_time_s*/, ObservationSink& out) { pair(out, true); }

nlohmann::json AvSyncDetector::summary() const {
  if (!reported_) return nullptr;
  std::vector<double> all;
  for (const auto& p : pairs_) all.push_back(p.offset_ms);
  const double offset_ms = median(all);
  std::vector<double> dev;
  int agree = 0;
  for (double v : all) {
    dev.push_back(std::abs(v - offset_ms));
    agree += std::abs(v - offset_ms) <= p_.max_spread_ms;
  }
  if (agree < p_.min_pairs) return nullptr;
  const auto [mn, mx] = std::minmax_element(all.begin(), all.end());
  return {{"av_sync",
           {{"offset_ms", round_to(offset_ms, 1)},
            {"pairs", static_cast<int>(all.size())},
            {"spread_ms", round_to(median(dev), 1)},
            {"min_offset_ms", round_to(*mn, 1)},
            {"max_offset_ms", round_to(*mx, 1)},
            {"method", "flash_beep"}}}};
}

nlohmann::json AvSyncDetector::levels() const {
  if (!reported_ || pairs_.empty()) return nullptr;
  return {{"av_sync", {{"offset_ms", round_to(pairs_.back().offset_ms, 1)}}}};
}

DetectorInfo describe_av_sync() {
  DetectorInfo d;
  d.name = "av_sync";
  d.summary = "A/V offset on the flash-and-beep sync signal; defect outside EBU R37 tolerance";
  d.media = kVideo | kAudio;
  // Pictures needed: a flash lasts one or two pictures and is timed to the picture.
  d.pictures = PictureNeed::All;
  d.types = {"av_sync"};
  d.options = {
      {"late_tolerance_ms", OptionType::Double, 60.0, 0.0, 5000.0, "ms", "audio later than video by more than this is a defect (EBU R37: 60)", {}},
      {"early_tolerance_ms", OptionType::Double, 40.0, 0.0, 5000.0, "ms", "audio earlier than video by more than this is a defect (EBU R37: 40)", {}},
      {"max_offset_ms", OptionType::Double, 500.0, 10.0, 2000.0, "ms", "largest offset measured (a beep pairs with the nearest flash within this)", {}},
      {"flash_jump", OptionType::Double, 40.0, 5.0, 255.0, "levels", "rise of mean luma (8-bit) at a flash onset", {}},
      {"max_flash_s", OptionType::Double, 0.25, 0.01, 2.0, "s", "a flash ends within this (a cut to a bright scene does not)", {}},
      {"beep_min_dbfs", OptionType::Double, -40.0, -100.0, 0.0, "dBFS", "quietest beep (RMS over 1 ms)", {}},
      {"beep_rise_db", OptionType::Double, 25.0, 6.0, 100.0, "dB", "a beep rises this far above the quiet before it", {}},
      {"quiet_before_s", OptionType::Double, 0.2, 0.01, 2.0, "s", "quiet needed before a beep", {}},
      {"max_beep_s", OptionType::Double, 0.5, 0.005, 5.0, "s", "longest beep", {}},
      {"min_pairs", OptionType::Int, std::int64_t{3}, 2.0, 100.0, "", "consistent flash/beep pairs needed for a measurement", {}},
      {"max_spread_ms", OptionType::Double, 20.0, 1.0, 500.0, "ms", "pairs agree with their median within this", {}},
      {"recent_pairs", OptionType::Int, std::int64_t{5}, 2.0, 100.0, "", "pairs behind the running measurement", {}},
  };
  d.min_duration_s = 2.0;
  d.hold_off_s = 2.0;
  d.severity = "major";
  d.create = [](const Options& o) -> std::unique_ptr<Detector> {
    AvSyncParams p;
    p.late_tolerance_ms = o.get_double("late_tolerance_ms");
    p.early_tolerance_ms = o.get_double("early_tolerance_ms");
    p.max_offset_ms = o.get_double("max_offset_ms");
    p.flash_jump = o.get_double("flash_jump");
    p.max_flash_s = o.get_double("max_flash_s");
    p.beep_min_dbfs = o.get_double("beep_min_dbfs");
    p.beep_rise_db = o.get_double("beep_rise_db");
    p.quiet_before_s = o.get_double("quiet_before_s");
    p.max_beep_s = o.get_double("max_beep_s");
    p.min_pairs = static_cast<int>(o.get_int("min_pairs"));
    p.max_spread_ms = o.get_double("max_spread_ms");
    p.recent_pairs = static_cast<int>(o.get_int("recent_pairs"));
    return std::make_unique<AvSyncDetector>(p);
  };
  return d;
}

AVMON_REGISTER_DETECTOR(av_sync, describe_av_sync);

}  // namespace avmon::audio
