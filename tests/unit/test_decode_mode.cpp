// decode.mode in the configuration, and which enabled video detectors a mode
// starves (gives fewer pictures than they declare they need).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "pipeline/registry.hpp"

namespace avmon {
namespace {

Config with_env(std::vector<std::string> vars, DetectorRegistry& r) {
  std::vector<char*> env;
  for (auto& v : vars) env.push_back(v.data());
  env.push_back(nullptr);
  return load_config("", r, env.data());
}

std::vector<std::string> starved_names(const Config& c) {
  std::vector<std::string> names;
  for (const auto& s : starved_detectors(c.input.decode.mode, c.detectors)) names.push_back(s.name);
  return names;
}

TEST(DecodeMode, EachModeStarvesTheDetectorsThatNeedMorePictures) {
  DetectorRegistry r = DetectorRegistry::builtin();
  Config full = with_env({}, r);
  EXPECT_EQ(full.input.decode.mode, DecodeMode::Full);
  EXPECT_TRUE(starved_names(full).empty());

  Config economy = with_env({"AVMON_DECODE__MODE=economy"}, r);
  EXPECT_EQ(economy.input.decode.mode, DecodeMode::Economy);
  EXPECT_EQ(starved_names(economy), (std::vector<std::string>{"av_sync", "captions", "corruption", "flash", "freeze"}));
  // A disabled detector is not starved.
  Config no_freeze = with_env({"AVMON_DECODE__MODE=economy", "AVMON_DETECTORS__FREEZE__ENABLED=false"}, r);
  EXPECT_EQ(starved_names(no_freeze), (std::vector<std::string>{"av_sync", "captions", "corruption", "flash"}));

  // Adaptive delivers keyframes while all is well: every video detector
  // that needs more is named.
  Config adaptive = with_env({"AVMON_DECODE__MODE=adaptive", "AVMON_DECODE__QUIET_S=4"}, r);
  EXPECT_EQ(adaptive.input.decode.quiet_s, 4.0);
  EXPECT_EQ(starved_names(adaptive), (std::vector<std::string>{"av_sync", "black", "captions", "corruption", "flash",
                                                                "format", "freeze", "test_pattern"}));
}

TEST(DecodeMode, AnUnknownModeIsAConfigurationError) {
  DetectorRegistry r = DetectorRegistry::builtin();
  try {
    with_env({"AVMON_DECODE__MODE=cheap"}, r);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("AVMON_DECODE__MODE"), std::string::npos) << what;
    EXPECT_NE(what.find("full, economy, adaptive"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace avmon
