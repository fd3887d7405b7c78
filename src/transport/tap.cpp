#include "transport/tap.hpp"

#include <cstring>

extern "C" {
#include <libavutil/mem.h>
}

namespace avmon {

namespace {
constexpr int kBufferSize = 65536;  // room for any datagram
double steady_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

struct TsTap::Wrapper {
  TsTap* tap = nullptr;
  AVIOContext* inner = nullptr;  // the protocol's (or the segment's) context
  AVIOContext* outer = nullptr;  // what the demuxer reads
  bool rtp = false;
  bool analyse = true;
  // Bytes [0, analysed_end) of this input went through the analyser; a
  // demuxer seeking back (or ahead, to estimate a file's duration) reads
  // some bytes twice or out of order, and those are not analysed again.
  std::int64_t analysed_end = 0;
  std::int64_t pos = 0;  // of the next byte read from `inner`
};

TsTap::TsTap(ts::Analyzer& analyzer, RtpFigures& rtp) : analyzer_(analyzer), rtp_figures_(rtp) {}
TsTap::~TsTap() { close(); }

bool TsTap::applies_to(const std::string& url) {
  auto p = url.find("://");
  if (p == std::string::npos) return url.rfind("pipe:", 0) == 0 || url.find(':') == std::string::npos || url.rfind("file:", 0) == 0;
  const std::string scheme = url.substr(0, p);
  return scheme == "file" || scheme == "udp" || scheme == "rtp" || scheme == "srt" || scheme == "tcp" ||
         scheme == "http" || scheme == "https";
}

AVIOContext* TsTap::wrap(AVIOContext* inner, bool rtp) {
  auto w = std::make_unique<Wrapper>();
  w->tap = this;
  w->inner = inner;
  w->rtp = rtp;
  auto* buf = static_cast<std::uint8_t*>(av_malloc(kBufferSize));
  if (!buf) return nullptr;
  if (!inner->read_packet) {
    av_free(buf);
    return nullptr;
  }
  w->pos = avio_tell(inner);
  w->outer = avio_alloc_context(buf, kBufferSize, 0, w.get(), &TsTap::read, nullptr,
                                inner->seekable && inner->seek ? &TsTap::seek : nullptr);
  if (!w->outer) {
    av_free(buf);
    return nullptr;
  }
  w->outer->seekable = inner->seekable;
  w->outer->max_packet_size = kBufferSize;
  AVIOContext* out = w->outer;
  wrappers_.push_back(std::move(w));
  return out;
}

void TsTap::unwrap(Wrapper* w) {
  if (w->outer) {
    av_freep(&w->outer->buffer);
    avio_context_free(&w->outer);
  }
}

int TsTap::open(AVFormatContext* fmt, const std::string& url, AVDictionary** options, bool live) {
  live_ = live;
  rtp_ = url.rfind("rtp://", 0) == 0;
  AVIOContext* inner = nullptr;
  // Direct: reads go straight into the tap's buffer, one datagram at a time.
  int err = avio_open2(&inner, url.c_str(), AVIO_FLAG_READ | AVIO_FLAG_DIRECT, &fmt->interrupt_callback, options);
  if (err < 0) return err;
  AVIOContext* outer = wrap(inner, rtp_);
  if (!outer) {
    avio_closep(&inner);
    return AVERROR(ENOMEM);
  }
  owns_input_ = true;
  install(fmt, outer);
  return 0;
}

int TsTap::open(AVFormatContext* fmt, AVIOContext* caller_io, bool live) {
  live_ = live;
  rtp_ = false;
  AVIOContext* outer = wrap(caller_io, false);
  if (!outer) return AVERROR(ENOMEM);
  owns_input_ = false;
  install(fmt, outer);
  return 0;
}

void TsTap::install(AVFormatContext* fmt, AVIOContext* outer) {
  input_ = wrappers_.back().get();
  fmt->pb = outer;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  // HLS opens its segments through io_open: tap them too.
  fmt->opaque = this;
  default_io_open_ = fmt->io_open;
  default_io_close2_ = fmt->io_close2;
  fmt->io_open = &TsTap::io_open;
  fmt->io_close2 = &TsTap::io_close2;
}

void TsTap::format_known(const AVFormatContext* fmt) {
  if (!input_ || !fmt->iformat) return;
  const std::string name = fmt->iformat->name;
  if (name != "mpegts") input_->analyse = false;
}

void TsTap::close() {
  for (auto& w : wrappers_) {
    if (w.get() == input_ && w->inner && owns_input_) avio_closep(&w->inner);
    unwrap(w.get());
  }
  wrappers_.clear();
  input_ = nullptr;
  have_seq_ = false;
}

int TsTap::io_open(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* tap = static_cast<TsTap*>(s->opaque);
  int err = tap->default_io_open_(s, pb, url, flags, options);
  if (err < 0 || !(flags & AVIO_FLAG_READ) || !s->iformat || std::strcmp(s->iformat->name, "hls") != 0) return err;
  // A playlist or a segment: a segment that is not MPEG-TS never syncs.
  AVIOContext* outer = tap->wrap(*pb, false);
  if (!outer) return err;
  *pb = outer;
  return 0;
}

int TsTap::io_close2(AVFormatContext* s, AVIOContext* pb) {
  auto* tap = static_cast<TsTap*>(s->opaque);
  for (auto it = tap->wrappers_.begin(); it != tap->wrappers_.end(); ++it) {
    if ((*it)->outer != pb || it->get() == tap->input_) continue;
    int err = tap->default_io_close2_(s, (*it)->inner);
    tap->unwrap(it->get());
    tap->wrappers_.erase(it);
    return err;
  }
  return tap->default_io_close2_(s, pb);
}

int TsTap::strip_rtp(std::uint8_t* buf, int n) {
  // RTCP (payload types 200-204 with the marker bit) shares the port pair.
  if (n >= 2 && buf[1] >= 200 && buf[1] <= 204) {
    ++rtp_figures_.rtcp;
    return 0;
  }
  if (n < 12 || (buf[0] >> 6) != 2) {
    ++rtp_figures_.not_ts;
    return 0;
  }
  int header = 12 + 4 * (buf[0] & 0x0F);
  if ((buf[0] & 0x10) && n >= header + 4) header += 4 + 4 * ((buf[header + 2] << 8) | buf[header + 3]);
  int end = n;
  if (buf[0] & 0x20) end -= buf[n - 1];  // padding
  if ((buf[1] & 0x7F) != 33 || header >= end) {  // payload type 33: MPEG-2 TS (RFC 3551)
    ++rtp_figures_.not_ts;
    return 0;
  }
  ++rtp_figures_.packets;
  const auto seq = static_cast<std::uint16_t>(buf[2] << 8 | buf[3]);
  if (have_seq_) {
    const auto d = static_cast<std::uint16_t>(seq - next_seq_);
    if (d != 0 && d < 0x8000) rtp_figures_.lost += d;
    else if (d >= 0x8000) ++rtp_figures_.out_of_order;  // late or repeated
  }
  if (!have_seq_ || static_cast<std::uint16_t>(seq - next_seq_) < 0x8000) next_seq_ = static_cast<std::uint16_t>(seq + 1);
  have_seq_ = true;
  std::memmove(buf, buf + header, static_cast<std::size_t>(end - header));
  return end - header;
}

void TsTap::feed(Wrapper& w, const std::uint8_t* buf, int n) {
  if (!w.analyse || n <= 0) return;
  if (!live_) {
    analyzer_.feed(buf, static_cast<std::size_t>(n));
    return;
  }
  const double now = steady_s();
  if (last_arrival_s_ && now - *last_arrival_s_ >= gap_threshold_s_) {
    analyzer_.new_session(now - *last_arrival_s_);
    have_seq_ = false;
  }
  last_arrival_s_ = now;
  analyzer_.feed(buf, static_cast<std::size_t>(n), now);
}

int TsTap::read(void* opaque, std::uint8_t* buf, int size) {
  auto& w = *static_cast<Wrapper*>(opaque);
  TsTap& tap = *w.tap;
  // Straight from the protocol into the demuxer's buffer (the inner
  // context's own buffer is bypassed: no copy); one datagram per read on
  // UDP, RTP and SRT.
  for (;;) {
    const std::int64_t pos = w.pos;
    int n = w.inner->read_packet(w.inner->opaque, buf, size);
    if (n == 0) n = AVERROR_EOF;
    if (n < 0) return n;
    w.pos += n;
    if (w.rtp) {
      n = tap.strip_rtp(buf, n);
      if (n == 0) continue;  // RTCP or not MPEG-TS: read the next datagram
      tap.feed(w, buf, n);
      return n;
    }
    // Only bytes continuing what was analysed so far.
    if (pos <= w.analysed_end && pos + n > w.analysed_end) {
      const auto skip = static_cast<int>(w.analysed_end - pos);
      tap.feed(w, buf + skip, n - skip);
      w.analysed_end = pos + n;
    }
    return n;
  }
}

std::int64_t TsTap::seek(void* opaque, std::int64_t offset, int whence) {
  auto& w = *static_cast<Wrapper*>(opaque);
  if (!w.inner->seek) return AVERROR(ENOSYS);
  const std::int64_t r = w.inner->seek(w.inner->opaque, offset, whence & ~AVSEEK_FORCE);
  if (r >= 0 && !(whence & AVSEEK_SIZE)) w.pos = r;
  return r;
}

}  // namespace avmon
