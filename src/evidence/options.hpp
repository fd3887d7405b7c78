// The `evidence:` section: a rolling buffer of the compressed input and a
// clip around each alarm (src/evidence/recorder.hpp). Declared here so that
// the configuration validates it like every other section.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "avmon/options.hpp"

namespace avmon::evidence {

const std::vector<OptionSpec>& options();

struct Settings {
  std::string dir;                       // empty: no clips
  double buffer_s = 30;                  // compressed input kept, media seconds
  std::int64_t max_buffer_bytes = 128 << 20;
  double pre_s = 10, post_s = 10;        // clip from raise - pre_s to raise + post_s
  std::int64_t max_clips = 100;          // clips kept in dir (oldest deleted first)
  std::int64_t max_bytes = std::int64_t{2} << 30;  // clips and thumbnails kept in dir
  std::vector<std::string> types;        // defect types that get a clip; empty: all
  std::size_t queue_clips = 8;           // clips waiting for the writer

  static Settings from(const Options& o);
  bool enabled() const { return !dir.empty(); }
  bool wants(const std::string& type) const;
};

}  // namespace avmon::evidence
