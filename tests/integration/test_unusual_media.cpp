// Unusual media from the ffmpeg CLI: plain PCM without a channel layout is
// analysed like any audio.
#include <gtest/gtest.h>

#include "support/run.hpp"

namespace avmon::test {
namespace {

// PCM as ffmpeg writes it to WAV or Matroska declares only a channel count,
// no layout: its audio is analysed like any other, nothing is refused.
TEST(UnusualMedia, PlainPcmWithoutAChannelLayoutIsAnalysed) {
  auto dir = scratch_dir("pcm-no-layout");
  struct Case {
    std::string name;
    std::vector<std::string> args;
  };
  // 5 s of 1 kHz tone, silent from 1 s to 3.5 s.
  const std::vector<std::string> audio = {"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:d=5"};
  const std::string silent = "volume=enable='between(t,1,3.499)':volume=0";
  const std::vector<Case> cases = {
      {"mono.wav", {"-af", silent, "-c:a", "pcm_s16le"}},
      {"stereo.wav", {"-af", silent, "-ac", "2", "-c:a", "pcm_s16le"}},
      {"float.wav", {"-af", silent, "-c:a", "pcm_f32le"}},
      {"mono.mkv", {"-af", silent, "-c:a", "pcm_s16le"}},
      {"stereo.mkv", {"-af", silent, "-ac", "2", "-c:a", "pcm_s16le"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto clip = dir / c.name;
    std::vector<std::string> args = audio;
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.push_back(clip.string());
    ffmpeg(args);
    auto events_path = dir / (c.name + ".jsonl");
    RunResult r = run_avmon(clip.string(), events_path);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    auto events = read_events(events_path);
    ASSERT_FALSE(events.empty());
    const auto& summary = events.back();
    EXPECT_EQ(summary.value("/frames/audio_blocks"_json_pointer, 0) > 0, true) << summary.dump();
    EXPECT_EQ(summary.value("audio_conversion_errors", -1), 0);
    EXPECT_EQ(r.err.find("cannot be converted"), std::string::npos) << r.err;
    auto silence = defects(events, "silence");
    ASSERT_EQ(silence.size(), 1u);
    EXPECT_NEAR(silence[0].start_s, 1.0, 0.03);
    EXPECT_NEAR(silence[0].end_s, 3.5, 0.03);
  }
}

}  // namespace
}  // namespace avmon::test
