// What this avmon is: its version, the source revision it was built from,
// and the versions of the FFmpeg libraries it runs with (which may differ
// from those it was compiled against: Debian updates them separately).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace avmon {

// `git describe` of the source tree at build time ("v0.1.0-12-gabc", a
// commit hash, "-dirty" when modified), or "unknown".
const char* build_revision();

struct LibraryVersion {
  std::string name;       // "libavcodec"
  std::string running;    // "59.37.100": the library loaded now
  std::string compiled;   // the headers avmon was built with
};
std::vector<LibraryVersion> library_versions();

// `avmon --version`: version, revision, compiler, then one line per library
// ("libavcodec     59. 37.100 / 59. 37.100", compiled / running, as ffmpeg
// -version prints them).
std::string version_text();

}  // namespace avmon
