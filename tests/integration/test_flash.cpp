// The flash detector end to end: real footage (Debian's opencv-doc) with
// flashing fields drawn in by ffmpeg at known pictures, coded as H.264 and
// MPEG-2 at 25, 29.97 and 50 pictures a second, analysed by the real binary.
// The defect spans the flashing from its first transition to its last; the
// traps (3 flashes a second, 24 % of the screen, two camera flashes, the
// footage's own cuts) stay quiet.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

const std::string kFilm = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
constexpr double kTol = 0.05;

struct Flashing {
  double rate_hz;          // full cycles a second
  double area_fraction;    // a full-height stripe at the left of the picture
  std::string lit = "white", unlit = "black";
  int first = 75, last = 150;  // pictures [first, last) flash; the stripe shows `unlit` from first to last + 25
  std::string fps = "25";
};

// Pictures per second of an ffmpeg rate.
double fps_of(const std::string& fps) { return fps == "30000/1001" ? 30000.0 / 1001.0 : std::stod(fps); }

// Whether picture n shows the lit state: the same expression as the clip's.
bool lit_at(const Flashing& f, int n) {
  if (n < f.first || n >= f.last) return false;
  return static_cast<long>(std::floor((n - f.first) / fps_of(f.fps) * 2 * f.rate_hz + 1e-6)) % 2 == 0;
}

// Time of the stripe's last change of state inside the flashing.
double last_change_s(const Flashing& f) {
  int last = f.first;
  for (int n = f.first + 1; n <= f.last; ++n)
    if (lit_at(f, n) != lit_at(f, n - 1)) last = n;
  return last / fps_of(f.fps);
}

// Times as ffmpeg's expressions see them: the picture's time, with a margin
// of a millisecond so that rounding never moves a boundary.
std::string time_s(double t) { return std::to_string(t); }

fs::path make_clip(const std::string& name, const Flashing& f, const std::string& codec = "libx264") {
  const fs::path clip = scratch_dir("flash_" + name) / (codec == "libx264" ? "clip.mp4" : "clip.mpg");
  const double fps = fps_of(f.fps), t0 = f.first / fps, t1 = f.last / fps, t_unlit = (f.last + 24) / fps;
  const std::string on = "between(t," + time_s(t0 - 0.001) + "," + time_s(t1 - 0.001) + ")*eq(mod(floor((t-" +
                         time_s(t0) + ")*" + std::to_string(2 * f.rate_hz) + "+1e-6),2),0)";
  const std::string w = std::to_string(static_cast<int>(std::lround(f.area_fraction * 800)));
  const std::string graph = "fps=" + f.fps + ",scale=800:448,setsar=1,"
                            "drawbox=x=0:y=0:w=" + w + ":h=ih:t=fill:color=" + f.unlit + ":enable='between(t," +
                            time_s(t0 - 0.001) + "," + time_s(t_unlit) + ")',"
                            "drawbox=x=0:y=0:w=" + w + ":h=ih:t=fill:color=" + f.lit + ":enable='" + on + "'";
  std::vector<std::string> args = {"-i", kFilm, "-t", "10", "-an", "-vf", graph, "-c:v", codec};
  if (codec == "libx264") args.insert(args.end(), {"-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"});
  else args.insert(args.end(), {"-q:v", "3", "-g", "12"});
  args.push_back(clip.string());
  ffmpeg(args);
  return clip;
}

struct Result {
  std::vector<Interval> flashes;
  std::vector<nlohmann::json> events;
};

Result analyse(const fs::path& clip) {
  const fs::path events = clip.string() + ".jsonl";
  auto r = run_avmon(clip.string(), events);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  Result res;
  res.events = read_events(events);
  res.flashes = defects(res.events, "flash");
  return res;
}

// With each start event (the evidence): more than support's describe().
std::string describe_flashes(const std::vector<Interval>& v) {
  std::string s;
  for (const auto& i : v) s += "[" + std::to_string(i.start_s) + ", " + std::to_string(i.end_s) + "] " + i.start_event.dump() + " ";
  return s.empty() ? "none" : s;
}

// The evidence as the defect's end reports it (the whole episode's worst second).
nlohmann::json end_details(const Result& r, const Interval& i) {
  for (const auto& e : r.events)
    if (e.value("kind", "") == "defect.end" && e.value("id", "") == i.start_event.value("id", "x")) return e["details"];
  return nlohmann::json::object();
}

void expect_flashing(const Flashing& f, const Result& r, double flashes) {
  ASSERT_EQ(r.flashes.size(), 1u) << describe_flashes(r.flashes);
  EXPECT_NEAR(r.flashes[0].start_s, f.first / fps_of(f.fps), kTol) << describe_flashes(r.flashes);
  EXPECT_NEAR(r.flashes[0].end_s, last_change_s(f), kTol) << describe_flashes(r.flashes);
  EXPECT_DOUBLE_EQ(end_details(r, r.flashes[0]).value("flashes", -1.0), flashes) << describe_flashes(r.flashes);
}

bool have_film() { return fs::exists(kFilm); }

TEST(FlashEndToEnd, FourHertzOver26PercentOfFilmIsADefect) {
  if (!have_film()) GTEST_SKIP() << "opencv-doc footage not installed";
  const Flashing f{4, 0.26};
  const Result r = analyse(make_clip("4hz_26", f));
  expect_flashing(f, r, 4);
}

TEST(FlashEndToEnd, FourHertzOver24PercentIsNot) {
  if (!have_film()) GTEST_SKIP() << "opencv-doc footage not installed";
  const Result r = analyse(make_clip("4hz_24", {4, 0.24}));
  EXPECT_TRUE(r.flashes.empty()) << describe_flashes(r.flashes);
}

TEST(FlashEndToEnd, ThreeHertzFullScreenIsNotButThreeAndAHalfIs) {
  if (!have_film()) GTEST_SKIP() << "opencv-doc footage not installed";
  const Result three = analyse(make_clip("3hz_full", {3, 1.0}));
  EXPECT_TRUE(three.flashes.empty()) << describe_flashes(three.flashes);
  const Flashing f{3.5, 1.0};
  expect_flashing(f, analyse(make_clip("3_5hz_full", f)), 3.5);
}

// NTSC rate in MPEG-2: 3 Hz sampled at 29.97 now and then shows 7
// transitions within 29 pictures; still 3 flashes a second.
TEST(FlashEndToEnd, NtscRateInMpeg2KeepsTheBoundary) {
  if (!have_film()) GTEST_SKIP() << "opencv-doc footage not installed";
  Flashing three{3, 1.0};
  three.fps = "30000/1001";
  three.first = 90, three.last = 210;
  EXPECT_TRUE(analyse(make_clip("3hz_ntsc", three, "mpeg2video")).flashes.empty());
  Flashing five = three;
  five.rate_hz = 5;
  expect_flashing(five, analyse(make_clip("5hz_ntsc", five, "mpeg2video")), 5);
}

// Red and blue at 50 pictures a second: red flashes (their luma-derived
// luminance differs by ~10 cd/m², not a general flash).
TEST(FlashEndToEnd, RedBlueAt50FpsIsARedFlashDefect) {
  if (!have_film()) GTEST_SKIP() << "opencv-doc footage not installed";
  Flashing f{4, 0.5, "red", "blue"};
  f.fps = "50";
  f.first = 150, f.last = 300;
  const Result r = analyse(make_clip("red_50", f));
  expect_flashing(f, r, 4);
  ASSERT_EQ(r.flashes.size(), 1u);
  EXPECT_DOUBLE_EQ(end_details(r, r.flashes[0]).value("red_flashes", -1.0), 4.0);
}

// The film as it is, and with two single-picture camera flashes 0.48 s apart (4.00 and 4.48):
// two flashes, and the film's cuts and explosions, are not a defect.
TEST(FlashEndToEnd, FilmWithTwoCameraFlashesIsNotADefect) {
  if (!have_film()) GTEST_SKIP() << "opencv-doc footage not installed";
  const fs::path clip = scratch_dir("flash_camera") / "clip.mp4";
  ffmpeg({"-i", kFilm, "-t", "10", "-an", "-vf",
          "fps=25,scale=800:448,setsar=1,drawbox=x=0:y=0:w=iw:h=ih:t=fill:color=white:enable='between(t,3.99,4.01)+between(t,4.47,4.49)'",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", clip.string()});
  const Result r = analyse(clip);
  EXPECT_TRUE(r.flashes.empty()) << describe_flashes(r.flashes);
}

}  // namespace
}  // namespace avmon::test
