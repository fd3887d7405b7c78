// Flash detector on synthetic pictures through the real frame bus: the
// boundaries of the rule (3 flashes a second is allowed, 3.5 is not; 24 % of
// the screen is not enough, 26 % is) at 25, 29.97 and 50 pictures a second,
// black/white and red/blue, and the states that are not flashes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include <opencv2/imgproc.hpp>

#include "avmon/registry.hpp"
#include "flash/flash.hpp"
#include "support/media.hpp"

namespace avmon::video {
DetectorInfo describe_flash();
}

namespace {

using avmon::Observation;
using avmon::Options;
using avmon::test::CollectingSink;
using avmon::test::make_video_frame;
using avmon::video::describe_flash;

// Analysed at full size (width <= 480): 50 x 28 cells of 8 x 8 pixels, so the
// stripes below cover whole cells: 10 % = 5 columns, 24 % = 12, 26 % = 13.
constexpr int kW = 400, kH = 224;
constexpr double kOnset_s = 1.0, kStop_s = 5.0, kLength_s = 7.0;

std::unique_ptr<avmon::Detector> make(const std::function<void(Options&)>& tweak = {}) {
  auto info = describe_flash();
  Options o = avmon::default_options(info.options);
  if (tweak) tweak(o);
  return info.create(o);
}

struct Alternation {
  double rate_hz;        // full cycles (flashes) per second
  double area_fraction;  // a full-height stripe on the left, the rest black
  bool red_blue;         // red/blue rather than white/black
  double fps;
};

std::string name_of(const Alternation& a) {
  return std::to_string(a.rate_hz) + " Hz, " + std::to_string(a.area_fraction) + " of the screen, " +
         (a.red_blue ? "red/blue" : "white/black") + ", " + std::to_string(a.fps) + " fps";
}

// Picture n's time: 29.97 as NTSC's 30000/1001.
double time_of(int n, double fps) {
  return std::abs(fps - 29.97) < 0.01 ? n * 1001.0 / 30000.0 : n / fps;
}

// On from kOnset_s, each state lasting half a cycle, off again from kStop_s.
bool on_at(const Alternation& a, double t) {
  if (t < kOnset_s - 1e-9 || t >= kStop_s - 1e-9) return false;
  return static_cast<long>(std::floor((t - kOnset_s) * 2 * a.rate_hz + 1e-9)) % 2 == 0;
}

struct Outcome {
  CollectingSink sink;
  double first_change_s = -1;  // picture of the stripe's first change of state
  double last_change_s = -1;   // ... and of its last
};

void play(avmon::Detector& d, const cv::Mat& on, const cv::Mat& off, const Alternation& a, Outcome& r,
          double length_s = kLength_s) {
  bool prev = false;
  for (int n = 0;; ++n) {
    const double t = time_of(n, a.fps);
    if (t >= length_s) break;
    const bool state = on_at(a, t);
    if (state != prev) {
      if (r.first_change_s < 0) r.first_change_s = t;
      r.last_change_s = t;
    }
    prev = state;
    d.on_video(*make_video_frame(state ? on : off, t, static_cast<std::uint64_t>(n), 1.0 / a.fps), r.sink);
  }
  d.finish(length_s, r.sink);
}

Outcome run(const Alternation& a) {
  const cv::Scalar lit = a.red_blue ? cv::Scalar(0, 0, 255) : cv::Scalar(255, 255, 255);
  const cv::Scalar unlit = a.red_blue ? cv::Scalar(255, 0, 0) : cv::Scalar(0, 0, 0);
  cv::Mat on(kH, kW, CV_8UC3, cv::Scalar(0, 0, 0)), off = on.clone();
  const int w = static_cast<int>(std::lround(a.area_fraction * kW));
  on(cv::Rect(0, 0, w, kH)).setTo(lit);
  off(cv::Rect(0, 0, w, kH)).setTo(unlit);
  auto d = make();
  d->configure({});
  Outcome r;
  play(*d, on, off, a, r);
  return r;
}

const Observation* first_active(const CollectingSink& s) {
  for (const auto& o : s.seen)
    if (o.active) return &o;
  return nullptr;
}

const Observation* last_active(const CollectingSink& s) {
  for (auto it = s.seen.rbegin(); it != s.seen.rend(); ++it)
    if (it->active) return &*it;
  return nullptr;
}

// The episode's end: the inactive observation that follows the active ones.
const Observation* closing(const CollectingSink& s) {
  bool was = false;
  for (const auto& o : s.seen) {
    if (was && !o.active) return &o;
    was = o.active;
  }
  return nullptr;
}

class Boundaries : public ::testing::TestWithParam<Alternation> {};

TEST_P(Boundaries, FireExactlyAboveThreeFlashesASecondOverAQuarterOfTheScreen) {
  const Alternation a = GetParam();
  const Outcome r = run(a);
  const bool expected = a.rate_hz > 3.0 && a.area_fraction > 0.25;
  const Observation* first = first_active(r.sink);
  ASSERT_EQ(first != nullptr, expected) << name_of(a);
  if (!expected) return;
  // Dated to the first transition, ended at the last.
  ASSERT_TRUE(first->since_s.has_value());
  EXPECT_NEAR(*first->since_s, r.first_change_s, 1e-9) << name_of(a);
  EXPECT_NEAR(r.first_change_s, kOnset_s, 1.0 / a.fps) << name_of(a);
  const Observation* end = closing(r.sink);
  ASSERT_NE(end, nullptr) << name_of(a);
  EXPECT_NEAR(end->since_s.value_or(-1), r.last_change_s, 1e-9) << name_of(a);
  const auto& details = last_active(r.sink)->details;
  // Flashes in the worst second are the alternation's rate exactly.
  EXPECT_DOUBLE_EQ(details.at("flashes").get<double>(), a.rate_hz) << name_of(a) << details.dump();
  if (a.red_blue) {
    EXPECT_DOUBLE_EQ(details.at("red_flashes").get<double>(), a.rate_hz) << details.dump();
    // Red and blue differ by ~10 cd/m² of luma-derived luminance: red flashes only.
    EXPECT_DOUBLE_EQ(details.at("general_flashes").get<double>(), 0.0) << details.dump();
  } else {
    EXPECT_DOUBLE_EQ(details.at("red_flashes").get<double>(), 0.0) << details.dump();
    EXPECT_NEAR(details.at("peak_change_cd_m2").get<double>(), 200.0, 0.5) << details.dump();
  }
  EXPECT_NEAR(details.at("area_fraction").get<double>(), a.area_fraction, 0.001) << details.dump();
}

std::vector<Alternation> boundary_cases() {
  std::vector<Alternation> v;
  for (double fps : {25.0, 29.97, 50.0})
    for (bool red : {false, true})
      for (double rate : {2.0, 3.0, 3.5, 4.0, 5.0})
        for (double area : {0.10, 0.24, 0.26, 1.0}) v.push_back({rate, area, red, fps});
  return v;
}

INSTANTIATE_TEST_SUITE_P(FlashDetector, Boundaries, ::testing::ValuesIn(boundary_cases()));

// A grey at this display luminance (SDR, 200 cd/m² white, limited range).
cv::Mat grey_of(double cd_m2) {
  const double code = 16.0 + 219.0 * std::pow(cd_m2 / 200.0, 1.0 / 2.4);
  return cv::Mat(kH, kW, CV_8UC1, cv::Scalar(std::round(code)));
}

bool fires_between(double a_cd_m2, double b_cd_m2, double rate_hz = 5.0) {
  auto d = make();
  d->configure({});
  Outcome r;
  play(*d, grey_of(a_cd_m2), grey_of(b_cd_m2), {rate_hz, 1.0, false, 25.0}, r);
  return first_active(r.sink) != nullptr;
}

TEST(FlashDetector, ChangesUnder20CdM2AreNotTransitions) {
  EXPECT_FALSE(fires_between(30, 15));   // 15 cd/m² apart
  EXPECT_TRUE(fires_between(40, 15));    // 25 apart
}

TEST(FlashDetector, BothStatesAbove160CdM2AreNotAFlash) {
  EXPECT_FALSE(fires_between(200, 172));  // the darker state is 172
  EXPECT_TRUE(fires_between(200, 140));
}

// Camera flashes in a scene: one or two single bright pictures are one or two
// flashes, never more than three a second.
TEST(FlashDetector, TwoCameraFlashesAreNotADefect) {
  cv::Mat scene(kH, kW, CV_8UC3);
  cv::randu(scene, 30, 140);
  cv::GaussianBlur(scene, scene, cv::Size(0, 0), 6.0);
  cv::Mat flash = scene.clone();
  flash.setTo(cv::Scalar(255, 255, 255));
  auto d = make();
  d->configure({});
  CollectingSink sink;
  for (int n = 0; n < 100; ++n) {
    const bool lit = n == 30 || n == 36;  // two flashes 0.24 s apart
    d->on_video(*make_video_frame(lit ? flash : scene, n * 0.04, static_cast<std::uint64_t>(n)), sink);
  }
  EXPECT_EQ(first_active(sink), nullptr);
}

// Four single-picture flashes within a second are a defect (8 transitions).
TEST(FlashDetector, FourStrobesInASecondAreADefect) {
  cv::Mat dark(kH, kW, CV_8UC1, cv::Scalar(30)), lit(kH, kW, CV_8UC1, cv::Scalar(235));
  auto d = make();
  d->configure({});
  CollectingSink sink;
  for (int n = 0; n < 75; ++n) {
    const bool on = n == 25 || n == 31 || n == 37 || n == 43;
    d->on_video(*make_video_frame(on ? lit : dark, n * 0.04, static_cast<std::uint64_t>(n)), sink);
  }
  const Observation* first = first_active(sink);
  ASSERT_NE(first, nullptr);
  EXPECT_NEAR(first->since_s.value_or(-1), 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(last_active(sink)->details.at("flashes").get<double>(), 4.0);
}

// A change spread over several pictures (a fast fade) is one transition.
TEST(FlashDetector, FadesOverSeveralPicturesAreTransitions) {
  auto d = make();
  d->configure({});
  CollectingSink sink;
  // 5 Hz at 50 fps: 10 pictures a cycle, ramps of 3 pictures each way.
  const double levels[10] = {16, 90, 160, 235, 235, 235, 160, 90, 16, 16};
  for (int n = 0; n < 300; ++n) {
    const double level = n < 50 ? 16 : levels[n % 10];
    d->on_video(*make_video_frame(cv::Mat(kH, kW, CV_8UC1, cv::Scalar(level)), n / 50.0,
                                  static_cast<std::uint64_t>(n), 0.02),
                sink);
  }
  ASSERT_NE(first_active(sink), nullptr);
  EXPECT_DOUBLE_EQ(last_active(sink)->details.at("flashes").get<double>(), 5.0);
}

TEST(FlashDetector, RedFlashesCanBeLeftOut) {
  cv::Mat red(kH, kW, CV_8UC3, cv::Scalar(0, 0, 255)), blue(kH, kW, CV_8UC3, cv::Scalar(255, 0, 0));
  auto d = make([](Options& o) { o.set("red_flashes", false); });
  d->configure({});
  Outcome r;
  play(*d, red, blue, {5.0, 1.0, true, 25.0}, r);
  EXPECT_EQ(first_active(r.sink), nullptr);
}

TEST(FlashDetector, AreaFractionIsAnOption) {
  cv::Mat on(kH, kW, CV_8UC1, cv::Scalar(16)), off = on.clone();
  on(cv::Rect(0, 0, 40, kH)).setTo(235);  // 10 %
  auto d = make([](Options& o) { o.set("min_area_fraction", 0.1); });
  d->configure({});
  Outcome r;
  play(*d, on, off, {4.0, 0.1, false, 25.0}, r);
  EXPECT_NE(first_active(r.sink), nullptr);
}

TEST(FlashLuminance, TransfersGiveDisplayLight) {
  using avmon::video::display_cd_m2;
  using avmon::video::DisplayModel;
  using avmon::video::Transfer;
  DisplayModel sdr;
  EXPECT_NEAR(display_cd_m2(sdr, 1.0), 200.0, 1e-9);
  EXPECT_NEAR(display_cd_m2(sdr, 0.5), 200.0 * std::pow(0.5, 2.4), 1e-9);
  DisplayModel pq;
  pq.transfer = Transfer::Pq;
  EXPECT_NEAR(display_cd_m2(pq, 0.5081), 100.0, 0.5);  // BT.2100: PQ 100 cd/m² at 0.508
  EXPECT_NEAR(display_cd_m2(pq, 0.58), 203.0, 2.0);    // BT.2408 reference white at 58 %
  EXPECT_NEAR(display_cd_m2(pq, 1.0), 10000.0, 1e-6);
  DisplayModel hlg;
  hlg.transfer = Transfer::Hlg;
  EXPECT_NEAR(display_cd_m2(hlg, 0.75), 203.0, 3.0);   // BT.2408 reference white at 75 %
  EXPECT_NEAR(display_cd_m2(hlg, 1.0), 1000.0, 1e-3);  // the constants are rounded
  // The table is indexed in quarter codes: limited-range white 235 is index 940.
  const auto table = avmon::video::luminance_table(sdr);
  EXPECT_NEAR(table[940], 200.0, 1e-3);
  EXPECT_NEAR(table[64], 0.0, 1e-6);
}

TEST(FlashLuminance, SaturatedRedOnly) {
  using avmon::video::DisplayModel;
  DisplayModel m;
  m.kr = 0.299, m.kb = 0.114;
  const auto lin = avmon::video::linear_table(m);
  // BT.601 limited-range codes of full red, white, orange.
  EXPECT_NEAR(avmon::video::red_level(m, lin, 81.5f, 90.2f, 240.f), 320.f, 8.f);
  EXPECT_EQ(avmon::video::red_level(m, lin, 235.f, 128.f, 128.f), 0.f);
  EXPECT_EQ(avmon::video::red_level(m, lin, 164.7f, 42.2f, 179.3f), 0.f);  // orange: green is a fifth of red
}

}  // namespace
