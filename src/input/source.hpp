// Where decoded media comes from: libavformat/libavcodec for any URL FFmpeg
// opens, or the built-in demo generator. A source decodes each stream once
// and hands frames to its consumer, which fans them out to the detectors.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "avmon/frame.hpp"
#include "config/config.hpp"
#include "pipeline/frames.hpp"
#include "transport/access.hpp"

struct AVIOContext;
struct AVPacket;
struct AVStream;

namespace avmon {

// The input cannot be opened or is not media: exit status 3.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A packet of a decoded stream as the demuxer gave it, before decoding
// (evidence clips keep them by reference). Valid during the call only.
struct InputPacket {
  const AVPacket* packet = nullptr;
  const AVStream* stream = nullptr;  // its codec parameters and time base
  bool video = false;
  std::uint64_t session = 0;         // another value: the input was opened again (new streams)
  // The latest delivered frame's timestamp (stream seconds) and its media
  // time; NaN before the first frame.
  double anchor_raw_s = 0, anchor_media_s = 0;
};

class SourceConsumer {
 public:
  virtual ~SourceConsumer() = default;
  // Before the first frame, and again when the format changes mid-stream.
  virtual void on_stream_info(const StreamInfo& info, bool changed) = 0;
  virtual void on_video(std::shared_ptr<const VideoFrame> frame) = 0;
  virtual void on_audio(std::shared_ptr<const AudioBlock> block) = 0;
  // Timestamps jumped (or media stopped and came back): history is void.
  virtual void on_discontinuity(double media_time_s) = 0;
  // MPEG-TS inputs, after each read of the demuxer: the transport analyser
  // has new packets behind it. `decoding`: frames are expected (false when
  // only the transport is analysed, e.g. a scrambled service).
  virtual void on_transport(bool /*decoding*/) {}
  // decode.mode adaptive switched between keyframes only and every picture
  // at `media_time_s` (details: decoding, reason or quiet_s).
  virtual void on_decode_switch(double /*media_time_s*/, nlohmann::json /*details*/) {}
  // Each packet of the decoded streams, before it is decoded.
  virtual void on_packet(const InputPacket& /*packet*/) {}
};

struct SourceStats {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> video_frames{0};
  std::atomic<std::uint64_t> audio_blocks{0};
  std::atomic<std::uint64_t> decode_errors{0};   // packets refused + errors the decoders logged
  std::atomic<std::uint64_t> corrupt_frames{0};  // pictures flagged corrupt by the decoder
  std::atomic<std::uint64_t> audio_conversion_errors{0};  // decoded audio blocks that could not be converted
  std::atomic<std::uint64_t> discontinuities{0};
  // Decode modes: video packets read, pictures out of the decoder (decoded
  // again after an adaptive switch included), of which not delivered twice,
  // switches, and whether every picture is being decoded now.
  std::atomic<std::uint64_t> video_packets{0};
  std::atomic<std::uint64_t> pictures_decoded{0};
  std::atomic<std::uint64_t> pictures_redecoded{0};
  std::atomic<std::uint64_t> mode_switches{0};
  std::atomic<bool> decoding_all{true};
  // Live inputs: what the watchdog and the summary need to know.
  std::atomic<std::uint64_t> input_bytes{0};        // read from the input, parseable or not
  std::atomic<bool> input_open{false};
  std::atomic<std::uint64_t> reconnect_attempts{0};
  std::atomic<std::uint64_t> reconnects{0};         // attempts that succeeded
  std::atomic<std::uint64_t> sessions_lost{0};      // times an open input failed or ended
  std::atomic<std::uint64_t> timestamp_wraps{0};
  // Times media (re)started: the first session's first frame, then the first
  // new frame after each gap or reconnect (not frames held from before it).
  std::atomic<std::uint64_t> media_resumes{0};
};

class MediaSource {
 public:
  virtual ~MediaSource() = default;
  // Opens the input and its decoders; throws InputError saying why not.
  virtual void open() = 0;
  virtual const StreamInfo& info() const = 0;
  // Decodes until the input ends or stop() is called. Returns why it ended
  // ("end of input", "stopped", or the input error).
  virtual std::string run(SourceConsumer& consumer) = 0;
  // Any thread (or a signal handler's flag watcher): interrupts blocking I/O.
  virtual void stop() = 0;
  // Media time just past the last frame delivered.
  virtual double end_media_time_s() const = 0;
  // The input's duration as its container declares it (for progress
  // reports); 0 when unknown, as for live inputs. Any thread.
  virtual double duration_s() const { return 0; }
  virtual bool live() const = 0;
  // Figures about the input itself for stream.summary's details (e.g. the
  // audio/video timestamp skew at the transport level); null when none.
  virtual nlohmann::json summary() const { return nullptr; }
  // The packet-level transport analysis (MPEG-TS inputs); empty when off.
  virtual TransportAccess transport() { return {}; }
  // The input carries a service even if nothing of it could be decoded
  // (scrambled): analysing it is not an input error.
  virtual bool carries_service() const { return false; }
  SourceStats& stats() { return stats_; }
  // Shared-product accounting of the frames this source made.
  DerivedStats& derived_stats() { return derived_; }

 protected:
  SourceStats stats_;
  DerivedStats derived_;
};

// libavformat + libavcodec. `stop_flag` (may be null) is polled by the
// interrupt callback so that a signal ends even a hung read at once.
// A live input (any URL but file:/pipe:) is reopened with backoff whenever it
// fails (input.reconnect); open() then throws only for errors that retrying
// cannot fix (unknown protocol or format, bad option) or with
// `reconnect: never`, and otherwise leaves the first attempt to run().
std::unique_ptr<MediaSource> make_av_source(const InputConfig& cfg, const std::atomic<bool>* stop_flag);
// The same on bytes the caller supplies (media from memory: the fuzzer,
// tests): `io` replaces opening cfg.url, which only names the input in
// messages; such an input is never live and never reopened. The caller owns
// `io` and keeps it until the source is destroyed.
std::unique_ptr<MediaSource> make_av_source(const InputConfig& cfg, const std::atomic<bool>* stop_flag,
                                            AVIOContext* io);

// The built-in demo: a generated programme with known black, freeze and
// silence segments (see docs and `avmon demo --help`).
struct DemoOptions {
  double duration_s = 60;
  bool realtime = true;
};
std::unique_ptr<MediaSource> make_demo_source(const DemoOptions& opts, const std::atomic<bool>* stop_flag);

}  // namespace avmon
