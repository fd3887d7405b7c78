// The frame bus as detectors see it: decoded pictures and audio blocks,
// shared by reference and read-only. A detector never copies pixels; derived
// products (analysis-size luma, a small BGR picture) are computed once per
// frame, on the first request, and shared by every detector that asks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct AVFrame;
namespace cv {
class Mat;
}

namespace avmon {

// What the decoder said about one picture. Bitstream damage shows up here
// whether or not the picture looks damaged.
struct DecodeInfo {
  bool corrupt = false;         // AV_FRAME_FLAG_CORRUPT or decode_error_flags set
  int decode_error_flags = 0;   // AVFrame::decode_error_flags (FF_DECODE_ERROR_*)
  int errors_before = 0;        // decoder errors logged/returned since the previous picture
  bool key_frame = false;
  char pict_type = '?';         // 'I', 'P', 'B' or '?'
};

class VideoFrame {
 public:
  virtual ~VideoFrame() = default;

  virtual std::uint64_t index() const = 0;       // 0-based count of pictures on this stream
  virtual double media_time_s() const = 0;       // seconds since the stream's first timestamp
  virtual double duration_s() const = 0;         // nominal frame duration
  virtual int width() const = 0;                 // coded picture size
  virtual int height() const = 0;
  virtual int pixel_format() const = 0;          // AVPixelFormat of av_frame()
  virtual const AVFrame* av_frame() const = 0;   // the decoded picture itself; never modify it
  virtual const DecodeInfo& decode_info() const = 0;

  // 8-bit luma at the analysis size (a few hundred pixels wide, aspect kept),
  // full range as coded (16..235 for limited-range video). Computed once.
  virtual const cv::Mat& luma() const = 0;
  // Rows 0, 2, 4, ... of luma() (same width, half the height rounded up),
  // made straight from the coded plane, so half of luma()'s reads: for block
  // statistics that sample every other row. Computed once.
  virtual const cv::Mat& luma_even_rows() const = 0;
  // 8-bit luma at the coded size. For 8-bit planar YUV this is a header over
  // the decoder's own plane (no copy); other formats are converted once.
  virtual const cv::Mat& luma_full() const = 0;
  // 8-bit BGR at the analysis size, for colour checks. Computed once.
  virtual const cv::Mat& bgr() const = 0;
};

class AudioBlock {
 public:
  virtual ~AudioBlock() = default;

  virtual std::uint64_t index() const = 0;       // 0-based count of blocks on this stream
  virtual double media_time_s() const = 0;       // time of the first sample
  virtual int sample_rate() const = 0;
  virtual int channels() const = 0;
  virtual int samples() const = 0;               // per channel
  // Planar float, nominal full scale +-1.0 (decoders may overshoot slightly).
  virtual const float* channel(int c) const = 0;
  virtual const std::string& channel_name(int c) const = 0;  // "FL", "FR", "c2"...
};

// The shape of the input, given to detectors before the first frame and again
// after a format change.
struct StreamInfo {
  std::string stream;            // stream name used in events
  bool live = false;             // a live input (network) rather than a file
  bool has_video = false;
  int width = 0, height = 0;
  double frame_rate = 0;         // frames per second, 0 when unknown
  std::string video_codec;
  bool has_audio = false;
  int sample_rate = 0;
  int channels = 0;
  std::vector<std::string> channel_names;
  std::string audio_codec;
  // What the stream declares (for the expect: checks and stream.summary).
  std::string video_profile;     // e.g. "High", "Main 10"; empty when unknown
  std::string video_level;       // e.g. "4.0" (H.264), "4.1" (HEVC), "Main" (MPEG-2); empty when unknown
  std::string channel_layout;    // e.g. "stereo", "5.1(side)"
  std::vector<std::string> audio_languages;  // ISO 639-2 code of every audio stream of the input ("und" if none)
};

}  // namespace avmon
