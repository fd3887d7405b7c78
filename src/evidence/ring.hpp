// The rolling buffer of the compressed input: references to the demuxer's
// packets (av_packet_ref: refcounted, never copied) of the decoded streams,
// bounded by media seconds and bytes, trimmed a whole GOP at a time so that
// it always begins at a random-access point (a video keyframe; any audio
// packet when there is no video). Decode thread only.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include "input/source.hpp"
#include "pipeline/av_ptr.hpp"

namespace avmon::evidence {

// One stream of one input session: what a muxer and a decoder need.
struct Track {
  Track(const AVStream& st, bool video);
  ~Track();
  Track(const Track&) = delete;
  Track& operator=(const Track&) = delete;
  AVCodecParameters* par = nullptr;
  AVRational time_base{1, 90000};
  bool video = false;
};

struct ClipPacket {
  AVPacketPtr packet;                  // another reference to the same buffer
  std::shared_ptr<const Track> track;
  double media_s = 0;                  // of its presentation time
};

// Packets for a clip, in the order they were read.
struct ClipMaterial {
  std::vector<ClipPacket> packets;
  double start_s = NAN, end_s = NAN;   // media time of the first picture (or block) and of the last
  bool start_cut = false;              // the buffer did not reach back to the wanted start
  bool has_video = false;
};

class Ring {
 public:
  Ring(double buffer_s, std::int64_t max_bytes) : buffer_s_(buffer_s), max_bytes_(max_bytes) {}

  // Forgets everything: another session of the input, or another layout.
  void reset(bool has_video);
  // `keep_from_s`: media time that must stay (an alarm's pre-roll waits for
  // its clip) unless the byte bound says otherwise; +inf when none.
  void add(const InputPacket& p, double keep_from_s);

  // From the last random-access point at or before from_s (or the oldest)
  // to to_s: video in decoding order up to the last picture presented at or
  // before to_s (so that every picture decodes), audio within the span.
  ClipMaterial collect(double from_s, double to_s) const;

  // Media time of the newest packet of the stream that leads (video if any).
  double newest_s() const { return newest_s_; }
  double oldest_s() const;
  std::int64_t bytes() const { return bytes_; }
  std::int64_t peak_bytes() const { return peak_bytes_; }
  std::size_t packets() const { return entries_.size(); }
  // "mpegts" when every stream of the session can be carried in MPEG-TS,
  // else "matroska"; empty before the first packet.
  std::string container() const;

 private:
  struct Entry {
    AVPacketPtr packet;
    std::shared_ptr<const Track> track;
    double raw_s = NAN;    // presentation (else decoding) time in stream seconds
    double media_s = NAN;  // NaN until a frame's anchor reaches it
    bool key = false;
  };
  void trim(double keep_from_s);
  void drop_front();
  void resolve(double anchor_raw_s, double anchor_media_s);

  double buffer_s_;
  std::int64_t max_bytes_;
  bool has_video_ = false;
  bool dropped_ = false;               // something of this session was let go
  std::deque<Entry> entries_;
  std::uint64_t front_seq_ = 0;        // sequence number of entries_.front()
  std::deque<std::uint64_t> keys_;     // sequence numbers of random-access entries
  std::map<const AVStream*, std::shared_ptr<const Track>> tracks_;
  std::uint64_t session_ = 0;
  std::size_t unresolved_ = 0;
  std::int64_t bytes_ = 0, peak_bytes_ = 0;
  double newest_s_ = NAN;
};

// Whether MPEG-TS carries this codec (FFmpeg's muxer writes a stream type for it).
bool ts_carries(AVCodecID id);

}  // namespace avmon::evidence
