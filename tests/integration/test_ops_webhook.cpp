// Webhook delivery against a real HTTP receiver on loopback
// (tests/integration/ops/receiver.py): Standard Webhooks signatures, retries
// on 5xx and on 429 honouring Retry-After, 410 disabling the notifier, a
// receiver that is down for a while, and the spool across a SIGKILL.
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fs::path write_config(const fs::path& dir, const std::string& body) {
  fs::path p = dir / "avmon.yaml";
  std::ofstream(p) << body;
  return p;
}

std::string webhook_config(int port, const std::string& extra = "") {
  return "notifiers:\n  initial_backoff_s: 0.2\n  max_backoff_s: 1\n  drain_timeout_s: 30\n" + extra +
         "  webhook:\n    url: http://127.0.0.1:" + std::to_string(port) + "/hook\n    secret: " + kSecret + "\n";
}

// Every event line of the run, by its delivery id.
std::set<std::string> expected_ids(const std::vector<nlohmann::json>& events) {
  std::set<std::string> ids;
  for (const auto& e : events) {
    std::string kind = e.value("kind", "");
    for (char& c : kind)
      if (c == '.') c = '_';
    if (e.contains("id")) ids.insert(e["id"].get<std::string>() + "_" + kind);
  }
  return ids;
}

std::set<std::string> delivered_ids(const std::vector<nlohmann::json>& log) {
  std::set<std::string> ids;
  for (const auto& r : log)
    if (r["status"] == 200) ids.insert(r["id"].get<std::string>());
  return ids;
}

TEST(OpsWebhook, SignsEveryDeliveryAndRetriesHonouringRetryAfter) {
  auto dir = scratch_dir("webhook-retry");
  auto clip = make_clip(dir, "retry.mp4", 6, "drawbox=enable='between(t,1,3.999)':color=black:t=fill");
  int port = free_port();
  // First attempt: 503; second: 429 with Retry-After 2 s; then 200.
  Process receiver(receiver_argv(port, dir / "log.jsonl", kSecret, "503,429:2"), dir, "receiver");
  ASSERT_TRUE(wait_for_port(port, 10)) << receiver.err();

  RunResult r = run_avmon(clip.string(), dir / "events.jsonl",
                          {"--config", write_config(dir, webhook_config(port)).string()}, 120);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto events = read_events(dir / "events.jsonl");
  auto log = read_json_lines(dir / "log.jsonl");
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0]["status"], 503);
  EXPECT_EQ(log[1]["status"], 429);
  // The retry after the 429 waited for Retry-After, not the 0.2 s backoff.
  EXPECT_GE(log[2]["t"].get<double>() - log[1]["t"].get<double>(), 1.9);
  // The same delivery was retried with the same webhook-id.
  EXPECT_EQ(log[0]["id"], log[1]["id"]);
  EXPECT_EQ(log[1]["id"], log[2]["id"]);
  for (const auto& e : log) {
    EXPECT_EQ(e["sig_ok"], true) << e.dump();
    EXPECT_EQ(e["path"], "/hook");
  }
  // Every event of the run (the summary included) arrived, each once.
  std::set<std::string> want = expected_ids(events);
  ASSERT_FALSE(want.empty());
  std::set<std::string> got = delivered_ids(log);
  for (const auto& id : want) EXPECT_TRUE(got.count(id)) << "not delivered: " << id;
  EXPECT_EQ(got.size(), events.size()) << "summary and defect events, one delivery each";
  // The body is the event line.
  bool black = false;
  for (const auto& l : log)
    black = black || (l["status"] == 200 && l["body"].value("kind", "") == "defect.start" && l["body"]["type"] == "black");
  EXPECT_TRUE(black);
}

TEST(OpsWebhook, GoneDisablesTheNotifier) {
  auto dir = scratch_dir("webhook-gone");
  auto clip = make_clip(dir, "gone.mp4", 6, "drawbox=enable='between(t,1,3.999)':color=black:t=fill");
  int port = free_port();
  Process receiver(receiver_argv(port, dir / "log.jsonl", kSecret, "", 410), dir, "receiver");
  ASSERT_TRUE(wait_for_port(port, 10));
  RunResult r = run_avmon(clip.string(), dir / "events.jsonl",
                          {"--config", write_config(dir, webhook_config(port)).string()}, 120);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_GE(read_events(dir / "events.jsonl").size(), 3u);
  // One request, answered 410: nothing after it.
  EXPECT_EQ(read_json_lines(dir / "log.jsonl").size(), 1u);
  EXPECT_NE(r.err.find("disabled"), std::string::npos) << r.err;
}

TEST(OpsWebhook, DeliversEverythingOnceAReceiverThatWasDownReturns) {
  auto dir = scratch_dir("webhook-down");
  auto clip = make_clip(dir, "down.mp4", 10, "drawbox=enable='between(t,1,3.999)':color=black:t=fill",
                        "volume=enable='between(t,5,7.999)':volume=0");
  int port = free_port();
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", write_config(dir, webhook_config(port)).string()},
                dir, "avmon");
  // The receiver is down for the first 8 s of the 10 s programme.
  std::this_thread::sleep_for(std::chrono::seconds(8));
  Process receiver(receiver_argv(port, dir / "log.jsonl", kSecret), dir, "receiver");
  ASSERT_EQ(avmon.wait(60), 0) << avmon.err();
  auto events = read_events(dir / "events.jsonl");
  std::set<std::string> want = expected_ids(events);
  EXPECT_GE(want.size(), 4u) << "black and silence, start and end";
  std::set<std::string> got = delivered_ids(read_json_lines(dir / "log.jsonl"));
  for (const auto& id : want) EXPECT_TRUE(got.count(id)) << "lost: " << id;
  EXPECT_NE(avmon.err().find("retrying"), std::string::npos);
}

TEST(OpsWebhook, SpooledEventsSurviveSigkillAndAreDeliveredAfterRestart) {
  auto dir = scratch_dir("webhook-spool");
  auto clip = make_clip(dir, "spool.mp4", 12, "drawbox=enable='between(t,0.5,6)':color=black:t=fill");
  auto quiet = make_clip(dir, "quiet.mp4", 2);
  int port = free_port();
  fs::path spool = dir / "spool";
  auto cfg = write_config(dir, webhook_config(port, "  spool_dir: " + spool.string() + "\n"));
  {
    // No receiver: the defect's start waits in the spool when the process is killed.
    Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                   (dir / "first.jsonl").string(), "--config", cfg.string()},
                  dir, "first");
    ASSERT_TRUE(wait_until([&] { return read_file(dir / "first.jsonl").find("\"black\"") != std::string::npos; }, 30));
    avmon.signal(SIGKILL);
    EXPECT_EQ(avmon.wait(10), 128 + SIGKILL);
  }
  nlohmann::json start;
  for (const auto& e : read_events(dir / "first.jsonl"))
    if (e["kind"] == "defect.start" && e["type"] == "black") start = e;
  ASSERT_TRUE(start.is_object());
  std::string lost_id = start["id"].get<std::string>() + "_defect_start";
  EXPECT_FALSE(fs::is_empty(spool / "webhook"));

  Process receiver(receiver_argv(port, dir / "log.jsonl", kSecret), dir, "receiver");
  ASSERT_TRUE(wait_for_port(port, 10));
  RunResult r = run_avmon(quiet.string(), dir / "second.jsonl", {"--config", cfg.string()}, 120);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto log = read_json_lines(dir / "log.jsonl");
  ASSERT_FALSE(log.empty());
  // The killed run's event arrives, with its original id and body.
  EXPECT_TRUE(delivered_ids(log).count(lost_id));
  for (const auto& l : log)
    if (l["id"] == lost_id) {
      EXPECT_EQ(l["body"]["id"], start["id"]);
      EXPECT_EQ(l["sig_ok"], true);
    }
  // Delivered events leave the spool.
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(spool / "webhook")) left += e.path().extension() == ".json";
  EXPECT_EQ(left, 0u);
}

TEST(OpsWebhook, HttpsReceiverIsVerifiedAgainstTheConfiguredCa) {
  AVMON_REQUIRE_PROGRAM(openssl, "openssl");
  auto dir = scratch_dir("webhook-https");
  // A self-signed certificate for 127.0.0.1, made here.
  RunResult cert = run_process({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                                (dir / "key.pem").string(), "-out", (dir / "cert.pem").string()},
                               60);
  ASSERT_EQ(cert.exit_status, 0) << cert.err;
  auto clip = make_clip(dir, "tls.mp4", 4, "drawbox=enable='between(t,1,2.999)':color=black:t=fill");
  int port = free_port();
  auto argv = receiver_argv(port, dir / "log.jsonl", kSecret);
  argv.insert(argv.end(), {"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string()});
  Process receiver(argv, dir, "receiver");
  ASSERT_TRUE(wait_for_port(port, 10));
  auto config = [&](const std::string& ca) {
    return write_config(dir, "notifiers:\n  initial_backoff_s: 0.2\n  drain_timeout_s: 3\n  ca_file: " + ca +
                                 "\n  webhook:\n    url: https://127.0.0.1:" + std::to_string(port) +
                                 "/hook\n    secret: " + kSecret + "\n");
  };
  // Trusted through ca_file: delivered and signed.
  RunResult ok = run_avmon(clip.string(), dir / "a.jsonl", {"--config", config((dir / "cert.pem").string()).string()}, 120);
  ASSERT_EQ(ok.exit_status, 0) << ok.err;
  auto log = read_json_lines(dir / "log.jsonl");
  EXPECT_EQ(delivered_ids(log).size(), read_events(dir / "a.jsonl").size()) << ok.err;
  for (const auto& l : log) EXPECT_EQ(l["sig_ok"], true);
  // With the system's CAs only, the self-signed receiver is not trusted: nothing is sent.
  RunResult untrusted = run_avmon(clip.string(), dir / "b.jsonl", {"--config", config("\"\"").string()}, 120);
  EXPECT_EQ(untrusted.exit_status, 0);
  EXPECT_EQ(read_json_lines(dir / "log.jsonl").size(), log.size());
  EXPECT_NE(untrusted.err.find("handshake"), std::string::npos) << untrusted.err;
}

}  // namespace
}  // namespace avmon::test
