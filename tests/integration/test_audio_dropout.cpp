// audio_dropout end to end: zero runs and a lost audio frame put into a tone
// and into a real film soundtrack with the ffmpeg CLI, AAC-coded as broadcast
// chains deliver them, analysed by the real binary; and the traps (speech-like
// pauses, staccato notes, a fade, the clean soundtrack) that must stay quiet.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

const char* kFilm = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

struct Analysis {
  std::vector<Interval> dropouts, silences;
  nlohmann::json summary;
};

Analysis analyse(const fs::path& clip) {
  const auto events_path = clip.parent_path() / (clip.filename().string() + ".jsonl");
  auto r = run_avmon(clip.string(), events_path, {}, 120);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  Analysis a;
  const auto events = read_events(events_path);
  a.dropouts = defects(events, "audio_dropout");
  a.silences = defects(events, "silence");
  for (const auto& e : events)
    if (e.value("kind", "") == "stream.summary") a.summary = e;
  return a;
}

// A small picture and `audio` (a filter graph from input 1, ending in [a]).
// AAC unless `pcm` (sample-exact audio in QuickTime).
fs::path make_clip(const std::string& name, const std::vector<std::string>& audio_input, const std::string& graph,
                   double seconds, bool pcm = false) {
  const auto path = scratch_dir("dropout-" + name) / (name + (pcm ? ".mov" : ".mp4"));
  std::vector<std::string> args = {"-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=" + std::to_string(seconds)};
  args.insert(args.end(), audio_input.begin(), audio_input.end());
  for (const char* a : {"-filter_complex"}) args.push_back(a);
  args.push_back(graph);
  for (const std::string a : {"-map", "0:v", "-map", "[a]", "-t"}) args.push_back(a);
  args.push_back(std::to_string(seconds));
  for (const std::string a : {"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-ar", "48000", "-ac", "2"})
    args.push_back(a);
  for (const std::string& a : pcm ? std::vector<std::string>{"-c:a", "pcm_s16le"}
                                 : std::vector<std::string>{"-c:a", "aac", "-b:a", "128k"})
    args.push_back(a);
  args.push_back(path.string());
  ffmpeg(args);
  return path;
}

const std::vector<std::string> kTone = {"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:d=11"};
std::vector<std::string> film() { return {"-t", "11", "-i", kFilm}; }

// Zeroes, sample-exact (aeval works per sample; volume's enable= works per frame).
const char* kZeroRuns =
    "if(between(t\\,2.5\\,2.51)+between(t\\,4.5\\,4.52)+between(t\\,6\\,6.05)+between(t\\,7.2\\,7.4)\\,0\\,val(ch))";

void expect_runs(const std::vector<Interval>& found, double tol_s) {
  const double starts[] = {2.5, 4.5, 6, 7.2}, lengths[] = {0.01, 0.02, 0.05, 0.2};
  ASSERT_EQ(found.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_NEAR(found[i].start_s, starts[i], tol_s);
    EXPECT_NEAR(found[i].end_s, starts[i] + lengths[i], tol_s);
    EXPECT_NEAR(found[i].start_event["details"]["length_ms"].get<double>(), lengths[i] * 1000, 0.2);
    EXPECT_EQ(found[i].start_event["details"]["kind"], "mute");
    EXPECT_EQ(found[i].start_event["details"]["channels"], nlohmann::json::array({"FL", "FR"}));
  }
}

TEST(AudioDropoutClips, ZeroRunsInAToneAreDropoutsAtTheirSamples) {
  // PCM: a coded steady tone fills a 10 ms gap with its smear (README, limits).
  auto a = analyse(make_clip("tone", kTone,
                             std::string("[1:a]aformat=channel_layouts=stereo,aeval=exprs='") + kZeroRuns +
                                 "|" + kZeroRuns + "'[a]",
                             10, true));
  expect_runs(a.dropouts, 0.0002);
  EXPECT_TRUE(a.silences.empty());
  EXPECT_EQ(a.summary["audio_dropout"]["count"], 4);
  EXPECT_NEAR(a.summary["audio_dropout"]["per_minute"].get<double>(), 24.0, 0.1);
}

// The film's audio from time 0, as 48 kHz stereo.
const std::string kFilmAudio = "[1:a]aformat=channel_layouts=stereo:sample_rates=48000,asetpts=PTS-STARTPTS,";

TEST(AudioDropoutClips, ZeroRunsInAFilmSoundtrackAreDropoutsAtTheirSamples) {
  if (!fs::exists(kFilm)) GTEST_SKIP() << "opencv-doc not installed";
  // Uncompressed (contribution feeds, SMPTE 302M): AAC at 128k keeps some of
  // these and smears others above mute_dbfs (README, limits).
  auto a = analyse(make_clip("film", film(), kFilmAudio + "aeval=exprs='" + kZeroRuns + "|" + kZeroRuns + "'[a]", 10,
                             true));
  // aeval's clock on this source is 2 ms behind the stream's (the lengths are exact).
  expect_runs(a.dropouts, 0.0025);
}

// A lost 1024-sample frame: the audio before and after it joined up.
std::string lost_frame(const std::string& source, int at_sample) {
  return "[1:a]" + source + "asplit[x][y];[x]atrim=end_sample=" + std::to_string(at_sample) +
         "[x1];[y]atrim=start_sample=" + std::to_string(at_sample + 1024) +
         ",asetpts=PTS-STARTPTS[y1];[x1][y1]concat=n=2:v=0:a=1[a]";
}

TEST(AudioDropoutClips, LostFrameInAToneIsADiscontinuityAtTheSplice) {
  auto a = analyse(make_clip("tone-splice", kTone, lost_frame("aformat=channel_layouts=stereo,", 3 * 48000 + 500), 8));
  ASSERT_EQ(a.dropouts.size(), 1u);
  EXPECT_NEAR(a.dropouts[0].start_s, 3 + 500.0 / 48000, 0.001);  // AAC
  EXPECT_EQ(a.dropouts[0].start_event["details"]["kind"], "discontinuity");
}

TEST(AudioDropoutClips, LostFrameInAFilmSoundtrackIsADiscontinuityAtTheSplice) {
  if (!fs::exists(kFilm)) GTEST_SKIP() << "opencv-doc not installed";
  auto a = analyse(make_clip("film-splice", film(),
                             lost_frame("aformat=channel_layouts=stereo:sample_rates=48000,asetpts=PTS-STARTPTS,",
                                        7 * 48000 + 9600),
                             9, true));
  ASSERT_EQ(a.dropouts.size(), 1u);
  EXPECT_NEAR(a.dropouts[0].start_s, 7.2, 0.0002);
  EXPECT_EQ(a.dropouts[0].start_event["details"]["kind"], "discontinuity");
}

TEST(AudioDropoutClips, CleanSoundtrackSpeechPausesStaccatoAndFadeAreNotDropouts) {
  if (fs::exists(kFilm)) {
    auto a = analyse(make_clip("film-clean", film(), "[1:a]aformat=channel_layouts=stereo:sample_rates=48000[a]", 10));
    EXPECT_TRUE(a.dropouts.empty()) << a.dropouts.size() << " at " << a.dropouts[0].start_s;
    EXPECT_EQ(a.summary["audio_dropout"]["per_minute"], 0.0);
  }
  // Speech-like: voiced syllables (150 Hz with harmonics, gliding pitch), 20 ms
  // attack, 30 ms decay into pauses that reach digital zero.
  const std::string env = "if(lt(mod(t\\,0.6)\\,0.02)\\,mod(t\\,0.6)/0.02\\,if(lt(mod(t\\,0.6)\\,0.25)\\,1\\,"
                          "exp(-(mod(t\\,0.6)-0.25)/0.03)))";
  const std::string voice = "(sin(2*PI*150*t+sin(2*PI*3*t))+0.5*sin(4*PI*150*t+2*sin(2*PI*3*t))+"
                            "0.3*sin(6*PI*150*t+3*sin(2*PI*3*t)))";
  auto speech = analyse(make_clip(
      "speech", {"-f", "lavfi", "-i", "aevalsrc='0.2*" + voice + "*gt(" + env + "\\,1e-4)*" + env + "':s=48000:d=10"},
      "[1:a]aformat=channel_layouts=stereo[a]", 10));
  EXPECT_TRUE(speech.dropouts.empty());
  // Staccato: 60 ms notes, 12 ms release, 150 ms apart.
  auto staccato = analyse(make_clip(
      "staccato",
      {"-f", "lavfi", "-i",
       "aevalsrc='0.3*sin(2*PI*440*t)*if(lt(mod(t\\,0.15)\\,0.06)\\,1\\,exp(-(mod(t\\,0.15)-0.06)/0.012))':s=48000:d=10"},
      "[1:a]aformat=channel_layouts=stereo[a]", 10));
  EXPECT_TRUE(staccato.dropouts.empty());
  // A tone faded out over 1 s, 1.5 s of silence, back abruptly.
  auto fade = analyse(make_clip("fade", kTone,
                                "[1:a]aformat=channel_layouts=stereo,aeval=exprs='val(ch)*if(lt(t\\,3)\\,1\\,"
                                "if(lt(t\\,4)\\,(4-t)*(4-t)\\,if(lt(t\\,5.5)\\,0\\,1)))'[a]",
                                8));
  EXPECT_TRUE(fade.dropouts.empty());
}

// Loud programme as commercials and promos are delivered: the soundtrack
// pushed into a brickwall limiter, a fast compressor, a loudness normaliser.
// Their gain changes bend the waveform (prediction errors up to about 5 times
// those around them) but cut nothing: not dropouts.
TEST(AudioDropoutClips, LimitedAndCompressedLoudProgrammeIsNotDropouts) {
  if (!fs::exists(kFilm)) GTEST_SKIP() << "opencv-doc not installed";
  const std::pair<const char*, const char*> chains[] = {
      {"limiter", "volume=16dB,alimiter=limit=0.95"},
      {"limiter-fast", "volume=18dB,alimiter=limit=0.9:attack=0.1:release=1"},
      {"compressor", "volume=16dB,acompressor=threshold=0.1:ratio=20:attack=0.01:release=20"},
      {"normaliser", "dynaudnorm=f=50:g=3"},
  };
  for (const auto& [name, chain] : chains) {
    SCOPED_TRACE(name);
    auto a = analyse(make_clip(std::string("loud-") + name, film(),
                               std::string("[1:a]aformat=channel_layouts=stereo:sample_rates=48000,") + chain + "[a]", 10));
    EXPECT_TRUE(a.dropouts.empty()) << a.dropouts.size() << " at " << a.dropouts[0].start_s << ": "
                                    << a.dropouts[0].start_event["details"].dump();
  }
}

// A flash-and-beep A/V sync pattern (40 ms of 1 kHz once a second, cut on and
// off without a ramp, digital zero between), AAC-coded in MPEG-TS as a sync
// test feed arrives; and half-second pips. Gated tones, not dropouts.
TEST(AudioDropoutClips, GatedSyncBeepsAreNotDropouts) {
  const std::pair<const char*, std::string> patterns[] = {{"sync", "lt(mod(t-0.2\\,1)\\,0.04)"},
                                                          {"pips", "lt(mod(t-0.2\\,1)\\,0.5)"}};
  for (const auto& [name, pattern] : patterns) {
    SCOPED_TRACE(name);
    const auto path = scratch_dir(std::string("dropout-beeps-") + name) / "beeps.ts";
    ffmpeg({"-f", "lavfi", "-i", "color=c=0x303030:s=320x180:r=25:d=20", "-f", "lavfi", "-i",
            "aevalsrc='0.4*sin(2*PI*1000*t)*" + pattern + "':s=48000:d=20", "-filter_complex",
            "[0:v]drawbox=color=white:t=fill:enable='lt(mod(t\\,1)\\,0.039)'[v];[1:a]aformat=channel_layouts=stereo[a]",
            "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a",
            "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", path.string()});
    auto a = analyse(path);
    EXPECT_TRUE(a.dropouts.empty()) << a.dropouts.size() << " at " << a.dropouts[0].start_s;
    EXPECT_EQ(a.summary["audio_dropout"]["count"], 0);
  }
}

TEST(AudioDropoutClips, GapAsLongAsSilenceIsSilenceOnly) {
  auto a = analyse(make_clip("long-gap", kTone,
                             "[1:a]aformat=channel_layouts=stereo,aeval=exprs='if(between(t\\,3\\,6)\\,0\\,val(ch))'[a]",
                             9));
  EXPECT_TRUE(a.dropouts.empty());
  ASSERT_EQ(a.silences.size(), 1u);
}

}  // namespace
}  // namespace avmon::test
