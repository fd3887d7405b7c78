// The detector registry: built-in registrations, duplicates, and plugins
// loaded from a shared object after the ABI check.
#include <gtest/gtest.h>

#include "avmon/plugin.hpp"
#include "config/config.hpp"
#include "pipeline/frames.hpp"
#include "pipeline/registry.hpp"
#include "support/media.hpp"
#include "support/run.hpp"

#include <fstream>

namespace avmon {
namespace {

class Nothing final : public Detector {};

DetectorInfo info(const std::string& name) {
  DetectorInfo d;
  d.name = name;
  d.summary = "test";
  d.media = kAudio;
  d.types = {name};
  d.create = [](const Options&) { return std::make_unique<Nothing>(); };
  return d;
}

TEST(Registry, BuiltinHasTheCoreDetectors) {
  DetectorRegistry r = DetectorRegistry::builtin();
  for (const char* name : {"black", "freeze", "silence"}) {
    const DetectorInfo* d = r.find(name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(r.origin(name), "built-in");
    // Every detector gets the engine's common options with its own defaults.
    for (const char* common : {"enabled", "min_duration_s", "hold_off_s", "severity"})
      EXPECT_TRUE(std::any_of(d->options.begin(), d->options.end(),
                              [&](const OptionSpec& o) { return o.name == common; }))
          << name << "." << common;
  }
}

TEST(Registry, DuplicateNameIsRefused) {
  DetectorRegistry r;
  r.add(info("hum"), "first");
  try {
    r.add(info("hum"), "second");
    FAIL() << "duplicate accepted";
  } catch (const RegistryError& e) {
    EXPECT_STREQ(e.what(), "second: detector 'hum' is already registered by first");
  }
}

TEST(Registry, IncompleteDescriptionsAreRefused) {
  DetectorRegistry r;
  DetectorInfo d = info("x");
  d.create = nullptr;
  EXPECT_THROW(r.add(d, "t"), RegistryError);
  d = info("y");
  d.media = 0;
  EXPECT_THROW(r.add(d, "t"), RegistryError);
  d = info("z");
  d.options.push_back({"enabled", OptionType::Bool, true, {}, {}, "", "", {}});
  EXPECT_THROW(r.add(d, "t"), RegistryError);
}

TEST(Registry, PluginIsLoadedAndItsDetectorRuns) {
  DetectorRegistry r;
  r.load_plugin(AVMON_TEST_PLUGIN_PATH);
  const DetectorInfo* d = r.find("overexposed");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(r.origin("overexposed"), std::string("plugin ") + AVMON_TEST_PLUGIN_PATH);
  auto det = d->create(default_options(d->options));
  test::CollectingSink sink;
  det->on_video(*test::make_video_frame(cv::Mat(64, 64, CV_8UC1, cv::Scalar(240)), 1.0), sink);
  det->on_video(*test::make_video_frame(cv::Mat(64, 64, CV_8UC1, cv::Scalar(100)), 1.04), sink);
  ASSERT_EQ(sink.seen.size(), 2u);
  EXPECT_TRUE(sink.seen[0].active);
  EXPECT_FALSE(sink.seen[1].active);
}

TEST(Registry, PluginOptionsAreValidatedLikeBuiltinOnes) {
  auto dir = test::scratch_dir("plugin-config");
  auto path = (dir / "p.yaml").string();
  std::ofstream(path) << "plugins: [" << AVMON_TEST_PLUGIN_PATH << "]\n"
                      << "detectors:\n  overexposed:\n    white_fraction: 2\n";
  DetectorRegistry r;
  try {
    load_config(path, r, nullptr);
    FAIL() << "out-of-range plugin option accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":4:5: detectors.overexposed.white_fraction: value 2 out of range"),
              std::string::npos)
        << e.what();
  }
}

TEST(Registry, RelativePluginPathsAreFoundBesideTheConfiguration) {
  auto dir = test::scratch_dir("plugin-relative");
  std::filesystem::create_directories(dir / "conf" / "plugins");
  std::filesystem::copy_file(AVMON_TEST_PLUGIN_PATH, dir / "conf" / "plugins" / "libexample.so");
  std::ofstream(dir / "conf" / "p.yaml") << "plugins: [plugins/libexample.so]\n";
  // Not the working directory: the tests run elsewhere.
  ASSERT_NE(std::filesystem::current_path(), dir / "conf");
  DetectorRegistry r;
  Config c = load_config((dir / "conf" / "p.yaml").string(), r, nullptr);
  ASSERT_EQ(c.plugins.size(), 1u);
  EXPECT_EQ(c.plugins[0], (dir / "conf" / "plugins" / "libexample.so").string());
  EXPECT_NE(r.find("overexposed"), nullptr);

  std::ofstream(dir / "conf" / "missing.yaml") << "plugins: [../nothere/libx.so]\n";
  DetectorRegistry r2;
  try {
    load_config((dir / "conf" / "missing.yaml").string(), r2, nullptr);
    FAIL() << "a missing plugin was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load plugin " + (dir / "nothere" / "libx.so").string()),
              std::string::npos)
        << e.what();
  }
}

TEST(Registry, LoadingTheSamePluginTwiceIsADuplicate) {
  DetectorRegistry r;
  r.load_plugin(AVMON_TEST_PLUGIN_PATH);
  EXPECT_THROW(r.load_plugin(AVMON_TEST_PLUGIN_PATH), RegistryError);
}

TEST(Registry, MissingOrForeignSharedObjectsAreRefusedWithAReason) {
  DetectorRegistry r;
  try {
    r.load_plugin("/nonexistent/libx.so");
    FAIL();
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load plugin /nonexistent/libx.so"), std::string::npos);
  }
  try {
    r.load_plugin("libz.so.1");  // a real shared object, not an avmon plugin
    FAIL();
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("not an avmon plugin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace avmon

namespace avmon {
namespace {

void expect_refused(const char* path, unsigned abi) {
  DetectorRegistry r;
  try {
    r.load_plugin(path);
    ADD_FAILURE() << "ABI " << abi << " accepted";
  } catch (const RegistryError& e) {
    std::string want = "was built for avmon plugin ABI " + std::to_string(abi) + ", this avmon has ABI " +
                       std::to_string(AVMON_ABI_VERSION) + "; rebuild the plugin";
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
  }
  EXPECT_TRUE(r.all().empty());
}

TEST(Registry, PluginBuiltForAnotherAbiIsRefusedBeforeItIsCalled) {
  expect_refused(AVMON_TEST_WRONG_ABI_PLUGIN_PATH, AVMON_ABI_VERSION + 1);
  // ABI 3 plugins hand over a DetectorInfo without `pictures`: reading one
  // as today's would misread every field after it.
  static_assert(AVMON_ABI_VERSION > 3u, "DetectorInfo::pictures changed the layout after ABI 3");
  expect_refused(AVMON_TEST_OLD_ABI_PLUGIN_PATH, 3u);
}

TEST(Registry, VideoDetectorsDeclareThePicturesTheyNeed) {
  DetectorRegistry r = DetectorRegistry::builtin();
  // Picture-state checks work on reference pictures; frame-to-frame
  // comparisons, per-picture side data and decoder errors need every picture.
  const std::pair<const char*, PictureNeed> want[] = {
      {"black", PictureNeed::Reference},  {"test_pattern", PictureNeed::Reference},
      {"format", PictureNeed::Reference}, {"freeze", PictureNeed::All},
      {"corruption", PictureNeed::All},   {"captions", PictureNeed::All},
      {"av_sync", PictureNeed::All},      {"slate", PictureNeed::Reference}};
  for (const auto& [name, need] : want) {
    const DetectorInfo* d = r.find(name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ(picture_need_name(d->pictures), std::string(picture_need_name(need))) << name;
  }
  // `avmon detectors` says it for every video detector.
  const std::string help = describe_detectors(r);
  EXPECT_NE(help.find("reports: black; suppresses: freeze, slate; pictures: reference"), std::string::npos) << help;
  EXPECT_NE(help.find("reports: freeze; pictures: all"), std::string::npos) << help;
}

}  // namespace
}  // namespace avmon
