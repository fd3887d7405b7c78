// Writing evidence: a clip (the buffered packets remuxed, no re-encoding)
// and a thumbnail (the picture at a media time, decoded from the buffered
// packets, as JPEG). Both write to "<path>.part" and rename when complete,
// so a half-written file is never seen under its name; every write is
// checked and a failure says what the system said.
#pragma once

#include <cstdint>
#include <string>

#include "evidence/ring.hpp"

namespace avmon::evidence {

struct WriteResult {
  bool ok = false;
  std::string error;        // why not, e.g. "cannot write /ev/x.ts: No space left on device"
  std::uint64_t bytes = 0;  // of the file written
  double media_start_s = NAN, media_end_s = NAN;  // of the pictures in it (thumbnail: the picture's)
};

// `container`: "mpegts" or "matroska". Timestamps start near 0: media time =
// the clip's presentation time - its first presentation time + media_start_s.
WriteResult write_clip(const ClipMaterial& m, const std::string& container, const std::string& path);

// The first picture at or after `at_s` (the last one when none is), decoded
// from the material's first random-access point.
WriteResult write_thumbnail(const ClipMaterial& m, double at_s, const std::string& path);

}  // namespace avmon::evidence
