// The HTTP surface of a running avmon: /metrics names, /healthz and /readyz,
// /status, thumbnails, and the status page rendered by headless Chromium.
#include <signal.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "app/telemetry.hpp"
#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> chromium_argv(const std::string& binary, const fs::path& profile) {
  // The flags this machine's closed network needs (see the environment notes).
  return {binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--user-data-dir=" + profile.string()};
}

struct RunningAvmon {
  int port = free_port();
  std::unique_ptr<Process> proc;
  RunningAvmon(const fs::path& dir, const fs::path& clip, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                                     (dir / "events.jsonl").string(), "--http", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = std::make_unique<Process>(argv, dir, "avmon");
  }
  nlohmann::json status() {
    auto r = http_get(port, "/status");
    return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
  }
  bool defect_active(const std::string& type) {
    auto s = status();
    if (!s.is_object()) return false;
    for (const auto& d : s["active_defects"])
      if (d.value("type", "") == type) return true;
    return false;
  }
};

TEST(OpsHttp, MetricsHealthStatusAndThumbnailsWhileAnalysing) {
  auto dir = scratch_dir("http");
  auto clip = make_clip(dir, "http.mp4", 10, "drawbox=enable='between(t,1,5.999)':color=black:t=fill");
  RunningAvmon avmon(dir, clip);
  ASSERT_TRUE(wait_for_port(avmon.port, 15)) << avmon.proc->err();
  EXPECT_EQ(http_get(avmon.port, "/healthz").status, 200);
  ASSERT_TRUE(wait_until([&] { return http_get(avmon.port, "/readyz").status == 200; }, 10));
  ASSERT_TRUE(wait_until([&] { return avmon.defect_active("black"); }, 15)) << avmon.proc->err();

  auto metrics = http_get(avmon.port, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* name :
       {"avmon_input_up{", "avmon_video_frames_decoded_total{", "avmon_audio_blocks_decoded_total{",
        "avmon_decode_errors_total{", "avmon_detector_processing_seconds_bucket{",
        "avmon_detector_video_frames_processed_total{", "avmon_detector_audio_blocks_processed_total{",
        "avmon_detector_video_frames_dropped_total{", "process_cpu_seconds_total ", "process_resident_memory_bytes ",
        "avmon_active_defects{", "avmon_loudness_lufs{", "avmon_audio_peak_dbfs{", "avmon_build_info{"})
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name;
  EXPECT_TRUE(std::regex_search(metrics.body, std::regex(R"(avmon_active_defects\{stream="http.mp4",type="black"\} 1)")))
      << metrics.body;
  EXPECT_TRUE(std::regex_search(metrics.body, std::regex(R"(avmon_input_up\{input="[^"]*",stream="http.mp4"\} 1)")));

  auto status = avmon.status();
  EXPECT_EQ(status["input"]["up"], true);
  EXPECT_EQ(status["format"]["width"], 320);
  EXPECT_EQ(status["levels"]["channels"].size(), 2u);
  EXPECT_TRUE(status["levels"]["loudness"]["momentary_lufs"].is_number());
  // Loudness is metered once, by the loudness detector: the page's figures
  // are the detector's own (published from its strand), not a second meter.
  const auto& published = status["detectors"]["loudness"]["levels"]["loudness"];
  ASSERT_TRUE(published["integrated_lufs"].is_number()) << status.dump();
  EXPECT_NEAR(status["levels"]["loudness"]["integrated_lufs"].get<double>(), published["integrated_lufs"].get<double>(), 0.06);  // the page rounds to 0.1
  EXPECT_EQ(status["detectors"]["silence"]["levels"]["audio_levels"]["channels"].size(), 2u) << status.dump();
  EXPECT_FALSE(status["detectors"]["black"].contains("levels"));  // it has none to publish
  nlohmann::json black;
  for (const auto& d : status["active_defects"])
    if (d["type"] == "black") black = d;
  // The defect's thumbnail: referenced from the event, served as a JPEG.
  std::string thumb = black["details"].value("thumbnail", "");
  ASSERT_EQ(thumb, "/thumbnails/" + black["id"].get<std::string>() + ".jpg");
  auto jpeg = http_get(avmon.port, thumb);
  ASSERT_EQ(jpeg.status, 200);
  ASSERT_GT(jpeg.body.size(), 100u);
  EXPECT_EQ(jpeg.body.substr(0, 2), "\xFF\xD8");
  // ... showing the black picture, not the programme before it.
  cv::Mat picture = cv::imdecode(std::vector<unsigned char>(jpeg.body.begin(), jpeg.body.end()), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(picture.empty());
  EXPECT_LT(cv::mean(picture)[0], 20.0);
  auto live = http_get(avmon.port, "/thumbnail.jpg");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body.substr(0, 2), "\xFF\xD8");
  EXPECT_EQ(http_get(avmon.port, "/nope").status, 404);

  ASSERT_EQ(avmon.proc->wait(30), 0) << avmon.proc->err();
  // The event line carries the same reference.
  for (const auto& e : read_events(dir / "events.jsonl"))
    if (e["kind"] == "defect.start" && e["type"] == "black") {
      EXPECT_EQ(e["details"]["thumbnail"], thumb);
    }
}

TEST(OpsThumbnails, JpegDecodesBackToThePictureWithItsColoursAndLevels) {
  // Colour patches and the two ends of the range, at an odd size: an
  // independent decoder (OpenCV's libjpeg) must give them back.
  cv::Mat bgr(135, 281, CV_8UC3, cv::Scalar(128, 128, 128));
  bgr(cv::Rect(0, 0, 60, 60)).setTo(cv::Scalar(0, 0, 255));      // red
  bgr(cv::Rect(60, 0, 60, 60)).setTo(cv::Scalar(0, 255, 0));     // green
  bgr(cv::Rect(120, 0, 60, 60)).setTo(cv::Scalar(255, 0, 0));    // blue
  bgr(cv::Rect(0, 70, 100, 60)).setTo(cv::Scalar(0, 0, 0));      // black
  bgr(cv::Rect(120, 70, 100, 60)).setTo(cv::Scalar(255, 255, 255));  // white
  const std::string jpeg = avmon::encode_jpeg(bgr, 80);
  ASSERT_GT(jpeg.size(), 100u);
  EXPECT_EQ(jpeg.substr(0, 2), "\xFF\xD8");
  const cv::Mat back = cv::imdecode(std::vector<unsigned char>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR);
  ASSERT_EQ(back.size(), bgr.size());
  const auto patch = [&](int x, int y) { return cv::mean(back(cv::Rect(x + 15, y + 15, 30, 30))); };
  const cv::Scalar red = patch(0, 0), green = patch(60, 0), blue = patch(120, 0);
  EXPECT_GT(red[2], 230);
  EXPECT_LT(red[1], 25);
  EXPECT_GT(green[1], 230);
  EXPECT_LT(green[2], 25);
  EXPECT_GT(blue[0], 230);
  EXPECT_LT(blue[2], 25);
  EXPECT_LT(patch(20, 70)[1], 4);     // black stays black (full range, not 16)
  EXPECT_GT(patch(140, 70)[1], 251);  // white stays white (not 235)
  EXPECT_NEAR(patch(230, 70)[0], 128, 3);  // mid grey
  EXPECT_TRUE(avmon::encode_jpeg(cv::Mat(), 80).empty());
  EXPECT_TRUE(avmon::encode_jpeg(cv::Mat(10, 10, CV_8UC1), 80).empty());
}

TEST(OpsHttp, LoudnessIsStillMeteredWithTheLoudnessDetectorOff) {
  auto dir = scratch_dir("http-no-loudness");
  auto clip = make_clip(dir, "quiet.mp4", 6, "null");
  auto cfg = dir / "avmon.yaml";
  {
    std::ofstream(cfg) << "detectors:\n  loudness:\n    enabled: false\n";
  }
  RunningAvmon avmon(dir, clip, {"--config", cfg.string()});
  ASSERT_TRUE(wait_for_port(avmon.port, 15)) << avmon.proc->err();
  nlohmann::json status;
  ASSERT_TRUE(wait_until([&] {
    status = avmon.status();
    return status.is_object() && status["levels"]["loudness"]["momentary_lufs"].is_number();
  }, 10)) << status.dump();
  EXPECT_FALSE(status["detectors"].contains("loudness"));
  EXPECT_LT(status["levels"]["loudness"]["momentary_lufs"].get<double>(), -5.0);
  EXPECT_GT(status["levels"]["loudness"]["momentary_lufs"].get<double>(), -60.0);
  ASSERT_EQ(avmon.proc->wait(30), 0) << avmon.proc->err();
}

TEST(OpsHttp, HealthzStaysUpWhileTheInputIsDown) {
  auto dir = scratch_dir("http-down");
  // A UDP input with nothing sending to it: the input never comes up.
  int udp = free_port();
  RunningAvmon avmon(dir, "udp://127.0.0.1:" + std::to_string(udp) + "?timeout=20000000");
  ASSERT_TRUE(wait_for_port(avmon.port, 15)) << avmon.proc->err();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(http_get(avmon.port, "/healthz").status, 200);
  EXPECT_EQ(http_get(avmon.port, "/readyz").status, 503);
  auto m = http_get(avmon.port, "/metrics");
  EXPECT_NE(m.body.find("avmon_input_up{"), std::string::npos);
  EXPECT_TRUE(std::regex_search(m.body, std::regex(R"(avmon_input_up\{[^}]*\} 0)"))) << m.body;
  avmon.proc->signal(SIGTERM);
  avmon.proc->wait(30);
}

TEST(OpsHttp, StatusPageShowsPictureMetersAndDefectsInChromium) {
  AVMON_REQUIRE_PROGRAM(chromium, "chromium");
  auto dir = scratch_dir("status-page");
  auto clip = make_clip(dir, "page.mp4", 14, "drawbox=enable='between(t,1,9.999)':color=black:t=fill");
  RunningAvmon avmon(dir, clip);
  ASSERT_TRUE(wait_for_port(avmon.port, 15)) << avmon.proc->err();
  ASSERT_TRUE(wait_until([&] { return avmon.defect_active("black"); }, 15)) << avmon.proc->err();
  std::string url = "http://127.0.0.1:" + std::to_string(avmon.port) + "/";

  auto argv = chromium_argv(chromium, dir / "profile");
  // Virtual time lets the page's timers and fetches run for 3 s before the DOM is dumped.
  argv.insert(argv.end(), {"--virtual-time-budget=3000", "--dump-dom", url});
  RunResult dom = run_process(argv, 60);
  ASSERT_EQ(dom.exit_status, 0) << dom.err;
  const std::string& html = dom.out;
  // The picture loaded (the page marks it on the image's load event).
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(id="live"[^>]*data-loaded="1")"))) << html;
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(id="live"[^>]*data-width="320")"))) << html;
  // Two channel meters with levels, loudness figures, the active defect with its thumbnail.
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(class="meter" data-channel="FL" data-peak="-?[0-9.]+")"))) << html;
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(data-channel="FR")")));
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(I: -[0-9]+\.[0-9] LUFS)"))) << html;
  EXPECT_TRUE(std::regex_search(
      html, std::regex(R"(<li class="alarm" data-id="[0-9a-f]+" data-type="black" data-severity="critical"[^>]*>[\s\S]*?<img [^>]*src="thumbnails/[0-9a-f]+\.jpg")")))
      << html;
  EXPECT_NE(html.find("<div id=\"state\">ALARM</div>"), std::string::npos);
  EXPECT_TRUE(std::regex_search(html, std::regex(R"(data-kind="defect.start")")));
  EXPECT_NE(html.find("input: up"), std::string::npos);

  // A screenshot for people (kept with AVMON_KEEP_TEST_FILES=1).
  auto shot = chromium_argv(chromium, dir / "profile2");
  shot.insert(shot.end(), {"--virtual-time-budget=3000", "--window-size=1280,720",
                           "--screenshot=" + (dir / "status-page.png").string(), url});
  EXPECT_EQ(run_process(shot, 60).exit_status, 0);
  EXPECT_TRUE(fs::exists(dir / "status-page.png"));
  avmon.proc->signal(SIGTERM);
  EXPECT_EQ(avmon.proc->wait(30), 0);
}

TEST(OpsLogs, JsonLogsAreOneEscapedObjectPerLineAtTheConfiguredLevel) {
  auto dir = scratch_dir("json-logs");
  std::string weird = (dir / "we\"ird\\name\n\ttab.mp4").string();
  RunResult r = run_process({avmon_binary(), "--log-format", "json", "--log-level", "debug", "run", "--input", weird,
                             "--events", (dir / "e.jsonl").string()},
                            60);
  EXPECT_EQ(r.exit_status, 3);
  std::istringstream lines(r.err);
  std::string line;
  int n = 0;
  bool named = false;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not one JSON object: " << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg"));
    named = named || j["msg"].get<std::string>().find(weird) != std::string::npos;
    ++n;
  }
  EXPECT_GT(n, 0);
  EXPECT_TRUE(named) << "the message keeps the name, quotes and newline included: " << r.err;
  RunResult quiet = run_process({avmon_binary(), "--log-format", "json", "--log-level", "critical", "run", "--input",
                                 weird, "--events", (dir / "e.jsonl").string()},
                                60);
  EXPECT_EQ(quiet.exit_status, 3);
  EXPECT_EQ(quiet.err, "") << "error lines are below the configured level";
}

}  // namespace
}  // namespace avmon::test

namespace avmon::test {
namespace {

// The shipped systemd unit sets ProcSubset=pid, which hides /proc/stat (the
// boot time) from avmon; process_start_time_seconds was then the seconds
// since boot. The same view here: /proc/stat bound over with an empty file
// in a private mount namespace.
TEST(OpsMetrics, StartTimeIsRightWhenProcStatIsHidden) {
  RunResult probe = run_process({"unshare", "-rm", "sh", "-c", "mount --bind /dev/null /proc/stat && wc -c < /proc/stat"}, 30);
  if (probe.exit_status != 0 || probe.out != "0\n")
    GTEST_SKIP() << "\n\n*** SKIPPED: no private mount namespace here (unshare -rm): " << probe.err << " ***\n\n";
  auto dir = scratch_dir("metrics-no-proc-stat");
  int port = free_port();
  Process avmon({"unshare", "-rm", "sh", "-c",
                 "mount --bind /dev/null /proc/stat && exec \"$0\" demo --http 127.0.0.1:" + std::to_string(port),
                 avmon_binary()},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(port, 15)) << avmon.err();
  auto metrics = http_get(port, "/metrics").body;
  double now_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(20), 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics, m, std::regex(R"(\nprocess_start_time_seconds ([-0-9.e+]+)\n)"))) << metrics;
  EXPECT_NEAR(std::stod(m[1]), now_s, 60.0);
}

// The exposition as a whole: promtool-clean, the process_* family with
// figures that fit this process, avmon_build_info naming the revision and
// the libav* versions --version reports, and a configured notifier's
// delivery figures before it delivered anything.
TEST(OpsMetrics, PromtoolCleanWithProcessBuildAndNotifierFigures) {
  AVMON_REQUIRE_PROGRAM(promtool, "promtool");
  auto dir = scratch_dir("metrics-families");
  int port = free_port();
  std::ofstream(dir / "avmon.yaml") << "notifiers:\n  webhook:\n    url: http://127.0.0.1:" << free_port() << "/hook\n";
  Process avmon({avmon_binary(), "demo", "--config", (dir / "avmon.yaml").string(), "--http",
                 "127.0.0.1:" + std::to_string(port)},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(port, 15)) << avmon.err();
  // Loudness appears once the meter has a window's worth of audio.
  ASSERT_TRUE(wait_until([&] { return http_get(port, "/metrics").body.find("avmon_loudness_lufs{") != std::string::npos; }, 15));
  auto metrics = http_get(port, "/metrics").body;
  double now_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(20), 0);

  std::ofstream(dir / "metrics.txt") << metrics;
  RunResult check = run_process({"/bin/sh", "-c", promtool + " check metrics < '" + (dir / "metrics.txt").string() + "'"}, 30);
  EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "");

  auto value = [&](const std::string& series) {
    std::smatch m;
    std::regex re("\n" + std::regex_replace(series, std::regex(R"([{}"+.])"), R"(\$&)") + R"( ([-0-9.e+]+)\n)");
    return std::regex_search(metrics, m, re) ? std::stod(m[1]) : -1.0;
  };
  EXPECT_GT(value("process_cpu_seconds_total"), 0.0);
  EXPECT_GT(value("process_resident_memory_bytes"), 10e6);
  EXPECT_GE(value("process_open_fds"), 4.0);
  EXPECT_GE(value("process_max_fds"), value("process_open_fds"));
  EXPECT_NEAR(value("process_start_time_seconds"), now_s, 60.0);

  RunResult version = run_process({avmon_binary(), "--version"});
  std::smatch running;
  ASSERT_TRUE(std::regex_search(version.out, running, std::regex(R"(libavcodec +[0-9. ]+ / +(\d+)\. *(\d+)\. *(\d+))")));
  std::string libavcodec = running[1].str() + "." + running[2].str() + "." + running[3].str();
  std::smatch build;
  ASSERT_TRUE(std::regex_search(metrics, build, std::regex(R"(avmon_build_info\{([^}]*)\} 1)"))) << metrics;
  EXPECT_NE(build[1].str().find("libavcodec=\"" + libavcodec + "\""), std::string::npos) << build[1];
  EXPECT_TRUE(std::regex_search(build[1].str(), std::regex(R"(revision="[^"]+")"))) << build[1];
  EXPECT_NE(build[1].str().find("stream=\"demo\""), std::string::npos) << build[1];

  for (const char* series :
       {"avmon_notifier_deliveries_total{notifier=\"webhook\",result=\"delivered\",stream=\"demo\"}",
        "avmon_notifier_deliveries_total{notifier=\"webhook\",result=\"dropped\",stream=\"demo\"}",
        "avmon_notifier_queue_depth{notifier=\"webhook\",stream=\"demo\"}",
        "avmon_notifier_spooled_total{notifier=\"webhook\",stream=\"demo\"}",
        "avmon_notifier_disabled{notifier=\"webhook\",stream=\"demo\"}"})
    EXPECT_GE(value(series), 0.0) << series << " missing";
  // Every avmon metric the shipped alert rules and dashboard query exists.
  std::set<std::string> exported;
  std::regex type_line(R"(# TYPE (\w+) )");
  for (std::sregex_iterator it(metrics.begin(), metrics.end(), type_line), end; it != end; ++it) exported.insert((*it)[1]);
  for (const char* file : {"/deploy/k8s/monitoring/rules/avmon-rules.yaml",
                           "/deploy/k8s/monitoring/dashboard/avmon-dashboard.json"}) {
    std::string text = read_file(std::string(AVMON_SOURCE_DIR) + file);
    std::regex name(R"(avmon_[a-z_]+)");
    for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
      std::string n = std::regex_replace((*it)[0].str(), std::regex("_(bucket|sum|count)$"), "");
      if (n.rfind("avmon_detector_processing_seconds", 0) == 0) n = "avmon_detector_processing_seconds";
      EXPECT_TRUE(exported.count(n)) << file << " queries " << n << ", which /metrics does not export";
    }
  }
  // Cheap detectors' calls land in the lowest buckets: they resolve.
  EXPECT_NE(metrics.find("avmon_detector_processing_seconds_bucket{detector=\"silence\",stream=\"demo\",le=\"1e-05\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace avmon::test
