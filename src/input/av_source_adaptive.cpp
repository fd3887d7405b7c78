// libavformat/libavcodec source, decode modes (decode.mode). Economy is set
// once on the decoder (open_decoder). Adaptive decodes keyframes only while
// all is well and every picture while there is trouble; every decision is a
// function of the media alone, so a file gives the same pictures and the
// same switches on every run:
//   - trouble is seen on media: a keyframe that is black or the same as the
//     keyframe before, decode errors on a keyframe, a packet the demuxer
//     marks corrupt, audio (nearly) digitally silent for half a second;
//   - the compressed video packets since the keyframe before the last one
//     are held (refcounted); on trouble dated T the decoder is flushed and
//     fed again from the last held key packet at or before T (for a keyframe
//     check, T is the previous keyframe, where the trouble may have begun),
//     so the detectors get every picture from there on; pictures already
//     delivered are not delivered twice;
//   - after quiet_s of media without trouble, at the next key packet, the
//     decoder is drained and goes back to keyframes only;
//   - while on keyframes only, each keyframe is drained out of the decoder
//     before the next packet is read, and the other packets are not sent.
// Nothing depends on how many pictures the decoder holds back (frame
// threads, reordering): trouble is dated by media time, and the decoder is
// drained wherever what has been delivered decides what comes next.
#include <cmath>

#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "input/av_source.hpp"
#include "util/numbers.hpp"

namespace avmon::av_source_detail {

namespace {

// A keyframe differing from the previous one by at most this many levels on
// average (sampled luma) is the same picture re-coded: a hold.
constexpr double kSameKeyframeLevels = 2.0;
constexpr int kSignatureColumns = 64, kSignatureRows = 36;
// Audio silent (below silence_dbfs) for this long is trouble.
constexpr double kSilentAudioS = 0.5;

double packet_time_s(const AVPacket& pkt, AVRational tb) {
  std::int64_t ts = pkt.pts != AV_NOPTS_VALUE ? pkt.pts : pkt.dts;
  return ts == AV_NOPTS_VALUE ? NAN : ts * av_q2d(tb);
}

}  // namespace

void AvSource::set_decoding_all(bool all) {
  // Only the adaptive mode changes what it decodes while running; economy's
  // settings stay for the whole run.
  video_dec_->skip_frame = all ? AVDISCARD_DEFAULT : AVDISCARD_NONKEY;
  light_ = !all;
  stats_.decoding_all = all;
}

bool AvSource::key_signature(const AVFrame& f, std::vector<std::uint8_t>& sig, double& mean) const {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f.format));
  // Planar YUV or grey with luma first: anything else is not checked.
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)) ||
      !(d->flags & AV_PIX_FMT_FLAG_PLANAR || d->nb_components == 1) || f.width < kSignatureColumns ||
      f.height < kSignatureRows || !f.data[0])
    return false;
  const int depth = d->comp[0].depth;
  const int bytes = d->comp[0].step;
  sig.resize(kSignatureColumns * kSignatureRows);
  std::uint64_t sum = 0;
  for (int r = 0; r < kSignatureRows; ++r) {
    const std::uint8_t* row = f.data[0] + static_cast<std::ptrdiff_t>((2 * r + 1) * f.height / (2 * kSignatureRows)) * f.linesize[0];
    for (int c = 0; c < kSignatureColumns; ++c) {
      const int x = (2 * c + 1) * f.width / (2 * kSignatureColumns);
      unsigned v = bytes == 2 ? reinterpret_cast<const std::uint16_t*>(row)[x] >> (depth - 8) : row[x];
      sig[static_cast<size_t>(r * kSignatureColumns + c)] = static_cast<std::uint8_t>(std::min(255u, v));
      sum += v;
    }
  }
  mean = static_cast<double>(sum) / static_cast<double>(sig.size());
  return true;
}

void AvSource::note_trouble(double at_raw_s, double since_raw_s, const std::string& why) {
  if (!std::isfinite(at_raw_s)) return;
  spdlog::trace("adaptive decoding: {} at {} s (stream time)", why, human_number(at_raw_s));
  if (!std::isfinite(last_trouble_raw_s_) || at_raw_s > last_trouble_raw_s_) last_trouble_raw_s_ = at_raw_s;
  if (!light_ || !std::isfinite(since_raw_s)) return;
  if (!rewind_since_raw_s_ || since_raw_s < *rewind_since_raw_s_) {
    rewind_since_raw_s_ = since_raw_s;
    trouble_reason_ = why;
  }
}

bool AvSource::adaptive_accepts(const AVFrame& f) {
  // Trouble is pending: what the decoder still gives is decoded again.
  if (light_ && rewind_since_raw_s_) return false;
  const AVStream* st = fmt_->streams[video_index_];
  const std::int64_t pts = f.best_effort_timestamp;
  if (redeliver_guard_pts_ != AV_NOPTS_VALUE) {
    if (pts != AV_NOPTS_VALUE && pts <= redeliver_guard_pts_) {
      ++stats_.pictures_redecoded;  // delivered before the switch
      return false;
    }
    redeliver_guard_pts_ = AV_NOPTS_VALUE;
  }
  const double t = pts == AV_NOPTS_VALUE ? NAN : pts * av_q2d(st->time_base);
  // A keyframe decoded again after a switch was checked the first time.
  if (f.key_frame && (pts == AV_NOPTS_VALUE || last_checked_key_pts_ == AV_NOPTS_VALUE || pts > last_checked_key_pts_)) {
    last_checked_key_pts_ = pts;
    std::vector<std::uint8_t> sig;
    double mean = 0;
    std::string why;
    if ((f.flags & AV_FRAME_FLAG_CORRUPT) || f.decode_error_flags) why = "decode errors on a keyframe";
    if (key_signature(f, sig, mean)) {
      if (why.empty() && mean <= cfg_.decode.black_luma) why = "black keyframe";
      if (why.empty() && key_sig_.size() == sig.size()) {
        std::uint64_t diff = 0;
        for (size_t i = 0; i < sig.size(); ++i) diff += static_cast<unsigned>(std::abs(sig[i] - key_sig_[i]));
        if (static_cast<double>(diff) / static_cast<double>(sig.size()) <= kSameKeyframeLevels)
          why = "keyframe the same as the one before";
      }
      key_sig_ = std::move(sig);
    }
    // The trouble may have begun anywhere after the previous keyframe.
    if (!why.empty()) note_trouble(t, std::isfinite(prev_key_raw_s_) ? prev_key_raw_s_ : t, why);
    prev_key_raw_s_ = t;
    if (light_ && rewind_since_raw_s_) return false;
  }
  if (pts != AV_NOPTS_VALUE) {
    last_delivered_pts_ = pts;
    last_delivered_raw_s_ = t;
  }
  return true;
}

void AvSource::adaptive_audio(const AVFrame& fltp, double raw_s) {
  const float limit = static_cast<float>(std::pow(10.0, cfg_.decode.silence_dbfs / 20));
  for (int c = 0; c < fltp.ch_layout.nb_channels; ++c) {
    const float* s = reinterpret_cast<const float*>(fltp.extended_data[c]);
    for (int i = 0; i < fltp.nb_samples; ++i)
      if (std::fabs(s[i]) >= limit) {
        silent_since_raw_s_ = NAN;
        return;
      }
  }
  // Silence that lasts, not a decoder's priming block or a pause between words.
  if (!std::isfinite(silent_since_raw_s_)) silent_since_raw_s_ = raw_s;
  const double end_s = raw_s + fltp.nb_samples / static_cast<double>(std::max(1, fltp.sample_rate));
  if (end_s - silent_since_raw_s_ >= kSilentAudioS) note_trouble(raw_s, silent_since_raw_s_, "silent audio");
}

void AvSource::adaptive_packet(const AVPacket& pkt) {
  if (!(pkt.flags & AV_PKT_FLAG_CORRUPT)) return;
  const double t = packet_time_s(pkt, fmt_->streams[pkt.stream_index]->time_base);
  note_trouble(t, t, "damaged packet");
}

void AvSource::decode_video_packet(const AVPacket* pkt, SourceConsumer& consumer) {
  if (cfg_.decode.mode != DecodeMode::Adaptive) {
    decode(video_dec_.get(), pkt, consumer);
    return;
  }
  const AVRational tb = fmt_->streams[video_index_]->time_base;
  const bool key = pkt->flags & AV_PKT_FLAG_KEY;
  if (key) {
    const double t = packet_time_s(*pkt, tb);
    if (full_at_next_key_) {
      // Trouble came with no keyframe held to decode again from: every
      // picture from this keyframe on.
      full_at_next_key_ = false;
      set_decoding_all(true);
      ++stats_.mode_switches;
      consumer.on_decode_switch(switch_media_time(t), {{"decoding", "all"}, {"reason", trouble_reason_}});
    } else if (!light_ && quiet_at(t)) {
      // Every picture before this keyframe out of the decoder (and checked)
      // first, so that the decision does not depend on how many pictures
      // the decoder still held.
      decode(video_dec_.get(), nullptr, consumer);
      avcodec_flush_buffers(video_dec_.get());
      if (quiet_at(t)) go_light(consumer, t);
    }
    // Keep from the key packet of the last keyframe checked: trouble the
    // next keyframe shows is dated back to it.
    size_t keep_from = 0;
    for (size_t i = 0; i < held_.size(); ++i)
      if ((held_[i]->flags & AV_PKT_FLAG_KEY) && packet_time_s(*held_[i], tb) <= prev_key_raw_s_) keep_from = i;
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(keep_from));
  }
  held_.emplace_back(av_packet_clone(pkt));
  if (held_.size() > static_cast<size_t>(cfg_.decode.max_held_packets)) {
    // A GOP longer than the bound: decoding again starts at the oldest
    // keyframe still held, or not at all.
    held_.pop_front();
    while (!held_.empty() && !(held_.front()->flags & AV_PKT_FLAG_KEY)) held_.pop_front();
  }
  if (!light_) {
    decode(video_dec_.get(), pkt, consumer);
    return;
  }
  // Keyframes only: the other packets are not even parsed, and each
  // keyframe comes out of the decoder before the next packet is read (a
  // decoder would otherwise hold back as many keyframes as the stream
  // reorders pictures, and frame threads a few more), so what has been
  // delivered when trouble is seen is a function of the media alone.
  if (!key) return;
  decode(video_dec_.get(), pkt, consumer);
  decode(video_dec_.get(), nullptr, consumer);
  avcodec_flush_buffers(video_dec_.get());
}

bool AvSource::quiet_at(double key_raw_s) const {
  return std::isfinite(key_raw_s) &&
         (!std::isfinite(last_trouble_raw_s_) || key_raw_s - last_trouble_raw_s_ >= cfg_.decode.quiet_s);
}

void AvSource::go_light(SourceConsumer& consumer, double key_raw_s) {
  set_decoding_all(false);
  ++stats_.mode_switches;
  nlohmann::json details = {{"decoding", "keyframes"}, {"quiet_s", cfg_.decode.quiet_s}};
  consumer.on_decode_switch(switch_media_time(key_raw_s), std::move(details));
}

double AvSource::switch_media_time(double raw_s) const {
  // Media time of a picture not delivered yet: the last delivered picture's
  // media time moved by the raw timestamps' difference.
  if (!std::isfinite(last_delivered_raw_s_) || !std::isfinite(raw_s)) return std::max(0.0, end_media_time_s_);
  return std::max(0.0, last_delivered_media_s_ + (raw_s - last_delivered_raw_s_));
}

void AvSource::adaptive_after_packet(SourceConsumer& consumer) {
  if (!rewind_since_raw_s_) return;
  if (!light_) {
    rewind_since_raw_s_.reset();
    return;
  }
  const double since = *rewind_since_raw_s_;
  rewind_since_raw_s_.reset();
  const AVRational tb = fmt_->streams[video_index_]->time_base;
  // The last key packet at or before the trouble, but never past a keyframe
  // whose picture has not been delivered yet (it would be lost).
  size_t start = held_.size(), first_undelivered = held_.size(), first_key = held_.size();
  for (size_t i = 0; i < held_.size(); ++i) {
    if (!(held_[i]->flags & AV_PKT_FLAG_KEY)) continue;
    const double t = packet_time_s(*held_[i], tb);
    if (first_key == held_.size()) first_key = i;
    if (t <= since) start = i;
    if (first_undelivered == held_.size() && !(t <= last_delivered_raw_s_)) first_undelivered = i;
  }
  if (start == held_.size()) start = first_key;
  if (first_undelivered < start) start = first_undelivered;
  if (start == held_.size()) {
    // No keyframe held (none yet, or a GOP longer than max_held_packets):
    // non-key pictures cannot be decoded before the next one.
    full_at_next_key_ = true;
    return;
  }
  avcodec_flush_buffers(video_dec_.get());
  set_decoding_all(true);
  ++stats_.mode_switches;
  const double from_raw_s = packet_time_s(*held_[start], tb);
  nlohmann::json details = {{"decoding", "all"}, {"reason", trouble_reason_}};
  consumer.on_decode_switch(switch_media_time(std::isfinite(from_raw_s) ? from_raw_s : since), std::move(details));
  spdlog::debug("adaptive decoding: {}; decoding every picture again from {} packets back", trouble_reason_,
                held_.size() - start);
  redeliver_guard_pts_ = last_delivered_pts_;
  for (size_t i = start; i < held_.size(); ++i) {
    decode(video_dec_.get(), held_[i].get(), consumer);
    if (stopping()) return;
  }
}

void AvSource::drain_video(SourceConsumer& consumer) {
  for (int passes = 0; passes < 2; ++passes) {
    decode(video_dec_.get(), nullptr, consumer);
    // Trouble seen in the last pictures: decode the end again in full.
    if (!(light_ && rewind_since_raw_s_)) return;
    adaptive_after_packet(consumer);
  }
  decode(video_dec_.get(), nullptr, consumer);
}

void AvSource::reset_adaptive() {
  held_.clear();
  rewind_since_raw_s_.reset();
  full_at_next_key_ = false;
  last_trouble_raw_s_ = NAN;
  prev_key_raw_s_ = NAN;
  key_sig_.clear();
  last_delivered_pts_ = AV_NOPTS_VALUE;
  last_checked_key_pts_ = AV_NOPTS_VALUE;
  redeliver_guard_pts_ = AV_NOPTS_VALUE;
  silent_since_raw_s_ = NAN;
  last_delivered_raw_s_ = NAN;
}

}  // namespace avmon::av_source_detail
