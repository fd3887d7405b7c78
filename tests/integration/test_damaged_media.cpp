// Damaged media from the ffmpeg CLI: bit-flipped copies of a clip (made at
// test time, deterministically) must not report anything beyond the media's
// real end.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// Flips `bits` bits of `src` after its first `keep` bytes (the container's
// header: a damaged header is another test), positions from a seeded
// Mersenne twister (fully specified by the standard: the same copy on every
// machine).
fs::path flipped_copy(const fs::path& src, const fs::path& dst, unsigned seed, int bits, std::size_t keep = 200) {
  std::ifstream in(src, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937 rng(seed);
  for (int i = 0; i < bits; ++i) {
    std::size_t at = keep + rng() % (bytes.size() - keep);
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
  }
  std::ofstream(dst, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return dst;
}

TEST(DamagedMedia, EveryEventOfABitFlippedClipLiesWithinItsRealDuration) {
  auto dir = scratch_dir("damaged-bitflip");
  // 4 s: a moving picture and a 1 kHz tone throughout (a tone defect from
  // start to end), so that a stretched clock shows in the events.
  for (const std::string ext : {"mkv", "ts"}) {
    auto clip = dir / ("clip." + ext);
    ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=4", "-f", "lavfi", "-i",
            "sine=frequency=1000:sample_rate=48000:d=4", "-c:v", "libx264", "-preset", "veryfast", "-g", "25",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", clip.string()});
    double worst = 0;
    std::string worst_case;
    for (unsigned seed = 1; seed <= 40; ++seed) {
      auto damaged = flipped_copy(clip, dir / ("damaged-" + std::to_string(seed) + "." + ext), seed, 20);
      auto events_path = dir / ("events-" + ext + "-" + std::to_string(seed) + ".jsonl");
      RunResult r = run_avmon(damaged.string(), events_path, {}, 60);
      // Decodable or not, never a crash.
      ASSERT_TRUE(r.exit_status == 0 || r.exit_status == 3) << ext << " seed " << seed << "\n" << r.err;
      for (const auto& e : read_events(events_path)) {
        double t = e.value("media_time", 0.0);
        if (e.value("kind", "") == "stream.summary") t = std::max(t, e.value("duration_s", 0.0));
        if (t > worst) {
          worst = t;
          worst_case = "seed " + std::to_string(seed) + ": " + e.dump();
        }
      }
    }
    std::printf("%s: latest media_time over 40 damaged copies: %.3f s\n", ext.c_str(), worst);
    // The media ends at 4.0 s (audio priming may add a block).
    EXPECT_LE(worst, 4.1) << ext << ", " << worst_case;
  }
}


}  // namespace
}  // namespace avmon::test
