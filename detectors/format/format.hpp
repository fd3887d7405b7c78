// format: the stream's declared format against the configuration's expect:
// section; a difference in any key is a format_mismatch defect naming the
// field with the expected and found values. What is found is always
// reported (stream.summary's "format", /status), expected or not.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::format {

class FormatDetector final : public Detector {
 public:
  // `o`: the expect: keys that are set (others are ignored).
  explicit FormatDetector(const Options& o);
  void configure(const StreamInfo& info) override;
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_audio(const AudioBlock& block, ObservationSink& out) override;
  nlohmann::json summary() const override { return {{"format", found_}}; }
  nlohmann::json levels() const override { return {{"format", found_}}; }

 private:
  // Compares every set key with what is found now; reports the keys whose
  // state changed (or all of them the first time).
  void evaluate(double media_time_s, ObservationSink& out);

  struct Check {
    std::string key;
    int index = 0;           // position in the expect table: the event's channel
    OptionValue expected;
    int state = -1;          // -1 not evaluated yet, 0 matches, 1 differs
    std::string reported;    // the found value last reported
  };
  std::vector<Check> checks_;
  nlohmann::json found_ = nlohmann::json::object();
  bool stream_changed_ = true;
  bool has_video_ = false;
  // Per-picture properties last seen, so strings are made only on change.
  struct PictureKey {
    int width = -1, height = -1, scan = -1, primaries = -1, transfer = -1, space = -1, range = -1;
    int sar_num = -1, sar_den = -1, hdr = -1, afd = -2;
    bool operator==(const PictureKey&) const = default;
  };
  PictureKey picture_;
  int hdr_mask_ = -1;  // last seen on a key frame (bit 0 mastering display, bit 1 content light level)
  int afd_ = -2;       // last seen AFD code (-1 none)
};

DetectorInfo describe_format();

}  // namespace avmon::format
