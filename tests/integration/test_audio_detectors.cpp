// Audio detectors and A/V sync end to end: clips generated with the ffmpeg
// CLI (AAC through libx264/MPEG-TS or MP4, as broadcast chains deliver them),
// analysed by the real binary, events and stream.summary figures asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// Picture is irrelevant here but present (as in a real feed): small and cheap.
const char* kPicture = "testsrc2=s=320x180:r=25";
const std::vector<std::string> kVideoCodec = {"-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p"};
const std::vector<std::string> kAudioCodec = {"-c:a", "aac", "-b:a", "128k", "-ar", "48000"};

// Programme-like sound: pink noise with a slow level envelope (speech and
// music are never steady), independent on each channel.
std::string programme(double seconds, double amplitude, int seed) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "anoisesrc=color=pink:amplitude=%g:sample_rate=48000:seed=%d:d=%g[n%d];"
                "anoisesrc=color=pink:amplitude=%g:sample_rate=48000:seed=%d:d=%g[m%d];"
                "[n%d][m%d]join=inputs=2:channel_layout=stereo,"
                "volume='0.6+0.4*sin(2*PI*0.7*t)':eval=frame",
                amplitude, seed, seconds, seed, amplitude, seed + 1, seconds, seed, seed, seed);
  return buf;
}

struct Analysis {
  std::vector<nlohmann::json> events;
  nlohmann::json summary;
  std::vector<Interval> of(const std::string& type) const { return defects(events, type); }
};

Analysis analyse(const fs::path& clip, const std::string& config_yaml = "") {
  const auto dir = clip.parent_path();
  std::vector<std::string> extra;
  if (!config_yaml.empty()) {
    const auto cfg = dir / (clip.stem().string() + ".yaml");
    std::ofstream(cfg) << config_yaml;
    extra = {"--config", cfg.string()};
  }
  const auto events_path = dir / (clip.filename().string() + ".jsonl");
  auto r = run_avmon(clip.string(), events_path, extra, 120);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  Analysis a;
  a.events = read_events(events_path);
  for (const auto& e : a.events)
    if (e.value("kind", "") == "stream.summary") a.summary = e;
  return a;
}

// Clip = picture + an audio filter graph ending in [a].
fs::path make_clip(const std::string& name, double seconds, const std::string& audio_graph,
                   const std::string& container = "mp4") {
  const auto path = scratch_dir("audio-" + name) / (name + "." + container);
  std::vector<std::string> args = {"-f", "lavfi", "-i", std::string(kPicture) + ":d=" + std::to_string(seconds),
                                   "-filter_complex", audio_graph, "-map", "0:v", "-map", "[a]", "-t",
                                   std::to_string(seconds)};
  args.insert(args.end(), kVideoCodec.begin(), kVideoCodec.end());
  args.insert(args.end(), kAudioCodec.begin(), kAudioCodec.end());
  args.push_back(path.string());
  ffmpeg(args);
  return path;
}

void expect_one(const std::vector<Interval>& found, double start_s, double end_s, double tol_s, const char* what) {
  ASSERT_EQ(found.size(), 1u) << what;
  EXPECT_NEAR(found[0].start_s, start_s, tol_s) << what;
  EXPECT_NEAR(found[0].end_s, end_s, tol_s) << what;
}

TEST(AudioDetectors, DeadChannelThenInvertedChannel) {
  // Left muted 3-9 s; left = -right 11-17 s.
  auto clip = make_clip("channels", 18,
                        programme(18, 0.2, 11) +
                            ",aeval=exprs='if(between(t\\,3\\,9)\\,0\\,if(between(t\\,11\\,17)\\,-val(1)\\,val(0)))|val(1)'"
                            ",aformat=channel_layouts=stereo[a]");
  auto a = analyse(clip);
  auto dead = a.of("channel_silent");
  expect_one(dead, 3.0, 9.0, 0.15, "channel_silent");
  if (!dead.empty()) {
    EXPECT_EQ(dead[0].start_event["channel"], 0);
    EXPECT_EQ(dead[0].start_event["details"]["channel_name"], "FL");
  }
  expect_one(a.of("phase_inversion"), 11.0, 17.0, 0.25, "phase_inversion");
  EXPECT_TRUE(a.of("silence").empty());
  EXPECT_TRUE(a.of("clipping").empty());
  EXPECT_TRUE(a.of("tone").empty());
}

TEST(AudioDetectors, ProgrammeSilenceIsOneIncident) {
  auto clip = make_clip("silence", 12, programme(12, 0.2, 21) + ",volume=enable='between(t,4,7.5)':volume=0[a]");
  auto a = analyse(clip);
  expect_one(a.of("silence"), 4.0, 7.5, 0.15, "silence");
  EXPECT_TRUE(a.of("channel_silent").empty());  // every channel is silent: not a channel defect
  EXPECT_TRUE(a.of("loudness").empty());         // suppressed by the silence incident
}

TEST(AudioDetectors, LineUpToneBurstInProgramme) {
  // 1 kHz at -18 dBFS (peak) replaces programme for 4 s.
  auto clip = make_clip("tone", 12,
                        programme(12, 0.2, 31) + ",volume=enable='between(t,4,8)':volume=0[p];"
                        "sine=frequency=1000:sample_rate=48000:d=12,volume=0.9988,"  // 1/8 -> -18.06 dBFS; keep
                        "volume=enable='not(between(t,4,8))':volume=0,aformat=channel_layouts=stereo[t];"
                        "[p][t]amix=inputs=2:normalize=0[a]");
  auto a = analyse(clip);
  auto tone = a.of("tone");
  expect_one(tone, 4.0, 8.0, 0.2, "tone");
  if (!tone.empty()) {
    EXPECT_NEAR(tone[0].start_event["details"]["frequency_hz"].get<double>(), 1000.0, 1.0);
    // ffmpeg's sine is 1/8 of full scale, shared over two channels by the upmix.
    EXPECT_NEAR(tone[0].start_event["details"]["level_dbfs"].get<double>(), -21.1, 0.5);
  }
  EXPECT_TRUE(a.of("silence").empty());
  EXPECT_TRUE(a.of("loudness").empty());
}

const char* kFilm = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

// The film's soundtrack (real programme) under a small picture, through an
// audio filter chain.
fs::path film_clip(const std::string& name, const std::string& audio_filters) {
  const auto path = scratch_dir("audio-" + name) / (name + ".mp4");
  ffmpeg({"-i", kFilm, "-t", "11", "-vf", "scale=320:180", "-af", audio_filters, "-c:v", "libx264", "-preset",
          "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", path.string()});
  return path;
}

TEST(AudioDetectors, ClippedProgrammeButNotLimitedLoudProgramme) {
  if (!fs::exists(kFilm)) GTEST_SKIP() << "opencv-doc not installed";
  // 24 dB too hot into a 16-bit path for 3-7 s, then AAC.
  auto a = analyse(film_clip("clipped", "volume=enable='between(t,3,7)':volume=24dB,aformat=sample_fmts=s16"));
  auto found = a.of("clipping");
  expect_one(found, 3.0, 7.0, 0.4, "clipping");
  if (!found.empty()) {
    EXPECT_GT(found[0].start_event["details"]["peak_dbfs"].get<double>(), -0.5);
    EXPECT_GT(found[0].start_event["details"]["clipped_share_pct"].get<double>(), 0.5);
  }
  // Brought up 20 dB into a limiter at 0.95: loud and clean, not clipped.
  auto b = analyse(film_clip("limited", "volume=20dB,alimiter=limit=0.95"));
  EXPECT_TRUE(b.of("clipping").empty());
  EXPECT_GT(b.summary["loudness"]["integrated_lufs"].get<double>(), -14.0);  // but far too loud
}

double ffmpeg_integrated_lufs(const fs::path& clip) {
  auto r = run_process({"ffmpeg", "-hide_banner", "-nostats", "-i", clip.string(), "-vn", "-af", "ebur128", "-f", "null", "-"});
  std::smatch m;
  double v = NAN;
  std::string s = r.err;
  std::regex re("I:\\s+(-?[0-9.]+) LUFS");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
    v = std::stod((*it)[1]);
  return v;
}

TEST(AudioDetectors, LoudnessStepAndIntegratedAgreeWithFfmpeg) {
  // About 10 LU too loud from 6 s to 16 s.
  // Pink noise at amplitude 0.3 reads about -25 LUFS: within the window.
  auto clip = make_clip("loudness", 24,
                        programme(24, 0.3, 51) + ",volume=enable='between(t,6,16)':volume=10dB[a]");
  auto a = analyse(clip);
  auto found = a.of("loudness");
  ASSERT_EQ(found.size(), 1u);
  // From -25.5 to -15.5 LUFS: the 3 s window passes -18 once half of it is
  // loud, and falls back once less than half is.
  EXPECT_NEAR(found[0].start_s, 7.5, 0.5);
  EXPECT_NEAR(found[0].end_s, 17.5, 0.7);
  EXPECT_EQ(found[0].start_event["details"]["direction"], "too_loud");
  const auto& l = a.summary["loudness"];
  ASSERT_TRUE(l.is_object()) << a.summary.dump();
  const double ref = ffmpeg_integrated_lufs(clip);
  ASSERT_FALSE(std::isnan(ref));
  EXPECT_NEAR(l["integrated_lufs"].get<double>(), ref, 0.2);
  EXPECT_GT(l["range_lu"].get<double>(), 5.0);
  EXPECT_LT(l["true_peak_dbtp"].get<double>(), 0.0);
  EXPECT_GE(l["true_peak_dbtp"].get<double>(), l["max_momentary_lufs"].get<double>() - 20);
}

TEST(AudioDetectors, AtscPresetFromConfiguration) {
  auto clip = make_clip("atsc", 8, programme(8, 0.3, 61) + "[a]");
  auto a = analyse(clip, "detectors:\n  loudness:\n    preset: atsc_a85\n");
  EXPECT_EQ(a.summary["loudness"]["target_lufs"], -24.0);
  EXPECT_EQ(a.summary["loudness"]["preset"], "atsc_a85");
}

TEST(AudioDetectors, RealFilmSoundtrackRaisesNoAudioDefect) {
  if (!fs::exists(kFilm)) GTEST_SKIP() << "opencv-doc not installed";
  auto a = analyse(film_clip("film", "anull"));
  for (const char* t : {"silence", "channel_silent", "clipping", "phase_inversion", "tone", "av_sync"})
    EXPECT_TRUE(a.of(t).empty()) << t;
  EXPECT_FALSE(a.summary.contains("av_sync")) << a.summary.dump();
  EXPECT_TRUE(a.summary["loudness"]["integrated_lufs"].is_number());
}

// Flash-and-beep: a white frame every second (every round(fps) frames, as a
// 29.97 fps generator does) and a 40 ms 1 kHz beep at that frame's time plus
// the offset. Grey picture, MPEG-TS (AAC priming shifts the audio PTS).
fs::path sync_clip(const std::string& rate, double fps, int offset_ms) {
  const int period_frames = static_cast<int>(std::lround(fps));
  const double period_s = period_frames / fps;
  const double shift = offset_ms / 1000.0;
  const auto name = "sync_" + std::to_string(period_frames) + "_" + std::to_string(offset_ms + 1000);
  const auto path = scratch_dir("audio-" + name) / (name + ".ts");
  char beep[256];
  std::snprintf(beep, sizeof beep, "aevalsrc='0.4*sin(2*PI*1000*(t-%.6f))*lt(mod(t-%.6f+%.6f,%.6f),0.04)':s=48000:d=9",
                shift, shift, 10 * period_s, period_s);
  ffmpeg({"-f", "lavfi", "-i", "color=c=0x303030:s=320x180:r=" + rate + ":d=9", "-f", "lavfi", "-i", beep,
          "-filter_complex",
          "[0:v]drawbox=color=white:t=fill:enable='eq(mod(n\\," + std::to_string(period_frames) + ")\\,0)'[v];"
          "[1:a]aformat=channel_layouts=stereo[a]",
          "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
          "-b:a", "128k", path.string()});
  return path;
}

class AvSyncClips : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(AvSyncClips, OffsetWithinTenMilliseconds) {
  const auto& [rate, offset_ms] = GetParam();
  const double fps = rate == "30000/1001" ? 30000.0 / 1001 : std::stod(rate);
  auto a = analyse(sync_clip(rate, fps, offset_ms));
  ASSERT_TRUE(a.summary.contains("av_sync")) << a.summary.dump();
  EXPECT_NEAR(a.summary["av_sync"]["offset_ms"].get<double>(), offset_ms, 10.0);
  EXPECT_GE(a.summary["av_sync"]["pairs"].get<int>(), 6);
  const auto found = a.of("av_sync");
  if (offset_ms > 60 || offset_ms < -40) {
    ASSERT_EQ(found.size(), 1u);
    EXPECT_LT(found[0].start_s, 2.5);
    EXPECT_NEAR(found[0].end_s, 9.0, 0.1);
    EXPECT_NEAR(found[0].start_event["details"]["offset_ms"].get<double>(), offset_ms, 10.0);
  } else {
    EXPECT_TRUE(found.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(RatesAndOffsets, AvSyncClips,
                         ::testing::Combine(::testing::Values("25", "30000/1001", "50"),
                                            ::testing::Values(-300, -100, 0, 50, 120, 300)),
                         [](const auto& param_info) {
                           std::string r = std::get<0>(param_info.param) == "30000/1001" ? "2997" : std::get<0>(param_info.param);
                           const int o = std::get<1>(param_info.param);
                           return "fps" + r + (o < 0 ? "_minus" : "_plus") + std::to_string(std::abs(o)) + "ms";
                         });

}  // namespace
}  // namespace avmon::test
