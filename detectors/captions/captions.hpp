// captions: closed captions carried with the pictures (A/53 cc_data:
// CEA-608 channels CC1-CC4, CEA-708 services). Counts the characters that
// would be displayed per channel and service; caption_loss when a configured
// channel carries none for min_duration_s while captions are expected.
#pragma once

#include <string>
#include <vector>

#include "ancillary/captions.hpp"
#include "avmon/detector.hpp"
#include "avmon/options.hpp"
#include "avmon/registry.hpp"

namespace avmon::captions {

struct CaptionsParams {
  bool expected = false;                        // the programme is captioned
  std::vector<std::string> channels = {"CC1"};  // CC1..CC4, S1..S63
  double min_duration_s = 30;                   // (engine option) a gap this long is a loss
};

class CaptionsDetector final : public Detector {
 public:
  explicit CaptionsDetector(CaptionsParams p);
  void on_video(const VideoFrame& frame, ObservationSink& out) override;
  void on_discontinuity(double media_time_s) override;
  nlohmann::json summary() const override;
  nlohmann::json levels() const override { return summary(); }

 private:
  std::uint64_t characters(size_t watched) const;

  struct Watched {
    std::string name;
    bool is_service = false;
    int number = 0;                 // 0-based 608 channel, or 708 service number
    std::uint64_t last_count = 0;
    double last_char_s = NAN;       // media time of the last picture that brought characters
    bool absent = false;            // reported state
  };
  CaptionsParams p_;
  ancillary::CaptionDecoder decoder_;
  std::vector<Watched> watched_;
  std::uint64_t pictures_ = 0, pictures_with_cc_ = 0;
  bool restart_ = true;  // the next picture starts the clocks afresh
};

DetectorInfo describe_captions();

}  // namespace avmon::captions
