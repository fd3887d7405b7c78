// The libavformat/libavcodec source, shared by its parts (not a public
// header): av_source.cpp opens the input and runs its sessions (reconnects,
// the read loop), av_source_decode.cpp decodes and delivers pictures and
// audio blocks, av_source_timing.cpp follows the input's timing (arrival
// gaps, transport-level A/V skew). A live input is a series of sessions: when
// one fails it is closed and reopened with backoff, and media_time goes on
// across the gap (see docs/live-inputs.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswresample/swresample.h>
}

#include "input/decode_log.hpp"
#include "transport/tap.hpp"
#include "ts/analyzer.hpp"
#include "input/source.hpp"
#include "input/timeline.hpp"
#include "pipeline/av_ptr.hpp"
#include "util/url.hpp"

namespace avmon::av_source_detail {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string av_error(int err);
// Any URL but file: and pipe: (and a plain path) is a live input.
bool is_live_url(const std::string& url);

class AvSource final : public MediaSource {
 public:
  AvSource(InputConfig cfg, const std::atomic<bool>* stop_flag, AVIOContext* custom_io = nullptr);
  ~AvSource() override { close_input(); }

  void open() override;
  const StreamInfo& info() const override { return info_; }
  std::string run(SourceConsumer& consumer) override;
  void stop() override {
    stop_ = true;
    pace_cv_.notify_all();
  }
  double end_media_time_s() const override;
  double duration_s() const override { return duration_s_; }
  bool live() const override { return live_; }
  TransportAccess transport() override {
    return {analyzer_.get(), cfg_.url.rfind("rtp://", 0) == 0 ? &rtp_figures_ : nullptr};
  }
  bool carries_service() const override { return analyzer_ && analyzer_->synced() && analyzer_->selected(); }

 private:
  struct OpenError {
    std::string message;
    bool permanent = false;
  };
  // One attempt to open the input and its decoders; nullopt on success.
  std::optional<OpenError> try_open();
  void close_input();
  bool may_reconnect() const { return live_ && cfg_.reconnect != "never"; }
  // Reads and decodes until this session of the input ends; returns why.
  std::string read_session(SourceConsumer& consumer);
  // Waits `seconds` unless stopped first; false when stopped.
  bool sleep_unless_stopped(double seconds);
  void count_input_bytes();
  void note_new_streams();

  static int interrupt_cb(void* opaque) {
    auto* self = static_cast<AvSource*>(opaque);
    if (self->stopping()) return 1;
    self->watch_input_progress();
    return Clock::now().time_since_epoch().count() > self->deadline_ns_.load() ? 1 : 0;
  }
  bool stopping() const { return stop_ || (external_stop_ && external_stop_->load()); }
  void arm_deadline(double seconds) {
    deadline_ns_ = (Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)))
                       .time_since_epoch()
                       .count();
  }
  AVCodecContextPtr open_decoder(int index);
  void decode(AVCodecContext* dec, const AVPacket* pkt, SourceConsumer& consumer);
  void deliver_video(AVFramePtr frame, SourceConsumer& consumer);
  void deliver_audio(AVFramePtr frame, SourceConsumer& consumer);
  // A layout known only by its channel count becomes the default for it.
  static void default_layout(AVChannelLayout& layout);
  // Logged once, counted always (stats_.audio_conversion_errors).
  void conversion_failed(const AVFrame& frame, const std::string& why);
  void pace(double media_time_s);
  // Before mapping a frame's timestamp. After a gap in the packets, the
  // first frame decoded from a packet that came after the gap is where media
  // resumed (a decoder with frame threads first hands over the pictures it
  // held from before the gap): count the resume for the watchdog and tell the
  // timeline how long the gap lasted, in case the timestamps jump across it.
  void note_delivery(const AVFrame& frame);
  double gap_threshold_s() const { return std::min(1.0, cfg_.signal_loss_timeout_s / 2); }
  // From the interrupt callback, which libavformat calls before every read
  // from the input and every ~100 ms while one blocks, on the demuxing
  // thread: notices a gap in the bytes arriving (a live stall or outage) and
  // where it ended in the byte stream. Packets starting before that position
  // were (at least partly) received before the gap.
  void watch_input_progress();
  void update_info(SourceConsumer* consumer);
  // av_source_select.cpp: what to decode. In an MPEG-TS, the chosen
  // service's first video and first audio stream (PMT order); elsewhere
  // libavformat's best streams. Then media time's origin: the first
  // timestamp of the streams decoded. An error when the configured service
  // is not in the input.
  std::optional<OpenError> choose_streams();
  std::optional<std::uint16_t> choose_program();
  void set_origin();
  // A file of MPEG-TS packets without any service: the reason it cannot be
  // analysed (nullopt when that is not the case).
  std::optional<OpenError> no_service();
  // The demuxer opened on the tap, or the plain protocol.
  int open_demuxer(AVDictionary** opts);

  InputConfig cfg_;
  std::string display_url_;  // cfg_.url for messages: without secrets (util/url.hpp)
  const std::atomic<bool>* external_stop_;
  AVIOContext* custom_io_;  // the caller's bytes instead of cfg_.url (see make_av_source)
  std::atomic<bool> stop_{false};
  std::atomic<Clock::rep> deadline_ns_{0};
  bool live_ = false;
  bool info_reported_ = false;   // the consumer has had on_stream_info
  unsigned known_streams_ = 0;
  bool warned_options_ = false;
  std::int64_t pb_bytes_seen_ = 0;
  Clock::time_point last_delivery_ = Clock::now();
  bool tracking_progress_ = false;   // watch_input_progress() may look at fmt_->pb
  std::int64_t progress_pos_ = -1;   // fmt_->pb->pos when bytes last arrived
  Clock::time_point progress_at_;
  bool session_delivered_ = false;
  bool resume_pending_ = true;       // the next new frame is where media (re)starts
  std::int64_t resume_pos_ = -1;     // byte position of the first packet after the gap
  double resume_gap_s_ = 0;          // how long the gap lasted
  std::uint64_t bytes_at_delivery_ = 0;

  AVFormatContext* fmt_ = nullptr;
  // MPEG-TS: the analyser lives across sessions; the tap is the session's.
  std::unique_ptr<ts::Analyzer> analyzer_;
  std::unique_ptr<TsTap> tap_;
  RtpFigures rtp_figures_;
  bool transport_only_ = false;      // nothing decodable: the transport is analysed alone
  std::uint64_t av_layout_ = 0;      // the analyser's av_layout_changes() when the decoders were chosen
  bool reopen_now_ = false;          // the session ended to probe again at once (not an outage)
  bool sessions_opened_ = false;
  Clock::time_point transport_gap_from_{};
  int video_index_ = -1, audio_index_ = -1;
  AVCodecContextPtr video_dec_, audio_dec_;
  // Transport-level A/V timing: how far apart the muxer carries audio and
  // video timestamps (decode timestamps of packets as they arrive).
  void note_transport_timing(const AVPacket& pkt);
  nlohmann::json summary() const override;
  double first_video_ts_s_ = NAN, first_audio_ts_s_ = NAN, last_video_ts_s_ = NAN, last_audio_ts_s_ = NAN;
  double skew_sum_s_ = 0, skew_max_abs_s_ = 0;
  std::uint64_t skew_samples_ = 0;

  // Decode modes (av_source_adaptive.cpp): video packets go through
  // decode_video_packet; adaptive keeps packets to decode again from a
  // keyframe when trouble is seen, and goes back to keyframes when quiet.
  void decode_video_packet(const AVPacket* pkt, SourceConsumer& consumer);
  void drain_video(SourceConsumer& consumer);
  void set_decoding_all(bool all);
  void reset_adaptive();
  // A picture out of the decoder in adaptive mode: false when it must not be
  // delivered (delivered before a switch, or trouble is pending).
  bool adaptive_accepts(const AVFrame& f);
  void adaptive_audio(const AVFrame& fltp, double raw_s);
  void adaptive_packet(const AVPacket& pkt);
  void adaptive_after_packet(SourceConsumer& consumer);
  void go_light(SourceConsumer& consumer, double key_raw_s);
  bool quiet_at(double key_raw_s) const;  // quiet_s without trouble before this keyframe
  void note_trouble(double at_raw_s, double since_raw_s, const std::string& why);
  double switch_media_time(double raw_s) const;
  // Sampled luma of a keyframe (and its mean, 8-bit levels); false for
  // pixel formats it does not read.
  bool key_signature(const AVFrame& f, std::vector<std::uint8_t>& sig, double& mean) const;
  bool light_ = false;                        // adaptive: keyframes only now
  bool full_at_next_key_ = false;             // adaptive: trouble with no keyframe held
  std::deque<AVPacketPtr> held_;              // adaptive: video packets since the keyframe before last
  std::optional<double> rewind_since_raw_s_;  // trouble pending, dated (stream seconds)
  std::string trouble_reason_;
  double last_trouble_raw_s_ = NAN;
  double prev_key_raw_s_ = NAN;
  std::vector<std::uint8_t> key_sig_;
  std::int64_t last_delivered_pts_ = AV_NOPTS_VALUE;
  std::int64_t redeliver_guard_pts_ = AV_NOPTS_VALUE;  // after a switch: pictures up to here were delivered
  std::int64_t last_checked_key_pts_ = AV_NOPTS_VALUE;
  double silent_since_raw_s_ = NAN;
  double last_delivered_raw_s_ = NAN, last_delivered_media_s_ = 0;

  DecodeErrorLedger video_errors_;
  DecodeErrorCounter audio_errors_;
  std::int64_t video_packets_ = -1;
  SwrContext* swr_ = nullptr;
  AVChannelLayout swr_layout_{};
  int swr_rate_ = 0, swr_format_ = -1;

  StreamInfo info_;
  std::shared_ptr<const std::vector<std::string>> channel_names_;
  Timeline timeline_;
  double frame_duration_s_ = 0.04;
  double end_media_time_s_ = 0;
  std::atomic<double> duration_s_{0};  // the container's, set at each open
  std::uint64_t video_index_count_ = 0, audio_index_count_ = 0;
  double next_audio_s_ = -1;
  // For InputPacket: sessions opened, and the latest frame's raw and media time.
  std::uint64_t session_ = 0;
  double anchor_raw_s_ = NAN, anchor_media_s_ = NAN;

  // --realtime pacing
  bool pacing_started_ = false;
  Clock::time_point pace_origin_;
  double pace_media_origin_s_ = 0;
  std::mutex pace_mu_;
  std::condition_variable pace_cv_;
};

}  // namespace avmon::av_source_detail
