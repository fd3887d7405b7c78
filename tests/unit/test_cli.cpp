// The command line's pieces that need no process: suggestions for typos,
// the progress line and blocks, numbers as people write them.
#include <gtest/gtest.h>

#include "app/cli.hpp"
#include "app/progress.hpp"
#include "notify/notifier.hpp"
#include "util/numbers.hpp"

namespace avmon {
namespace {

TEST(CliSuggest, NearestSubcommandForTyposSwapsAndPrefixes) {
  const auto& names = subcommand_names();
  EXPECT_EQ(nearest_word("rn", names), "run");
  EXPECT_EQ(nearest_word("dmeo", names), "demo");       // two letters swapped: one edit
  EXPECT_EQ(nearest_word("detector", names), "detectors");
  EXPECT_EQ(nearest_word("check", names), "check-config");  // a prefix
  EXPECT_EQ(nearest_word("helthcheck", names), "healthcheck");
  EXPECT_EQ(nearest_word("analyse", names), std::nullopt);  // nothing close: no guess
  EXPECT_EQ(nearest_word("x", names), std::nullopt);
}

TEST(CliSuggest, ParseRefusesAMistypedSubcommandWithStatusTwo) {
  const char* argv[] = {"avmon", "--log-level", "debug", "rnu", "clip.mp4"};
  testing::internal::CaptureStderr();
  auto parsed = parse_command_line(5, argv);
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(std::holds_alternative<int>(parsed));
  EXPECT_EQ(std::get<int>(parsed), 2);
  EXPECT_NE(err.find("avmon: 'rnu' is not an avmon command; did you mean 'run'?"), std::string::npos) << err;
}

TEST(CliSuggest, RunTakesTheInputAsItsArgument) {
  const char* argv[] = {"avmon", "run", "clip.mp4", "--quiet", "--progress", "p.txt"};
  auto parsed = parse_command_line(6, argv);
  ASSERT_TRUE(std::holds_alternative<Invocation>(parsed));
  const auto& inv = std::get<Invocation>(parsed);
  EXPECT_EQ(inv.command, Command::Run);
  EXPECT_EQ(inv.input, "clip.mp4");
  EXPECT_TRUE(inv.quiet);
  EXPECT_EQ(inv.progress, "p.txt");
}

TEST(Numbers, AsPeopleWriteThem) {
  EXPECT_EQ(human_number(10.0), "10");
  EXPECT_EQ(human_number(0.5), "0.5");
  EXPECT_EQ(human_number(12.3456), "12.346");
  EXPECT_EQ(human_number(0.1 + 0.2), "0.3");
  EXPECT_EQ(human_number(-1.0), "-1");
  EXPECT_EQ(human_number(-0.0001), "0");
  EXPECT_EQ(human_number(2.25, 1), "2.2");  // round half to even, as printf does
  EXPECT_EQ(human_number(3600.0, 0), "3600");
  EXPECT_EQ(human_number(1e300), "1e+300");
  EXPECT_EQ(human_number(std::numeric_limits<double>::infinity()), "inf");
}

TEST(Numbers, ConsoleLinesSayAfter4SecondsNot4Point00) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto console = make_console_notifier(f, false);
  console->deliver({{"kind", "defect.end"}, {"type", "black"}, {"media_time", 14.0}, {"details", {{"duration_s", 4.0}}}});
  console->deliver({{"kind", "defect.end"}, {"type", "freeze"}, {"media_time", 75.5}, {"details", {{"duration_s", 2.125}}}});
  std::rewind(f);
  char buf[256] = {};
  std::string text(buf, std::fread(buf, 1, sizeof buf - 1, f));
  std::fclose(f);
  EXPECT_EQ(text, "00:14.00  END   black            after 4 s\n01:15.50  END   freeze           after 2.12 s\n");
}

TEST(Progress, ClockIsHoursMinutesSecondsCentiseconds) {
  EXPECT_EQ(progress_clock(0), "00:00:00.00");
  EXPECT_EQ(progress_clock(12.346), "00:00:12.35");
  EXPECT_EQ(progress_clock(3725.5), "01:02:05.50");
  EXPECT_EQ(progress_clock(-3), "00:00:00.00");
}

TEST(Progress, LineShowsTimeDurationShareSpeedAndDefects) {
  ProgressSample s;
  s.media_time_s = 12.32;
  s.defects = 2;
  s.active_defects = 1;
  EXPECT_EQ(progress_line(s, 60, 8.123), "time=00:00:12.32 / 00:01:00.00  20%  speed=8.12x  defects=2 (1 active)");
  s.active_defects = 0;
  // A live input: no duration, no share; speed not known yet.
  EXPECT_EQ(progress_line(s, 0, -1), "time=00:00:12.32  speed=N/A  defects=2");
  EXPECT_EQ(progress_line(s, 60, 31.25), "time=00:00:12.32 / 00:01:00.00  20%  speed=31.2x  defects=2");
}

TEST(Progress, BlockIsKeyValueLinesEndingWithProgress) {
  ProgressSample s;
  s.media_time_s = 61.5;
  s.video_frames = 1537;
  s.audio_blocks = 2883;
  s.defects = 3;
  EXPECT_EQ(progress_block(s, 90, 10.5, false),
            "media_time_s=61.5\nmedia_time=00:01:01.500\nduration_s=90\nvideo_frames=1537\naudio_blocks=2883\n"
            "defects=3\nactive_defects=0\nspeed=10.5x\nprogress=continue\n");
  std::string end = progress_block(s, 0, -1, true);
  EXPECT_NE(end.find("duration_s=N/A\n"), std::string::npos);
  EXPECT_NE(end.find("speed=N/A\n"), std::string::npos);
  EXPECT_TRUE(end.ends_with("progress=end\n"));
}

}  // namespace
}  // namespace avmon
