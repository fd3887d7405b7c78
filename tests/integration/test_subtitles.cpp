// Subtitle PIDs through the whole binary: TSDuck's test-012 (a service
// reduced to its teletext PID 0x042C) gives the 9 subtitles of TSDuck's
// teletext extraction (test-012.srt), and a configured PID that goes
// silent is caption_loss from its last PES to the next.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "support/run.hpp"
#include "support/ts_sections.hpp"

namespace avmon {
namespace {

constexpr int kTeletext = 0x042C;

std::string data_dir() { return std::string(AVMON_SOURCE_DIR) + "/tests/data/tsduck/"; }

using test::read_srt;

std::vector<nlohmann::json> run(const std::string& input, const std::string& name, const std::string& config,
                                test::RunResult* result = nullptr) {
  const auto dir = test::scratch_dir("subtitles-" + name);
  std::ofstream(dir / "avmon.yaml") << config;
  auto r = test::run_avmon(input, dir / "events.jsonl", {"--config", (dir / "avmon.yaml").string()});
  if (result) *result = r;
  else EXPECT_EQ(r.exit_status, 0) << r.err;
  return std::filesystem::exists(dir / "events.jsonl") ? test::read_events(dir / "events.jsonl")
                                                       : std::vector<nlohmann::json>{};
}

std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& events, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e["kind"] == kind) out.push_back(e);
  return out;
}

nlohmann::json pid_summary(const std::vector<nlohmann::json>& events, int pid) {
  auto s = of_kind(events, "stream.summary");
  if (s.empty()) return nullptr;
  for (const auto& p : s.back()["subtitles"]["pids"])
    if (p["pid"] == pid) return p;
  return nullptr;
}

TEST(SubtitlesEndToEnd, Test012GivesTheNineSubtitlesOfTsducksReference) {
  auto reference = read_srt(data_dir() + "test-012.srt");
  ASSERT_EQ(reference.size(), 9u);
  auto events = run(data_dir() + "test-012.ts", "012", "subtitles:\n  cue_events: true\n");
  auto cues = of_kind(events, "subtitles.cue");
  ASSERT_EQ(cues.size(), reference.size());
  for (std::size_t i = 0; i < cues.size(); ++i) {
    const auto& d = cues[i]["details"];
    EXPECT_EQ(d["pid"], kTeletext);
    EXPECT_EQ(d["page"], 889);
    EXPECT_EQ(d["rows"].get<std::vector<std::string>>(), reference[i].lines) << "subtitle " << i + 1;
    // Start times relative to the first, to the millisecond (TSDuck counts
    // from another origin in this file, which has no PCR).
    const double start = d["show_media_time"].get<double>() - cues[0]["details"]["show_media_time"].get<double>();
    EXPECT_NEAR(start, reference[i].start_s - reference[0].start_s, 0.0015) << "subtitle " << i + 1;
    // TSDuck ends a subtitle one frame (40 ms) before the header that
    // erases it; the last lasts to the end of the file in both.
    const double tsduck = reference[i].end_s - reference[i].start_s;
    if (i + 1 < cues.size()) {
      EXPECT_NEAR(d["duration_s"].get<double>(), tsduck + 0.04, 0.0015) << "subtitle " << i + 1;
    }
    // Reported when taken off, in order.
    EXPECT_NEAR(cues[i]["media_time"].get<double>(), d["hide_media_time"].get<double>(), 1.0);
  }
  auto p = pid_summary(events, kTeletext);
  ASSERT_TRUE(p.is_object());
  EXPECT_EQ(p["kind"], "teletext");
  EXPECT_EQ(p["pes"], 916);
  EXPECT_EQ(p["pes_with_pts"], 916);
  EXPECT_EQ(p["pts_backwards"], 0);
  EXPECT_EQ(p["teletext"]["subtitles"], 9);
  EXPECT_EQ(p["teletext"]["pages"]["889"], 9);
  EXPECT_EQ(p["teletext"]["hamming_errors"], 0);
  // 916 PES 40 ms apart: 36.6 s of PTS.
  EXPECT_NEAR(p["last_pts_media_time"].get<double>() - p["first_pts_media_time"].get<double>(), 36.6, 0.0015);
  EXPECT_TRUE(test::defects(events, "caption_loss").empty());
}

// test-012 without the teletext PID's packets from `from` to `to` (packet
// indices), and the PTS of the PES around the gap.
struct Gap {
  std::filesystem::path file;
  std::int64_t last_before = 0, first_after = 0;
};
Gap cut_teletext(std::size_t from, std::size_t to) {
  auto ts = test::read_file_bytes(data_dir() + "test-012.ts");
  Gap g;
  for (const auto& p : test::pes_of_pid(ts, kTeletext)) {
    if (p.first_packet < from) g.last_before = *p.pts;
    if (p.first_packet >= to && !g.first_after) g.first_after = *p.pts;
  }
  std::vector<std::uint8_t> out;
  std::uint8_t cc = 0;
  bool renumber = false;
  for (std::size_t i = 0; i * 188 < ts.size(); ++i) {
    const std::uint8_t* p = &ts[i * 188];
    const int pid = ((p[1] & 0x1F) << 8) | p[2];
    if (pid == kTeletext && i >= from && i < to) {
      renumber = true;
      continue;
    }
    out.insert(out.end(), p, p + 188);
    // The continuity counters go on as if nothing was missing: a PID that
    // stops sending, not packets lost.
    if (pid == kTeletext) {
      if (renumber) out[out.size() - 188 + 3] = static_cast<std::uint8_t>((p[3] & 0xF0) | (cc & 0x0F));
      cc = static_cast<std::uint8_t>((out[out.size() - 188 + 3] & 0x0F) + 1);
    }
  }
  g.file = test::scratch_dir("subtitles-cut") / "gap.ts";
  std::ofstream(g.file, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<long>(out.size()));
  return g;
}

TEST(SubtitlesEndToEnd, ASilentConfiguredPidIsCaptionLossFromItsLastPesToTheNext) {
  const Gap g = cut_teletext(700, 1300);  // about 11 s without teletext
  auto events = run(g.file.string(), "gap",
                    "subtitles:\n  pids: [\"0x42C\"]\n  min_duration_s: 5\n  cue_events: true\n");
  auto cues = of_kind(events, "subtitles.cue");
  ASSERT_FALSE(cues.empty());
  // The media time of a PTS, from any cue.
  const auto& c = cues[0]["details"];
  auto media = [&](std::int64_t pts) {
    return std::round((c["show_media_time"].get<double>() + (pts - c["show_pts"].get<std::int64_t>()) / 90000.0) *
                      1000) / 1000;
  };
  auto d = test::defects(events, "caption_loss");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].start_event["detector"], "subtitles");
  EXPECT_EQ(d[0].start_event["channel"], 0);
  EXPECT_EQ(d[0].start_event["details"]["pid"], kTeletext);
  EXPECT_EQ(d[0].start_event["details"]["subtitle_kind"], "teletext");
  EXPECT_EQ(d[0].start_s, media(g.last_before));
  EXPECT_EQ(d[0].end_s, media(g.first_after));
  EXPECT_GT(d[0].end_s - d[0].start_s, 5.0);

  // The same file with a longer minimum: no loss.
  events = run(g.file.string(), "gap-long", "subtitles:\n  pids: [\"1068\"]\n  min_duration_s: 20\n");
  EXPECT_TRUE(test::defects(events, "caption_loss").empty());
  // Not configured: counted, never a defect.
  events = run(g.file.string(), "gap-free", "subtitles:\n  min_duration_s: 5\n");
  EXPECT_TRUE(test::defects(events, "caption_loss").empty());
  EXPECT_EQ(pid_summary(events, kTeletext)["watched"], false);
}

TEST(SubtitlesEndToEnd, AConfiguredPidThatNeverComesIsLostFromTheStart) {
  auto events = run(data_dir() + "test-012.ts", "absent", "subtitles:\n  pids: [\"0x42C\", \"0x0500\"]\n  min_duration_s: 5\n");
  auto d = test::defects(events, "caption_loss");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].start_s, 0.0);
  EXPECT_TRUE(std::isinf(d[0].end_s) || d[0].end_s == of_kind(events, "stream.summary").back()["media_time"].get<double>());
  EXPECT_EQ(d[0].start_event["channel"], 1);
  EXPECT_EQ(d[0].start_event["details"]["pid"], 0x500);
  EXPECT_EQ(d[0].start_event["details"]["subtitle_kind"], "configured");
  EXPECT_EQ(pid_summary(events, 0x500)["pes"], 0);
}

TEST(SubtitlesEndToEnd, ANameThatIsNotAPidIsAConfigurationError) {
  test::RunResult r;
  run(data_dir() + "test-012.ts", "bad", "subtitles:\n  pids: [\"0x42C\", \"teletext\"]\n", &r);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("avmon.yaml:2:3: subtitles.pids: 'teletext' is not a PID (0 to 8190, decimal or 0x hexadecimal)"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace avmon
