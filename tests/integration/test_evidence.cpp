// Evidence clips end to end: generated media with a black segment at a known
// time, the real binary with evidence.dir set, and the clip checked with the
// ffmpeg CLI (ffprobe for its packets and times, a null decode for errors)
// and the thumbnails with OpenCV's JPEG decoder.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "integration/live_support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

// 20 s of a moving test picture with pink noise, H.264 (a keyframe every 2 s and
// nowhere else) + AAC in MPEG-TS; black from 8 s: pictures 8.00 .. 11.96.
fs::path black_ts(const fs::path& dir, double seconds = 20, const std::string& black = "between(t,8,11.99)") {
  const fs::path clip = dir / "black.ts";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i", "anoisesrc=c=pink:r=48000:a=0.1",
          "-t", std::to_string(seconds), "-vf", "drawbox=enable='" + black + "':color=black:t=fill", "-c:v", "libx264",
          "-preset", "veryfast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a",
          "aac", "-b:a", "64k", "-f", "mpegts", clip.string()});
  return clip;
}

std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& events, const std::string& kind,
                                    const std::string& id = "") {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e.value("kind", "") == kind && (id.empty() || e.value("id", "") == id)) out.push_back(e);
  return out;
}

struct Probe {
  bool first_key = false;
  double first_pts_s = 0, last_pts_s = 0;
  std::size_t packets = 0;
};

// The clip's video packets as ffprobe reads them.
Probe probe_video(const fs::path& clip) {
  RunResult r = run_process({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "packet=pts_time,flags", "-of", "json", clip.string()});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  Probe p;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("packets") || j["packets"].empty()) return p;
  const auto& packets = j["packets"];
  p.packets = packets.size();
  p.first_key = packets[0].value("flags", "").find('K') != std::string::npos;
  p.first_pts_s = std::stod(packets[0].value("pts_time", "0"));
  p.last_pts_s = p.first_pts_s;
  for (const auto& k : packets) p.last_pts_s = std::max(p.last_pts_s, std::stod(k.value("pts_time", "0")));
  return p;
}

double mean_luma(const fs::path& jpg) {
  cv::Mat m = cv::imread(jpg.string(), cv::IMREAD_GRAYSCALE);
  EXPECT_FALSE(m.empty()) << jpg;
  return m.empty() ? -1 : cv::mean(m)[0];
}

std::size_t files_with(const fs::path& dir, const std::string& ext) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
  return n;
}

std::string without_wall_time(std::vector<nlohmann::json> events) {
  std::string s;
  for (auto& e : events) {
    if (e.value("kind", "") == "stream.summary") continue;  // CPU figures differ
    e.erase("wall_time");
    s += e.dump() + "\n";
  }
  return s;
}

// The clip of a black segment: from the keyframe at or before raise - pre_s
// to raise + post_s, decodable from its first packet, thumbnails of the
// black picture at the raise and of the programme at the clear; the same
// lines on every run.
TEST(Evidence, ClipCoversTheAlarmWithItsPreAndPostRollAndDecodesFromItsFirstPacket) {
  const fs::path dir = scratch_dir("evidence-clip"), ev = dir / "ev";
  const fs::path clip = black_ts(dir);
  std::ofstream(dir / "avmon.yaml") << "evidence:\n  pre_s: 3\n  post_s: 3\n";
  const std::vector<std::string> argv = {"env", "AVMON_EVIDENCE__DIR=" + ev.string(), avmon_binary(), "run",
                                         "--input", clip.string(), "--config", (dir / "avmon.yaml").string(),
                                         "--events", "-"};
  RunResult r = run_process(argv);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<nlohmann::json> events;
  {
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) events.push_back(nlohmann::json::parse(line));
  }
  const auto black = defects(events, "black");
  ASSERT_EQ(black.size(), 1u) << r.out;
  EXPECT_NEAR(black[0].start_s, 8.0, 0.05);
  EXPECT_NEAR(black[0].end_s, 12.0, 0.05);
  const std::string id = black[0].start_event["id"];
  const std::string clip_path = (ev / ("black.ts-" + id + ".ts")).string();
  EXPECT_EQ(black[0].start_event["details"]["evidence"]["clip"], clip_path);
  for (const auto& e : of_kind(events, "defect.end")) {
    if (e["id"] != id) continue;
    EXPECT_EQ(e["details"]["evidence"]["clip"], clip_path);
  }

  const auto lines = of_kind(events, "evidence", id);
  ASSERT_EQ(lines.size(), 2u) << r.out;  // the clip with its raise thumbnail, then the clear thumbnail
  EXPECT_TRUE(of_kind(events, "evidence.error").empty()) << r.out;
  const auto& e = lines[0]["details"]["evidence"];
  EXPECT_EQ(lines[0]["id"], id);
  EXPECT_EQ(e["clip"], clip_path);
  EXPECT_EQ(e["container"], "mpegts");
  EXPECT_EQ(e["complete"], true);
  // The keyframe at or before raise - 3 s is the one 4 s before it (GOP 2 s).
  const double raise_s = black[0].start_s, start_s = e["media_start_s"], end_s = e["media_end_s"];
  EXPECT_LE(start_s, raise_s - 3.0 + 1e-3);
  EXPECT_GE(start_s, raise_s - 3.0 - 2.0 - 1e-3);
  EXPECT_NEAR(start_s, raise_s - 4.0, 1e-3);
  EXPECT_GE(end_s, raise_s + 3.0 - 1e-3);
  EXPECT_NEAR(e["pre_roll_s"].get<double>(), 4.0, 1e-3);
  ASSERT_TRUE(fs::exists(clip_path));
  EXPECT_EQ(e["bytes"].get<std::uintmax_t>(), fs::file_size(clip_path));

  // ffprobe: a keyframe first; the pictures span raise - media_start_s + post_s.
  const Probe p = probe_video(clip_path);
  EXPECT_TRUE(p.first_key);
  EXPECT_GE(p.last_pts_s - p.first_pts_s, (raise_s + 3.0) - start_s - 1e-3);
  // 4.00 .. 11.00 at 25 per second, and the pictures after 11.00 that come
  // before it in decoding order (its references).
  EXPECT_GE(p.packets, 176u);
  EXPECT_LE(p.packets, 180u);
  // Every packet decodes.
  RunResult decode = run_process({"ffmpeg", "-v", "error", "-i", clip_path, "-f", "null", "-"});
  EXPECT_EQ(decode.exit_status, 0);
  EXPECT_EQ(decode.err, "");

  // Thumbnails: the picture at the raise is black, the one at the clear is not.
  const std::string raise_jpg = e["thumbnail_raise"], clear_jpg = lines[1]["details"]["evidence"]["thumbnail_clear"];
  EXPECT_NEAR(e["thumbnail_raise_media_time"].get<double>(), raise_s, 1e-3);
  EXPECT_NEAR(lines[1]["details"]["evidence"]["thumbnail_clear_media_time"].get<double>(), black[0].end_s, 1e-3);
  EXPECT_LT(mean_luma(raise_jpg), 20.0);
  EXPECT_GT(mean_luma(clear_jpg), 60.0);

  const auto& summary = events.back();
  ASSERT_EQ(summary["kind"], "stream.summary");
  EXPECT_EQ(summary["evidence"]["clips_written"], 1);
  EXPECT_EQ(summary["evidence"]["thumbnails_written"], 2);

  // A file gives the same lines on every run, evidence included.
  RunResult again = run_process(argv);
  ASSERT_EQ(again.exit_status, 0) << again.err;
  std::vector<nlohmann::json> events2;
  std::istringstream in(again.out);
  for (std::string line; std::getline(in, line);) events2.push_back(nlohmann::json::parse(line));
  EXPECT_EQ(without_wall_time(events2), without_wall_time(events));
}

// Four alarms, two clips kept: the oldest clips and their thumbnails go.
TEST(Evidence, RetentionDeletesTheOldestClipsBeyondMaxClips) {
  const fs::path dir = scratch_dir("evidence-retention"), ev = dir / "ev";
  const fs::path clip =
      black_ts(dir, 26, "between(t,2,3.99)+between(t,8,9.99)+between(t,14,15.99)+between(t,20,21.99)");
  std::ofstream(dir / "avmon.yaml") << "evidence:\n  dir: " << ev.string()
                                    << "\n  pre_s: 1\n  post_s: 1\n  max_clips: 2\n";
  RunResult r = run_avmon(clip.string(), dir / "events.jsonl", {"--config", (dir / "avmon.yaml").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto events = read_events(dir / "events.jsonl");
  const auto black = defects(events, "black");
  ASSERT_EQ(black.size(), 4u);
  for (const auto& b : black) EXPECT_EQ(of_kind(events, "evidence", b.start_event["id"]).size(), 2u);
  EXPECT_EQ(files_with(ev, ".ts"), 2u);
  // The last two alarms' clips are the ones kept.
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string id = black[i].start_event["id"];
    EXPECT_EQ(fs::exists(ev / ("black.ts-" + id + ".ts")), i >= 2) << i;
  }
  EXPECT_GE(events.back()["evidence"]["files_deleted"].get<int>(), 4);
}

// A disk that refuses the clip (a file-size limit: EFBIG, as ENOSPC on a
// full disk) is an evidence.error line; the alarm is all there and the run
// ends normally.
TEST(Evidence, AClipThatCannotBeWrittenIsAnErrorLineAndTheAlarmIsStillDelivered) {
  const fs::path dir = scratch_dir("evidence-full"), ev = dir / "ev";
  const fs::path clip = black_ts(dir);
  std::ofstream(dir / "avmon.yaml") << "evidence:\n  dir: " << ev.string() << "\n  pre_s: 3\n  post_s: 3\n";
  RunResult r = run_process({"prlimit", "--fsize=30000", "--", avmon_binary(), "run", "--input", clip.string(),
                             "--events", "-", "--config", (dir / "avmon.yaml").string()});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  std::vector<nlohmann::json> events;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) events.push_back(nlohmann::json::parse(line));
  const auto black = defects(events, "black");
  ASSERT_EQ(black.size(), 1u) << r.out;
  EXPECT_TRUE(std::isfinite(black[0].end_s));
  const auto errors = of_kind(events, "evidence.error", black[0].start_event["id"]);
  ASSERT_GE(errors.size(), 1u) << r.out;
  EXPECT_EQ(errors[0]["id"], black[0].start_event["id"]);
  EXPECT_NE(errors[0]["details"]["error"].get<std::string>().find("File too large"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("evidence: cannot write"), std::string::npos) << r.err;
  EXPECT_EQ(events.back()["evidence"]["clips_failed"], 1);
  EXPECT_EQ(files_with(ev, ".ts"), 0u);
  EXPECT_EQ(files_with(ev, ".part"), 0u);
}

// A full disk (a 100 kB tmpfs, where root may mount one): No space left on
// device, the same error line; the thumbnails that fit are written.
TEST(Evidence, AFullDiskIsAnErrorLineAndTheAlarmIsStillDelivered) {
  const fs::path dir = scratch_dir("evidence-tmpfs"), ev = dir / "ev";
  fs::create_directories(ev);
  if (run_process({"mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", ev.string()}).exit_status != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (not root, or no mount permission)";
  struct Unmount {
    fs::path at;
    ~Unmount() { run_process({"umount", at.string()}); }
  } unmount{ev};
  const fs::path clip = black_ts(dir);
  std::ofstream(dir / "avmon.yaml") << "evidence:\n  dir: " << ev.string() << "\n  pre_s: 3\n  post_s: 3\n";
  RunResult r = run_avmon(clip.string(), dir / "events.jsonl", {"--config", (dir / "avmon.yaml").string()});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const auto events = read_events(dir / "events.jsonl");
  const auto black = defects(events, "black");
  ASSERT_EQ(black.size(), 1u);
  EXPECT_TRUE(std::isfinite(black[0].end_s));
  const auto errors = of_kind(events, "evidence.error", black[0].start_event["id"]);
  ASSERT_GE(errors.size(), 1u);
  EXPECT_NE(errors[0]["details"]["error"].get<std::string>().find("No space left on device"), std::string::npos)
      << errors[0].dump();
  EXPECT_EQ(events.back()["evidence"]["clips_failed"], 1);
  EXPECT_EQ(files_with(ev, ".part"), 0u);
}

// Codecs MPEG-TS cannot carry (VP9 and FLAC): the clip is Matroska, and says so.
TEST(Evidence, CodecsThatMpegTsCannotCarryGiveAMatroskaClip) {
  const fs::path dir = scratch_dir("evidence-mkv"), ev = dir / "ev", clip = dir / "black.mkv";
  ffmpeg({"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
          "-t", "12", "-vf", "drawbox=enable='between(t,4,6.99)':color=black:t=fill", "-c:v", "libvpx-vp9",
          "-deadline", "realtime", "-cpu-used", "8", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "flac",
          clip.string()});
  std::ofstream(dir / "avmon.yaml") << "evidence:\n  dir: " << ev.string() << "\n  pre_s: 2\n  post_s: 2\n";
  RunResult r = run_avmon(clip.string(), dir / "events.jsonl", {"--config", (dir / "avmon.yaml").string()});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto lines = of_kind(read_events(dir / "events.jsonl"), "evidence");
  ASSERT_GE(lines.size(), 1u);
  const auto& e = lines[0]["details"]["evidence"];
  EXPECT_EQ(e["container"], "matroska");
  const std::string path = e["clip"];
  EXPECT_EQ(fs::path(path).extension(), ".mkv");
  EXPECT_TRUE(probe_video(path).first_key);
  RunResult decode = run_process({"ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"});
  EXPECT_EQ(decode.exit_status, 0);
  EXPECT_EQ(decode.err, "");
}

// A live UDP feed: the clip is written while the feed goes on.
TEST(Evidence, ALiveUdpFeedGivesAClip) {
  const fs::path dir = scratch_dir("evidence-udp"), ev = dir / "ev";
  const fs::path clip = black_ts(dir, 14, "between(t,5,7.99)");
  const int port = 23560;
  auto cfg = write_config(dir, "input:\n  signal_loss_timeout_s: 2\n  options:\n    fifo_size: \"100000\"\n"
                               "    overrun_nonfatal: \"1\"\nevidence:\n  dir: " + ev.string() +
                               "\n  pre_s: 2\n  post_s: 2\n");
  EventWatch watch(dir / "live.jsonl");
  Child avmon(avmon_run("udp://127.0.0.1:" + std::to_string(port), dir / "live.jsonl", cfg), dir / "avmon.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Child sender(ffmpeg_sender(clip, "udp://127.0.0.1:" + std::to_string(port) + "?pkt_size=1316", "mpegts", false),
               dir / "ffmpeg.log");
  const int at = watch.wait_for([](const nlohmann::json& e) { return e.value("kind", "") == "evidence" &&
                                                                     e["details"]["evidence"].contains("clip") &&
                                                                     e["details"]["evidence"].contains("container"); },
                                30);
  ASSERT_GE(at, 0) << avmon.log();
  EXPECT_EQ(sender.wait(30), 0) << sender.log();
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(10), 0) << avmon.log();
  const auto& e = watch.events()[static_cast<std::size_t>(at)]["details"]["evidence"];
  EXPECT_EQ(e["complete"], true);
  const std::string path = e["clip"];
  const Probe p = probe_video(path);
  EXPECT_TRUE(p.first_key);
  EXPECT_GE(p.last_pts_s - p.first_pts_s, e["media_end_s"].get<double>() - e["media_start_s"].get<double>() - 0.05);
  EXPECT_GE(e["post_roll_s"].get<double>(), 2.0 - 0.05);
  RunResult decode = run_process({"ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"});
  EXPECT_EQ(decode.exit_status, 0);
  EXPECT_EQ(decode.err, "");
}

}  // namespace
}  // namespace avmon::test
