// The transport layer on a live UDP feed: an encoder that restarts with
// another codec on the same PIDs is a format change, seen at once from the
// service's new PMT (libavformat alone keeps the decoders it chose at the
// probe and nothing decodes until the input is reopened for lack of frames).
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "integration/live_support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

TEST(TsLive, AnotherCodecOnTheSamePidsIsAFormatChangeWithinSeconds) {
  auto dir = scratch_dir("ts-live-codec");
  // The live clip's layout (PMT 0x1000, video 0x100, audio 0x101) in
  // MPEG-2 video and MPEG-1 Layer II sound instead of H.264 and AAC.
  const fs::path mpeg2 = dir / "mpeg2.ts";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=10", "-f", "lavfi", "-i",
          "anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=7:d=10", "-af", "aformat=channel_layouts=stereo",
          "-c:v", "mpeg2video", "-g", "12", "-c:a", "mp2", "-b:a", "192k", "-f", "mpegts", mpeg2.string()});
  const int port = 23260;
  const std::string in = "udp://127.0.0.1:" + std::to_string(port), out = in + "?pkt_size=1316";
  EventWatch watch(dir / "events.jsonl");
  // read_timeout_s 10 (the default): without the PMT, the change would be
  // noticed only after 10 s without a decodable frame.
  Child avmon(avmon_run(in, dir / "events.jsonl",
                        write_config(dir, "input:\n  signal_loss_timeout_s: 4\n  read_timeout_s: 10\n  options:\n"
                                          "    fifo_size: \"100000\"\n    overrun_nonfatal: \"1\"\n")),
              dir / "avmon.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto sender = std::make_unique<Child>(ffmpeg_sender(live_clip(), out), dir / "ffmpeg1.log");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  sender.reset();
  sender = std::make_unique<Child>(ffmpeg_sender(mpeg2, out), dir / "ffmpeg2.log");
  const auto switched = SteadyClock::now();
  int change = watch.wait_for(
      [](const nlohmann::json& e) {
        return e.value("kind", "") == "stream.format_change" && e["details"]["video_codec"] == "mpeg2video";
      },
      9);
  ASSERT_GE(change, 0) << avmon.log();
  EXPECT_LT(seconds_between(switched, watch.seen_at(static_cast<size_t>(change))), 6.0)
      << "a reopen for lack of frames (read_timeout_s) is not a format change seen from the PMT";
  EXPECT_EQ(watch.events()[static_cast<size_t>(change)]["details"]["audio_codec"], "mp2");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  avmon.signal(SIGTERM);
  ASSERT_EQ(avmon.wait(10), 0) << avmon.log();
  watch.poll();
  const auto& events = watch.events();
  ASSERT_FALSE(events.empty());
  const auto& summary = events.back();
  ASSERT_EQ(summary.value("kind", ""), "stream.summary");
  EXPECT_EQ(summary["format"]["video_codec"], "mpeg2video") << summary.dump();
  // The PMT's change is reported as such.
  bool service_change = false;
  for (const auto& e : events) service_change |= e.value("kind", "") == "stream.service_change";
  EXPECT_TRUE(service_change);
  // MPEG-2 pictures were not fed to the H.264 decoder: no corruption.
  for (const auto& e : events)
    EXPECT_FALSE(e.value("kind", "") == "defect.start" && e.value("type", "") == "corruption") << e.dump();
}

}  // namespace
}  // namespace avmon::test
