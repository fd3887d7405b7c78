// The notifier hub's queue (retries, order, Retry-After, 410, overflow, the
// spool), webhook signing, Alertmanager alerts, the notifier configuration
// and the operator's surface rendered from a telemetry snapshot.
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "http/server.hpp"
#include "notify/notifier.hpp"
#include "util/lost_output.hpp"
#include "support/run.hpp"

namespace avmon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A scripted receiver: answers from `script` in order, then `fallback`.
struct FakeState {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<SendResult> script;
  SendResult fallback = SendResult::ok();
  std::vector<std::pair<std::string, double>> attempts;  // id, seconds since start
  std::vector<std::string> delivered;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  std::atomic<bool> block{false};
};

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(std::shared_ptr<FakeState> s) : s_(std::move(s)) {}
  std::string name() const override { return "fake"; }
  SendResult send(const Delivery& d) override {
    while (s_->block) std::this_thread::sleep_for(1ms);
    std::lock_guard lk(s_->mu);
    s_->attempts.emplace_back(d.id, std::chrono::duration<double>(std::chrono::steady_clock::now() - s_->t0).count());
    SendResult r = s_->fallback;
    if (!s_->script.empty()) {
      r = s_->script.front();
      s_->script.erase(s_->script.begin());
    }
    if (r.outcome == SendResult::Outcome::Delivered) s_->delivered.push_back(d.id);
    s_->cv.notify_all();
    return r;
  }

 private:
  std::shared_ptr<FakeState> s_;
};

nlohmann::json defect(const std::string& id, const std::string& kind = "defect.start") {
  return {{"kind", kind}, {"id", id}, {"stream", "s"}, {"type", "black"}, {"detector", "black"},
          {"media_time", 1.5}, {"wall_time", "2026-11-26T10:00:00.000Z"}, {"severity", "major"},
          {"details", {{"luma", 3}}}};
}

QueueOptions fast_queue() {
  QueueOptions q;
  q.initial_backoff_s = 0.01;
  q.max_backoff_s = 0.05;
  q.drain_timeout_s = 5;
  return q;
}

TEST(NotifyQueue, RetriesUntilDeliveredKeepingOrderAndTheDeliveryId) {
  auto s = std::make_shared<FakeState>();
  s->script = {SendResult::retry("down"), SendResult::retry("down"), SendResult::ok()};
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), fast_queue());
  n->deliver(defect("a"));
  n->deliver(defect("a", "defect.end"));
  n->close();
  ASSERT_EQ(s->delivered, (std::vector<std::string>{"a_defect_start", "a_defect_end"}));
  ASSERT_EQ(s->attempts.size(), 4u);
  EXPECT_EQ(s->attempts[0].first, "a_defect_start");
  EXPECT_EQ(s->attempts[2].first, "a_defect_start");
  auto c = n->counters();
  EXPECT_EQ(c->delivered, 2u);
  EXPECT_EQ(c->retries, 2u);
  EXPECT_EQ(c->depth, 0u);
  EXPECT_EQ(c->dropped, 0u);
}

TEST(NotifyQueue, HonoursRetryAfter) {
  auto s = std::make_shared<FakeState>();
  s->script = {SendResult::retry("429", 0.6)};
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), fast_queue());
  n->deliver(defect("a"));
  n->close();
  ASSERT_EQ(s->attempts.size(), 2u);
  EXPECT_GE(s->attempts[1].second - s->attempts[0].second, 0.55);
}

TEST(NotifyQueue, GoneDisablesAndDropsTheRest) {
  auto s = std::make_shared<FakeState>();
  s->fallback = {SendResult::Outcome::Disable, -1, "410"};
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), fast_queue());
  for (int i = 0; i < 3; ++i) n->deliver(defect("e" + std::to_string(i)));
  std::this_thread::sleep_for(200ms);
  n->deliver(defect("late"));
  n->close();
  EXPECT_EQ(s->attempts.size(), 1u);
  EXPECT_TRUE(n->counters()->disabled);
  EXPECT_EQ(n->counters()->dropped, 4u) << "the three queued and the one after";
}

TEST(NotifyQueue, EnqueueNeverBlocksAndOverflowDropsTheOldest) {
  auto s = std::make_shared<FakeState>();
  s->block = true;  // a receiver that hangs
  QueueOptions q = fast_queue();
  q.capacity = 100;
  q.drain_timeout_s = 0.2;
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), q);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) n->deliver(defect("e" + std::to_string(i)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_GE(n->counters()->dropped, 9800u);
  EXPECT_LE(n->counters()->depth, 100u);
  s->block = false;
  n->close();
  // What was kept is the newest.
  ASSERT_FALSE(s->delivered.empty());
  EXPECT_EQ(s->delivered.back(), "e9999_defect_start");
}

// A receiver that accepted and never answers: the send waits until cancelled.
class HungTransport final : public Transport {
 public:
  std::string name() const override { return "hung"; }
  SendResult send(const Delivery&) override {
    std::unique_lock lk(mu_);
    sending_ = true;
    cv_.notify_all();
    cv_.wait(lk, [&] { return cancelled_; });
    return SendResult::retry("cancelled");
  }
  void cancel() override {
    std::lock_guard lk(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void wait_sending() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return sending_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool sending_ = false, cancelled_ = false;
};

TEST(NotifyQueue, CloseCancelsTheAttemptInFlightAtTheDrainDeadline) {
  auto t = std::make_unique<HungTransport>();
  HungTransport* hung = t.get();
  QueueOptions q = fast_queue();
  q.drain_timeout_s = 0.3;
  q.attempt_timeout_s = 600;  // what the transport would wait by itself
  auto n = make_queued_notifier(std::move(t), q);
  n->deliver(defect("a"));
  n->deliver(defect("b"));
  hung->wait_sending();
  // Inside a bounded send, the worker is alive for liveness, however long
  // the send has taken so far.
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch()).count();
  EXPECT_GT(n->counters()->heartbeat_ms.load(), now_ms + 500 * 1000);
  auto t0 = std::chrono::steady_clock::now();
  n->close();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(took, 0.25);
  EXPECT_LT(took, 3.0);  // 0.3 s and the cancel, with room for a loaded machine
  EXPECT_EQ(n->counters()->dropped, 2u) << "not delivered, counted";
}

TEST(NotifyQueue, TheSpoolKeepsUndeliveredEventsAcrossARestart) {
  auto dir = test::scratch_dir("spool-unit");
  QueueOptions q = fast_queue();
  q.spool_dir = dir.string();
  q.drain_timeout_s = 0.1;
  q.capacity = 2;  // and overflow waits on disk, in order
  {
    auto s = std::make_shared<FakeState>();
    s->fallback = SendResult::retry("down");
    auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), q);
    for (int i = 0; i < 5; ++i) n->deliver(defect("e" + std::to_string(i)));
    EXPECT_EQ(n->counters()->spooled, 5u);
    n->close();
    EXPECT_EQ(n->counters()->dropped, 0u);
  }
  auto s = std::make_shared<FakeState>();
  q.drain_timeout_s = 5;  // the options are taken at construction
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), q);
  EXPECT_EQ(n->counters()->depth, 5u);
  n->deliver(defect("e5"));
  n->close();
  std::vector<std::string> want;
  for (int i = 0; i < 6; ++i) want.push_back("e" + std::to_string(i) + "_defect_start");
  // (close() may stop before the last reload; what was delivered is in order.)
  ASSERT_GE(s->delivered.size(), 2u);
  for (size_t i = 0; i < s->delivered.size(); ++i) EXPECT_EQ(s->delivered[i], want[i]);
}

TEST(NotifyQueue, TheSpoolDrainsCompletelyWhenTheReceiverIsUp) {
  auto dir = test::scratch_dir("spool-drain");
  QueueOptions q = fast_queue();
  q.spool_dir = dir.string();
  q.capacity = 3;
  auto s = std::make_shared<FakeState>();
  s->block = true;
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), q);
  for (int i = 0; i < 10; ++i) n->deliver(defect("e" + std::to_string(i)));
  s->block = false;
  n->close();
  ASSERT_EQ(s->delivered.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s->delivered[static_cast<size_t>(i)], "e" + std::to_string(i) + "_defect_start");
  EXPECT_TRUE(fs::is_empty(dir / "fake"));
}

// A spool that cannot be written, made real without root: this process's
// file-size limit at 0 bytes (SIGXFSZ ignored) makes every write to a file
// fail with EFBIG, as a full disk fails with ENOSPC.
class FileSizeLimit {
 public:
  FileSizeLimit() {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit zero = old_;
    zero.rlim_cur = 0;
    setrlimit(RLIMIT_FSIZE, &zero);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(NotifyQueue, ASpoolThatCannotBeWrittenKeepsEventsInMemoryCountsAndLeavesNoTornFile) {
  LostOutput::global().reset();
  auto dir = test::scratch_dir("spool-efbig");
  QueueOptions q = fast_queue();
  q.spool_dir = dir.string();
  q.capacity = 3;
  auto s = std::make_shared<FakeState>();
  s->block = true;  // nothing is delivered while the events arrive
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), q);
  {
    FileSizeLimit full;
    for (int i = 0; i < 5; ++i) n->deliver(defect("e" + std::to_string(i)));
  }
  // Three fit in memory and are delivered; the last two had nowhere to go.
  s->block = false;
  n->close();
  EXPECT_EQ(s->delivered, (std::vector<std::string>{"e0_defect_start", "e1_defect_start", "e2_defect_start"}));
  EXPECT_EQ(n->counters()->spooled, 0u);
  EXPECT_EQ(n->counters()->dropped, 2u);
  auto f = LostOutput::global().snapshot().at("spool/fake");
  EXPECT_EQ(f.write_errors, 5u);
  EXPECT_EQ(f.events_lost, 2u);
  EXPECT_NE(f.last_error.find("File too large"), std::string::npos) << f.last_error;
  EXPECT_TRUE(fs::is_empty(dir / "fake"));  // no empty or torn file renamed into place
  LostOutput::global().reset();
}

TEST(NotifyQueue, EventsHeldInMemoryOnlyAndUndeliveredAtExitAreCountedLost) {
  LostOutput::global().reset();
  auto dir = test::scratch_dir("spool-efbig-exit");
  QueueOptions q = fast_queue();
  q.spool_dir = dir.string();
  q.drain_timeout_s = 0.1;
  auto s = std::make_shared<FakeState>();
  s->fallback = SendResult::retry("down");
  auto n = make_queued_notifier(std::make_unique<FakeTransport>(s), q);
  n->deliver(defect("on-disk"));
  {
    FileSizeLimit full;
    n->deliver(defect("in-memory"));
  }
  n->close();
  EXPECT_EQ(LostOutput::global().snapshot().at("spool/fake").events_lost, 1u);
  EXPECT_EQ(n->counters()->dropped, 1u);
  // The one on disk waits for the next start.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "fake")) files += e.path().extension() == ".json";
  EXPECT_EQ(files, 1u);
  LostOutput::global().reset();
}

TEST(NotifyHub, AnOutputsFirstFailureIsAnEventAndTheSummaryCountsThemAll) {
  LostOutput::global().reset();
  struct Recorder final : Notifier {
    std::vector<nlohmann::json>* seen;
    explicit Recorder(std::vector<nlohmann::json>* s) : seen(s) {}
    std::string name() const override { return "recorder"; }
    void deliver(const nlohmann::json& e) override {
      seen->push_back(e);
      // This output fails on every defect.
      if (e.value("kind", "") == "defect.start") LostOutput::global().write_failed("events", "No space left on device", 1);
    }
  };
  std::vector<nlohmann::json> seen;
  NotifierHub hub;
  hub.add(std::make_unique<Recorder>(&seen));
  hub.emit(defect("a"));
  hub.emit(defect("b"));
  hub.emit({{"kind", "stream.summary"}, {"stream", "s"}, {"media_time", 9.0}});
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1]["kind"], "output.error");  // once, after the first failure
  EXPECT_EQ(seen[1]["stream"], "s");
  EXPECT_EQ(seen[1]["media_time"], 1.5);
  EXPECT_EQ(seen[1]["details"], (nlohmann::json{{"output", "events"}, {"error", "No space left on device"}, {"events_lost", 1}}));
  EXPECT_EQ(seen[3]["output_errors"]["events"],
            (nlohmann::json{{"write_errors", 2}, {"events_lost", 2}, {"last_error", "No space left on device"}}));
  LostOutput::global().reset();
}

TEST(Webhook, SignatureMatchesTheStandardWebhooksReferenceVector) {
  // The example of the Standard Webhooks specification's reference libraries.
  EXPECT_EQ(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                              R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Webhook, DeliveryIdIsTheEventIdAndKind) {
  EXPECT_EQ(delivery_id(defect("abc")), "abc_defect_start");
  EXPECT_EQ(delivery_id(defect("abc", "defect.end")), "abc_defect_end");
  nlohmann::json summary = {{"kind", "stream.summary"}, {"wall_time", "x"}};
  EXPECT_EQ(delivery_id(summary), delivery_id(summary));
  EXPECT_NE(delivery_id(summary), delivery_id(nlohmann::json{{"kind", "stream.summary"}, {"wall_time", "y"}}));
}

TEST(Alertmanager, AlertLabelsAreStableAndTheEndResolves) {
  auto start = alertmanager_alert(defect("abc"));
  auto end = alertmanager_alert(defect("abc", "defect.end"));
  EXPECT_EQ(start["labels"], end["labels"]);
  EXPECT_EQ(start["labels"]["alertname"], "AvmonDefect");
  EXPECT_EQ(start["labels"]["stream"], "s");
  EXPECT_EQ(start["labels"]["type"], "black");
  EXPECT_EQ(start["startsAt"], "2026-11-26T10:00:00.000Z");
  EXPECT_FALSE(start.contains("endsAt"));
  EXPECT_EQ(end["endsAt"], "2026-11-26T10:00:00.000Z");
  EXPECT_EQ(start["annotations"]["defect_id"], "abc");
  auto ch = defect("x");
  ch["channel"] = 1;
  EXPECT_EQ(alertmanager_alert(ch)["labels"]["channel"], "1");
}

fs::path yaml(const std::string& name, const std::string& text) {
  auto p = test::scratch_dir("notify-config-" + name) / "c.yaml";
  std::ofstream(p) << text;
  return p;
}

TEST(NotifyConfig, NestedNotifierSectionsAreReadAndValidated) {
  auto reg = DetectorRegistry::builtin();
  auto p = yaml("ok",
                "http:\n  listen: 127.0.0.1:8080\nnotifiers:\n  spool_dir: /tmp/x\n  webhook:\n    url: http://h/hook\n"
                "    secret: whsec_abc=\n  mqtt:\n    host: broker\n    port: 1884\n  alertmanager:\n    url: http://am:9093\n");
  Config c = load_config(p.string(), reg, nullptr);
  EXPECT_EQ(c.http.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.notifiers.spool_dir, "/tmp/x");
  EXPECT_EQ(c.notifiers.webhook.url, "http://h/hook");
  EXPECT_EQ(c.notifiers.webhook.secret, "whsec_abc=");
  EXPECT_EQ(c.notifiers.mqtt.port, 1884);
  EXPECT_EQ(c.notifiers.alertmanager.url, "http://am:9093");

  auto bad = yaml("bad", "notifiers:\n  webhook:\n    urll: http://h\n");
  try {
    load_config(bad.string(), reg, nullptr);
    FAIL() << "accepted an unknown key";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string() + ":3:5: notifiers.webhook.urll: unknown option"), std::string::npos)
        << e.what();
  }
  auto bad_sub = yaml("bad-sub", "notifiers:\n  webhok:\n    url: http://h\n");
  EXPECT_THROW(load_config(bad_sub.string(), reg, nullptr), ConfigError);
  auto range = yaml("range", "notifiers:\n  mqtt:\n    port: 70000\n");
  EXPECT_THROW(load_config(range.string(), reg, nullptr), ConfigError);

  std::string env1 = "AVMON_NOTIFIERS__WEBHOOK__SECRET=whsec_ZnJvbS1lbnY=";
  std::string env2 = "AVMON_HTTP__LISTEN=0.0.0.0:9000";
  char* env[] = {env1.data(), env2.data(), nullptr};
  Config e = load_config("", reg, env);
  EXPECT_EQ(e.notifiers.webhook.secret, "whsec_ZnJvbS1lbnY=");
  EXPECT_EQ(e.http.listen, "0.0.0.0:9000");
}

TEST(OpsSurface, MetricsFollowPrometheusNamingFromASnapshot) {
  TelemetrySnapshot s;
  s.version = "1.2.3";
  s.stream = "studio";
  s.input = "udp://x";
  s.input_up = true;
  s.types = {"black", "silence"};
  s.active.push_back(defect("a"));
  s.defects_total["black"] = 2;
  s.revision = "v0.1.0-3-gabc";
  s.libraries = {{"libavcodec", "59.37.100"}};
  s.pipeline.video_frames = 250;
  s.pipeline.audio_blocks = 470;
  s.pipeline.detectors.push_back({"black", 250, 3, 0, 0.5, 0.4, std::vector<std::uint64_t>(17, 0), nullptr});
  s.pipeline.detectors.back().buckets[0] = 250;
  s.pipeline.detectors.back().processed_video = 250;
  s.pipeline.detectors.back().dropped_video = 3;
  s.pipeline.detectors.back().media = kVideo;
  // A detector of both media: pictures and blocks apart.
  s.pipeline.detectors.push_back({"av_sync", 720, 5, 0, 0.1, 0.1, std::vector<std::uint64_t>(17, 0), nullptr});
  s.pipeline.detectors.back().processed_video = 250;
  s.pipeline.detectors.back().dropped_video = 1;
  s.pipeline.detectors.back().media = kVideo | kAudio;
  s.momentary_lufs = -23.0;
  s.channels.push_back({"FL", -6.0, -20.0});
  auto counters = std::make_shared<NotifierCounters>();
  counters->delivered = 7;
  counters->spooled = 4;
  s.notifiers.emplace_back("webhook", counters);
  s.output_failures["events"] = {4, 3, "No space left on device"};
  std::string m = render_metrics(s);
  for (const char* line : {"avmon_build_info{libavcodec=\"59.37.100\",revision=\"v0.1.0-3-gabc\",stream=\"studio\","
                           "version=\"1.2.3\"} 1",
                           "avmon_input_up{input=\"udp://x\",stream=\"studio\"} 1",
                           "avmon_video_frames_decoded_total{stream=\"studio\"} 250",
                           "avmon_audio_blocks_decoded_total{stream=\"studio\"} 470",
                           "avmon_detector_video_frames_processed_total{detector=\"black\",stream=\"studio\"} 250",
                           "avmon_detector_video_frames_processed_total{detector=\"av_sync\",stream=\"studio\"} 250",
                           "avmon_detector_audio_blocks_processed_total{detector=\"av_sync\",stream=\"studio\"} 470",
                           "avmon_detector_video_frames_dropped_total{detector=\"av_sync\",stream=\"studio\"} 1",
                           "avmon_detector_audio_blocks_dropped_total{detector=\"av_sync\",stream=\"studio\"} 4",
                           "avmon_notifier_spooled_total{notifier=\"webhook\",stream=\"studio\"} 4",
                           "avmon_active_defects{stream=\"studio\",type=\"black\"} 1",
                           "avmon_active_defects{stream=\"studio\",type=\"silence\"} 0",
                           "avmon_defects_total{stream=\"studio\",type=\"black\"} 2",
                           "avmon_detector_video_frames_dropped_total{detector=\"black\",stream=\"studio\"} 3",
                           "avmon_detector_processing_seconds_bucket{detector=\"black\",stream=\"studio\",le=\"1e-05\"} 250",
                           "avmon_detector_processing_seconds_count{detector=\"black\",stream=\"studio\"} 250",
                           "avmon_loudness_lufs{stream=\"studio\",window=\"momentary\"} -23",
                           "avmon_audio_peak_dbfs{channel=\"FL\",stream=\"studio\"} -6",
                           "avmon_notifier_deliveries_total{notifier=\"webhook\",result=\"delivered\",stream=\"studio\"} 7",
                           "avmon_output_write_errors_total{output=\"events\",stream=\"studio\"} 4",
                           "avmon_output_events_lost_total{output=\"events\",stream=\"studio\"} 3"})
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  // A video detector has no audio series, and no old frame-for-everything names remain.
  for (const char* absent : {"avmon_detector_audio_blocks_processed_total{detector=\"black\"",
                             "avmon_frames_decoded_total", "avmon_detector_frames_processed_total"})
    EXPECT_EQ(m.find(absent), std::string::npos) << absent;
  auto j = render_status(s);
  EXPECT_EQ(j["active_defects"].size(), 1u);
  EXPECT_EQ(j["levels"]["loudness"]["momentary_lufs"], -23.0);
  EXPECT_EQ(j["notifiers"]["webhook"]["delivered"], 7);
  EXPECT_EQ(j["output_errors"]["events"]["events_lost"], 3);
  for (const char* id : {"id=\"live\"", "id=\"meters\"", "id=\"alarms\"", "id=\"timeline\"", "id=\"lufs-i\"",
                         "id=\"loudness-graph\"", "id=\"state\"", "id=\"no-signal\""})
    EXPECT_NE(status_page_html().find(id), std::string::npos) << id;
}

}  // namespace
}  // namespace avmon
