// libavformat/libavcodec source, the input's timing: gaps in the bytes
// arriving and where media resumed after them (for the watchdog and the
// timeline), and how far apart the muxer carries audio and video timestamps.
#include "input/av_source.hpp"

namespace avmon::av_source_detail {

void AvSource::note_delivery(const AVFrame& frame) {
  auto now = Clock::now();
  double idle_s = std::chrono::duration<double>(now - last_delivery_).count();
  double gap_s = -1;
  if (resume_pending_) {
    if (resume_pos_ < 0 || frame.pkt_pos < 0 || frame.pkt_pos >= resume_pos_) {
      resume_pending_ = false;
      gap_s = resume_gap_s_;
    }
  } else if (live_ && idle_s >= gap_threshold_s() && stats_.input_bytes.load() > bytes_at_delivery_) {
    // Nothing decoded for a while though bytes kept coming (garbage, or a
    // programme without our streams): what decodes now is new media. (Not
    // so without new bytes: a demuxer flushes what it held when a read
    // fails, and that is from before the gap.)
    gap_s = idle_s;
  }
  bytes_at_delivery_ = stats_.input_bytes.load();
  if (gap_s >= 0) {
    if (gap_s > 0) timeline_.hint_gap(gap_s);
    ++stats_.media_resumes;
  }
  last_delivery_ = now;
  session_delivered_ = true;
}

void AvSource::watch_input_progress() {
  if (!tracking_progress_ || !fmt_ || !fmt_->pb) return;
  count_input_bytes();  // a demuxer may read for long without returning (garbage)
  std::int64_t pos = fmt_->pb->pos;
  if (pos == progress_pos_) return;
  auto now = Clock::now();
  double gap_s = std::chrono::duration<double>(now - progress_at_).count();
  if (progress_pos_ >= 0 && gap_s >= gap_threshold_s()) {
    resume_pending_ = true;
    resume_pos_ = progress_pos_;
    resume_gap_s_ = gap_s;
  }
  progress_pos_ = pos;
  progress_at_ = now;
}

void AvSource::note_transport_timing(const AVPacket& pkt) {
  if (pkt.stream_index != video_index_ && pkt.stream_index != audio_index_) return;
  const double tb = av_q2d(fmt_->streams[pkt.stream_index]->time_base);
  const bool video = pkt.stream_index == video_index_;
  // Where each medium starts: the earliest presentation time (decode times
  // of reordered video start before it).
  if (pkt.pts != AV_NOPTS_VALUE) {
    double& first = video ? first_video_ts_s_ : first_audio_ts_s_;
    double p = pkt.pts * tb;
    if (std::isnan(first) || (p < first && p > first - 5.0)) first = p;  // not a wrap or a jump
  }
  // How far apart the muxer interleaves them: decode times as packets arrive.
  std::int64_t ts = pkt.dts != AV_NOPTS_VALUE ? pkt.dts : pkt.pts;
  if (ts == AV_NOPTS_VALUE) return;
  (video ? last_video_ts_s_ : last_audio_ts_s_) = ts * tb;
  if (std::isnan(last_video_ts_s_) || std::isnan(last_audio_ts_s_)) return;
  double skew = last_audio_ts_s_ - last_video_ts_s_;
  if (std::abs(skew) > 10.0) return;  // a timestamp jump, not interleaving
  skew_sum_s_ += skew;
  skew_max_abs_s_ = std::max(skew_max_abs_s_, std::abs(skew));
  ++skew_samples_;
}

nlohmann::json AvSource::summary() const {
  if (std::isnan(first_video_ts_s_) || std::isnan(first_audio_ts_s_)) return nullptr;
  // Positive: audio timestamps ahead of video in the transport.
  return {{"transport",
           {{"first_timestamp_skew_ms", std::round((first_audio_ts_s_ - first_video_ts_s_) * 1e4) / 10},
            {"mean_skew_ms", skew_samples_ ? std::round(skew_sum_s_ / skew_samples_ * 1e4) / 10 : 0.0},
            {"max_abs_skew_ms", std::round(skew_max_abs_s_ * 1e4) / 10}}}};
}

}  // namespace avmon::av_source_detail
