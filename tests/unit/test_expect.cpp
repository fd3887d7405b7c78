// The expect: comparisons: unset keys are not checked, levels and aspect
// ratios compare as numbers, "interlaced" accepts either field order, every
// expected language must be present, a missing property is "none".
#include <gtest/gtest.h>

#include "ancillary/expect.hpp"

namespace avmon {
namespace {

using expect::mismatch;

TEST(Expect, UnsetKeysAreNotChecked) {
  EXPECT_EQ(mismatch("width", std::int64_t{0}, 1920), std::nullopt);
  EXPECT_EQ(mismatch("scan", std::string(), "tff"), std::nullopt);
  EXPECT_EQ(mismatch("afd", std::int64_t{-1}, nullptr), std::nullopt);
  EXPECT_EQ(mismatch("audio_languages", std::vector<std::string>{}, nlohmann::json::array()), std::nullopt);
}

TEST(Expect, NumbersStringsAndTolerances) {
  EXPECT_EQ(mismatch("width", std::int64_t{1920}, 1920), std::nullopt);
  EXPECT_EQ(mismatch("width", std::int64_t{1920}, 1280), "1280");
  EXPECT_EQ(mismatch("frame_rate", 29.97, 29.97003), std::nullopt);
  EXPECT_EQ(mismatch("frame_rate", 25.0, 50.0), "50");
  EXPECT_EQ(mismatch("video_codec", std::string("H264"), "h264"), std::nullopt);  // case does not matter
  EXPECT_EQ(mismatch("level", std::string("4"), "4.0"), std::nullopt);
  EXPECT_EQ(mismatch("level", std::string("4.1"), "4.0"), "4.0");
  EXPECT_EQ(mismatch("level", std::string("Main"), "High"), "High");
  EXPECT_EQ(mismatch("display_aspect_ratio", std::string("16:9"), "16:9"), std::nullopt);
  EXPECT_EQ(mismatch("display_aspect_ratio", std::string("16:9"), "4:3"), "4:3");
  EXPECT_EQ(mismatch("scan", std::string("interlaced"), "bff"), std::nullopt);
  EXPECT_EQ(mismatch("scan", std::string("tff"), "bff"), "bff");
  EXPECT_EQ(mismatch("scan", std::string("interlaced"), "progressive"), "progressive");
}

TEST(Expect, AbsentPropertiesAreNone) {
  EXPECT_EQ(mismatch("afd", std::int64_t{10}, nullptr), "none");
  EXPECT_EQ(mismatch("audio_codec", std::string("aac"), nullptr), "none");
}

TEST(Expect, EveryExpectedLanguageMustBePresent) {
  nlohmann::json found = {"eng", "fra", "und"};
  EXPECT_EQ(mismatch("audio_languages", std::vector<std::string>{"fra", "eng"}, found), std::nullopt);
  EXPECT_EQ(mismatch("audio_languages", std::vector<std::string>{"deu"}, found), "eng,fra,und");
}

TEST(Expect, AspectRatioNames) {
  EXPECT_EQ(expect::aspect_ratio_name(1920, 1080), "16:9");
  EXPECT_EQ(expect::aspect_ratio_name(720 * 64, 576 * 45), "16:9");  // PAL widescreen
  EXPECT_EQ(expect::aspect_ratio_name(720 * 16, 576 * 15), "4:3");
  EXPECT_EQ(expect::aspect_ratio_name(1998, 1080), "1.85:1");
  EXPECT_EQ(expect::aspect_ratio_name(1000, 313), "1000:313");
}

TEST(Expect, YamlFromFoundValues) {
  nlohmann::json found = {{"width", 1280},         {"frame_rate", 29.97},        {"scan", "tff"},
                          {"afd", nullptr},        {"audio_languages", {"eng"}}, {"channels", 2},
                          {"color_range", "tv"}};
  EXPECT_EQ(expect::expect_yaml(found),
            "expect:\n  width: 1280\n  frame_rate: 29.97\n  scan: \"tff\"\n  color_range: \"tv\"\n"
            "  audio_languages: [eng]\n");
}

}  // namespace
}  // namespace avmon
