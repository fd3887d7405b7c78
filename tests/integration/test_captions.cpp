// Closed captions end to end: clips whose pictures carry known A/53 cc_data
// (made at test time by avmon_caption_clip with libx264 or the MPEG-2
// encoder), analysed by the real binary.
#include <gtest/gtest.h>

#include <fstream>

#include "support/run.hpp"

namespace avmon {
namespace {

using test::defects;
using test::read_events;
using test::run_avmon;
using test::run_process;
using test::scratch_dir;

// One scratch directory for the whole file (scratch_dir() empties it).
const std::filesystem::path& dir() {
  static const auto d = scratch_dir("captions");
  return d;
}

std::filesystem::path make_clip(const std::string& name, std::vector<std::string> args) {
  auto path = dir() / name;
  std::vector<std::string> argv = {AVMON_CAPTION_CLIP, path.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv, 120);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  return path;
}

std::string config(const std::string& name, const std::string& yaml) {
  auto path = dir() / name;
  std::ofstream(path) << yaml;
  return path.string();
}

nlohmann::json summary_of(const std::vector<nlohmann::json>& events) {
  for (const auto& e : events)
    if (e["kind"] == "stream.summary") return e;
  return nullptr;
}

const std::string kExpectCc1 =
    "detectors:\n  captions:\n    expected: true\n    channels: [CC1]\n    min_duration_s: 10\n";

TEST(Captions, CaptionsStoppingAtAKnownTimeAreALossFromTheLastCharacter) {
  auto clip = make_clip("stop.ts", {"--duration", "30", "--cc1-until", "12"});
  auto events_path = dir() / "stop.jsonl";
  auto r = run_avmon(clip.string(), events_path, {"--config", config("stop.yaml", kExpectCc1)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  auto loss = defects(events, "caption_loss");
  ASSERT_EQ(loss.size(), 1u);
  // Pictures 0-299 carry the roll-up cycle of 13 pairs; the last one with a
  // character is 297 ("1"; 298 is CR, 299 RU2), at 11.88 s. The loss lasts
  // to the end.
  EXPECT_NEAR(loss[0].start_s, 11.88, 0.001);
  EXPECT_NEAR(loss[0].end_s, 30.0, 0.05);
  EXPECT_EQ(loss[0].start_event["details"]["caption_channel"], "CC1");
  auto s = summary_of(events);
  // 300 pictures of a 13-pair roll-up cycle ("CAPTION TEXT ON CC1": 16
  // characters) = 23 cycles + RU2.
  EXPECT_EQ(s["captions"]["characters"]["CC1"], 23 * 16);
  EXPECT_EQ(s["captions"]["pictures_with_cc_data"], 750);
  EXPECT_EQ(s["captions"]["parity_errors"], 0);
}

TEST(Captions, PaddingOnlyCcDataIsNotCaptioning) {
  // cc_data on every picture, all of it 608 null pairs and invalid 708 constructs.
  auto clip = make_clip("padding.ts", {"--duration", "15"});
  auto events_path = dir() / "padding.jsonl";
  auto r = run_avmon(clip.string(), events_path, {"--config", config("padding.yaml", kExpectCc1)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  auto loss = defects(events, "caption_loss");
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_NEAR(loss[0].start_s, 0.0, 0.001);
  auto s = summary_of(events);
  EXPECT_EQ(s["captions"]["pictures_with_cc_data"], 375);
  EXPECT_EQ(s["captions"]["characters"]["CC1"], 0);
}

TEST(Captions, ReturningCaptionsEndTheLoss) {
  auto clip = make_clip("resume.ts", {"--duration", "30", "--cc1-until", "5", "--cc1-resume", "20"});
  auto events_path = dir() / "resume.jsonl";
  auto r = run_avmon(clip.string(), events_path, {"--config", config("resume.yaml", kExpectCc1)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto loss = defects(read_events(events_path), "caption_loss");
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_NEAR(loss[0].start_s, 4.96, 0.001);
  EXPECT_NEAR(loss[0].end_s, 20.0, 0.001);
}

TEST(Captions, NotExpectedMeansCountedButNeverALoss) {
  auto clip = make_clip("unexpected.ts", {"--duration", "15"});
  auto events_path = dir() / "unexpected.jsonl";
  auto r = run_avmon(clip.string(), events_path,
                     {"--config", config("unexpected.yaml", "detectors:\n  captions:\n    min_duration_s: 5\n")});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  EXPECT_TRUE(defects(events, "caption_loss").empty());
  EXPECT_EQ(summary_of(events)["captions"]["pictures_with_cc_data"], 375);
}

TEST(Captions, Mpeg2CarriesEvery608FieldAnd708Service) {
  auto clip = make_clip("mpeg2.ts", {"--codec", "mpeg2video", "--duration", "20", "--cc1-until", "100",
                                     "--cc3-until", "100", "--s1-until", "8"});
  auto events_path = dir() / "mpeg2.jsonl";
  auto r = run_avmon(clip.string(), events_path,
                     {"--config", config("mpeg2.yaml", "detectors:\n  captions:\n    expected: true\n"
                                                       "    channels: [CC1, CC3, S1]\n    min_duration_s: 5\n")});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(events_path);
  auto loss = defects(events, "caption_loss");
  // Only the 708 service stops (its last packet is on picture 195, 7.8 s).
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_EQ(loss[0].start_event["details"]["caption_channel"], "S1");
  EXPECT_NEAR(loss[0].start_s, 7.8, 0.001);
  auto s = summary_of(events);
  // 500 pictures, 38 cycles of 13 pairs + 6 pairs (RU2, RU2, CA, PT, IO, N_ = 7).
  EXPECT_EQ(s["captions"]["characters"]["CC1"], 38 * 16 + 7);
  EXPECT_EQ(s["captions"]["characters"]["CC3"], 38 * 16 + 7);
  // 40 packets ("DTVCC n", n = 0, 5, ..., 195): 5 + digits characters each.
  int s1 = 0;
  for (int n = 0; n < 200; n += 5) s1 += 5 + static_cast<int>(std::to_string(n).size());
  EXPECT_EQ(s["captions"]["characters"]["S1"], s1);
  EXPECT_EQ(s["captions"]["dtvcc_errors"], 0);
}

}  // namespace
}  // namespace avmon
