// decode.mode end to end: each mode decodes what it says (picture counts
// against the clip's own picture types, read with ffprobe), economy keeps
// the events of the detectors that run on reference pictures, and adaptive
// switches on generated defects at exact media times, the same on every run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/run.hpp"

namespace {

namespace fs = std::filesystem;
using avmon::test::defects;
using avmon::test::ffmpeg;
using avmon::test::Interval;
using avmon::test::read_events;
using avmon::test::run_avmon;
using avmon::test::run_process;
using avmon::test::scratch_dir;

constexpr double kTol = 0.05;

// Pictures of the clip by type, as ffprobe decodes them.
std::map<char, int> picture_types(const fs::path& clip) {
  auto r = run_process({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pict_type",
                        "-of", "csv=p=0", clip.string()});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  std::map<char, int> n;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++n[line[0]];
  return n;
}

fs::path mode_config(const fs::path& dir, const std::string& mode, const std::string& extra = "") {
  const fs::path cfg = dir / (mode + ".yaml");
  std::ofstream(cfg) << "decode:\n  mode: " << mode << "\n" << extra;
  return cfg;
}

struct Analysis {
  std::vector<nlohmann::json> events;
  nlohmann::json summary;
};

Analysis analyse(const fs::path& clip, const fs::path& config, const std::string& tag) {
  const fs::path events = clip.string() + "." + tag + ".jsonl";
  auto r = run_avmon(clip.string(), events, {"--config", config.string()});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  Analysis out;
  out.events = read_events(events);
  for (const auto& e : out.events)
    if (e.value("kind", "") == "stream.summary") out.summary = e;
  return out;
}

std::vector<std::string> starved(nlohmann::json summary) {
  std::vector<std::string> names;
  for (const auto& s : summary["decode"]["starved"]) names.push_back(s.value("detector", ""));
  return names;
}

// Lines without wall-clock fields: what must be the same on every run.
std::vector<std::string> media_lines(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (auto e : events) {
    e.erase("wall_time");
    if (e.value("kind", "") == "stream.summary") {
      e.erase("detectors");  // CPU seconds
      continue;
    }
    out.push_back(e.dump());
  }
  return out;
}

std::vector<nlohmann::json> switches(const std::vector<nlohmann::json>& events) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e.value("kind", "") == "decode.switch") out.push_back(e);
  return out;
}

struct Codec {
  std::string name;
  std::vector<std::string> args;
};

class PictureCounts : public ::testing::TestWithParam<Codec> {};

// A moving 10 s clip, a keyframe every 2 s, B pictures that are not
// references: full decodes every picture, economy the I and P pictures,
// adaptive (nothing wrong in it) the keyframes.
TEST_P(PictureCounts, EachModeDecodesWhatItSays) {
  const Codec& codec = GetParam();
  const fs::path dir = scratch_dir("counts_" + codec.name), clip = dir / "clip.ts";
  std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-t", "10", "-an"};
  args.insert(args.end(), codec.args.begin(), codec.args.end());
  args.push_back(clip.string());
  ffmpeg(args);
  auto types = picture_types(clip);
  const int all = types['I'] + types['P'] + types['B'];
  ASSERT_EQ(all, 250);
  ASSERT_GE(types['I'], 5);  // every 2 s (the MPEG-2 encoder may add one)
  ASSERT_GT(types['B'], 100);

  Analysis full = analyse(clip, mode_config(dir, "full"), "full");
  EXPECT_EQ(full.summary["frames"]["video"], all);
  EXPECT_EQ(full.summary["decode"]["mode"], "full");
  EXPECT_EQ(full.summary["decode"]["pictures_decoded"], all);
  EXPECT_EQ(full.summary["decode"]["pictures_skipped"], 0);
  EXPECT_TRUE(starved(full.summary).empty());

  Analysis economy = analyse(clip, mode_config(dir, "economy"), "economy");
  EXPECT_EQ(economy.summary["frames"]["video"], types['I'] + types['P']);
  EXPECT_EQ(economy.summary["decode"]["pictures_skipped"], types['B']);
  EXPECT_EQ(economy.summary["decode"]["decoding"], "reference");
  // Detectors that need every picture are named; black is content with
  // reference pictures.
  EXPECT_EQ(starved(economy.summary), (std::vector<std::string>{"av_sync", "captions", "corruption", "flash", "freeze"}));

  Analysis adaptive = analyse(clip, mode_config(dir, "adaptive"), "adaptive");
  EXPECT_EQ(adaptive.summary["frames"]["video"], types['I']);
  EXPECT_EQ(adaptive.summary["decode"]["pictures_decoded"], types['I']);
  EXPECT_EQ(adaptive.summary["decode"]["pictures_skipped"], all - types['I']);
  EXPECT_EQ(adaptive.summary["decode"]["switches"], 0);
  EXPECT_EQ(adaptive.summary["decode"]["decoding"], "keyframes");
  EXPECT_TRUE(switches(adaptive.events).empty());
}

INSTANTIATE_TEST_SUITE_P(
    DecodeModes, PictureCounts,
    ::testing::Values(Codec{"h264", {"-c:v", "libx264", "-preset", "veryfast", "-x264-params",
                                     "keyint=50:min-keyint=50:scenecut=0:bframes=2:b-adapt=0:b-pyramid=none"}},
                      Codec{"mpeg2", {"-c:v", "mpeg2video", "-q:v", "4", "-g", "50", "-bf", "2", "-sc_threshold",
                                      "1000000000"}}),
    [](const auto& p) { return p.param.name; });

// Black 5..9 s and a held picture 13..17 s in a moving H.264 clip with
// keyframes every 2 s; the audio is a steady tone, so only the pictures
// cause switches.
fs::path defect_clip(const fs::path& dir) {
  const fs::path clip = dir / "defects.ts";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "22",
          "-filter_complex",
          "[0:v]drawbox=enable='between(t,5,8.99)':color=black:t=fill,"
          "split[a][b];[a][b]freezeframes=first=325:last=424:replace=325[v]",
          "-map", "[v]", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-x264-params",
          "keyint=50:min-keyint=50:scenecut=0", "-c:a", "aac", "-b:a", "128k", clip.string()});
  return clip;
}

TEST(DecodeModes, AdaptiveSwitchesToEveryPictureFromTheKeyframeBeforeTrouble) {
  const fs::path dir = scratch_dir("adaptive_switch"), clip = defect_clip(dir);
  Analysis full = analyse(clip, mode_config(dir, "full"), "full");
  const fs::path cfg = mode_config(dir, "adaptive", "  quiet_s: 3\n");
  Analysis adaptive = analyse(clip, cfg, "adaptive");

  // Keyframes at 0, 2, 4...: 6 and 8 are black, so every picture from 4 on
  // (where the black may have begun); quiet from 8 (the last black
  // keyframe) at the keyframe 12; 16 is 14's picture again, so every picture
  // from 14; quiet from 16 at 20.
  // The clip's pictures start a little after its audio (0.021 s in MPEG-TS):
  // media time of picture 0, from the full analysis's black onset.
  const auto black_full = defects(full.events, "black"), black_adaptive = defects(adaptive.events, "black");
  ASSERT_EQ(black_full.size(), 1u);
  const double first_picture_s = black_full[0].start_s - 5.0;
  ASSERT_NEAR(first_picture_s, 0.0, kTol);
  auto sw = switches(adaptive.events);
  ASSERT_EQ(sw.size(), 4u) << nlohmann::json(sw).dump();
  const double at[] = {4.0, 12.0, 14.0, 20.0};
  const char* decoding[] = {"all", "keyframes", "all", "keyframes"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(sw[i]["media_time"].get<double>(), first_picture_s + at[i], 1e-3) << sw[i].dump();
    EXPECT_EQ(sw[i]["details"]["decoding"], decoding[i]) << sw[i].dump();
  }
  EXPECT_EQ(sw[0]["details"]["reason"], "black keyframe");
  EXPECT_EQ(sw[2]["details"]["reason"], "keyframe the same as the one before");

  // Black is found exactly as in full mode; the hold is known from the
  // keyframe where it was first seen held (14 s), less than a GOP late.
  ASSERT_EQ(black_adaptive.size(), 1u);
  EXPECT_NEAR(black_full[0].end_s, 9.0, kTol);
  EXPECT_DOUBLE_EQ(black_adaptive[0].start_s, black_full[0].start_s);
  EXPECT_DOUBLE_EQ(black_adaptive[0].end_s, black_full[0].end_s);
  const auto freeze_full = defects(full.events, "freeze"), freeze_adaptive = defects(adaptive.events, "freeze");
  ASSERT_EQ(freeze_full.size(), 1u);
  ASSERT_EQ(freeze_adaptive.size(), 1u);
  EXPECT_NEAR(freeze_full[0].start_s, 13.0, kTol);
  EXPECT_NEAR(freeze_full[0].end_s, 17.0, kTol);
  EXPECT_NEAR(freeze_adaptive[0].start_s, 14.0, kTol);
  EXPECT_DOUBLE_EQ(freeze_adaptive[0].end_s, freeze_full[0].end_s);
  EXPECT_TRUE(defects(adaptive.events, "corruption").empty());

  // Pictures: keyframes 0, 2, 4 (light), every picture 4.04..11.96 (K4 was
  // delivered already), keyframes 12 and 14, every picture 14.04..19.96,
  // keyframe 20.
  EXPECT_EQ(adaptive.summary["frames"]["video"], 3 + 199 + 2 + 149 + 1);
  EXPECT_EQ(adaptive.summary["decode"]["switches"], 4);

  // The same pictures and the same lines on every run.
  for (int run = 0; run < 2; ++run) {
    Analysis again = analyse(clip, cfg, "again" + std::to_string(run));
    EXPECT_EQ(media_lines(again.events), media_lines(adaptive.events));
    EXPECT_EQ(again.summary["decode"], adaptive.summary["decode"]);
  }
}

// Economy gives the events of full mode for black and the audio detectors.
TEST(DecodeModes, EconomyKeepsTheEventsOfReferencePictureAndAudioDetectors) {
  const fs::path dir = scratch_dir("economy_events"), clip = dir / "clip.ts";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=640x360:r=25", "-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "14",
          "-filter_complex",
          "[0:v]drawbox=enable='between(t,3,6.99)':color=black:t=fill,"
          "split[a][b];[a][b]freezeframes=first=225:last=324:replace=225[v];"
          "[1:a]volume=enable='between(t,4,7)':volume=0[s]",
          "-map", "[v]", "-map", "[s]", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-bf", "3",
          "-c:a", "aac", "-b:a", "128k", clip.string()});
  Analysis full = analyse(clip, mode_config(dir, "full"), "full");
  Analysis economy = analyse(clip, mode_config(dir, "economy"), "economy");
  for (const char* type : {"black", "silence", "loudness", "freeze"}) {
    const auto f = defects(full.events, type), e = defects(economy.events, type);
    ASSERT_EQ(f.size(), e.size()) << type;
    for (size_t i = 0; i < f.size(); ++i) {
      // Economy pictures are further apart (the B pictures are skipped): a
      // picture edge moves by at most the skipped pictures (3 at 25 fps).
      const double tol = std::string(type) == "black" || std::string(type) == "freeze" ? 0.121 : 1e-9;
      EXPECT_NEAR(e[i].start_s, f[i].start_s, tol) << type;
      EXPECT_NEAR(e[i].end_s, f[i].end_s, tol) << type;
    }
  }
  ASSERT_EQ(defects(full.events, "black").size(), 1u);
  ASSERT_EQ(defects(full.events, "silence").size(), 1u);
  ASSERT_EQ(defects(full.events, "freeze").size(), 1u);
  EXPECT_EQ(full.summary["loudness"], economy.summary["loudness"]);
}

}  // namespace
