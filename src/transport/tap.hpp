// The packet tap: a custom AVIOContext between the input protocol and the
// demuxer. Every byte the demuxer reads passes once through the transport
// analyser on its way, in the demuxer's own buffer (no second read of the
// input, no copy). RTP is opened as the plain `rtp` protocol and its headers
// are stripped here, so the demuxer sees MPEG-TS and the analyser counts
// sequence gaps. HLS segments are wrapped one by one through the demuxer's
// io_open callback. Live inputs stamp each read with its arrival time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
}

#include "transport/access.hpp"
#include "ts/analyzer.hpp"

namespace avmon {

class TsTap {
 public:
  // `rtp`: where RTP figures add up (they outlive the session's tap).
  TsTap(ts::Analyzer& analyzer, RtpFigures& rtp);
  ~TsTap();
  TsTap(const TsTap&) = delete;
  TsTap& operator=(const TsTap&) = delete;

  // Whether `url` is read through the tap (files, pipes, UDP, RTP, SRT, TCP,
  // HTTP); other protocols (RTSP, RTMP, ...) are left to libavformat.
  static bool applies_to(const std::string& url);

  // Opens the protocol of `url` (consuming its options from `options`) and
  // installs the tap as fmt->pb, and the segment hooks for HLS. Returns 0 or
  // a libav error.
  int open(AVFormatContext* fmt, const std::string& url, AVDictionary** options, bool live);
  // Live inputs: bytes arriving after a silence this long start afresh
  // (continuity, timers): the outage is signal_loss, not a transport error.
  void set_gap_threshold(double seconds) { gap_threshold_s_ = seconds; }
  // The same over the caller's AVIOContext (not closed by the tap).
  int open(AVFormatContext* fmt, AVIOContext* caller_io, bool live);
  // The demuxer to use whatever the bytes look like (MPEG-TS for RTP), or null.
  const AVInputFormat* forced_format() const { return rtp_ ? av_find_input_format("mpegts") : nullptr; }
  // After avformat_open_input: a demuxer other than MPEG-TS (or HLS, whose
  // segments are tapped) means the bytes are not a transport stream.
  void format_known(const AVFormatContext* fmt);
  // Closes the protocol (after avformat_close_input).
  void close();

  bool rtp() const { return rtp_; }

 private:
  struct Wrapper;  // one tapped AVIOContext (the input, or one HLS segment)
  static int read(void* opaque, std::uint8_t* buf, int size);
  static std::int64_t seek(void* opaque, std::int64_t offset, int whence);
  static int io_open(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options);
  static int io_close2(AVFormatContext* s, AVIOContext* pb);
  AVIOContext* wrap(AVIOContext* inner, bool rtp);
  void unwrap(Wrapper* w);
  // RTP: strips the header of one datagram in place; returns the payload size
  // (0 for RTCP or anything not MPEG-TS).
  int strip_rtp(std::uint8_t* buf, int n);
  void feed(Wrapper& w, const std::uint8_t* buf, int n);

  ts::Analyzer& analyzer_;
  bool live_ = false, rtp_ = false;
  std::vector<std::unique_ptr<Wrapper>> wrappers_;
  Wrapper* input_ = nullptr;  // fmt->pb's wrapper
  bool owns_input_ = true;    // the tap opened the protocol (and closes it)
  void install(AVFormatContext* fmt, AVIOContext* outer);
  int (*default_io_open_)(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) = nullptr;
  int (*default_io_close2_)(AVFormatContext*, AVIOContext*) = nullptr;
  double gap_threshold_s_ = 1.0;
  std::optional<double> last_arrival_s_;
  bool have_seq_ = false;
  std::uint16_t next_seq_ = 0;
  RtpFigures& rtp_figures_;
};

}  // namespace avmon
