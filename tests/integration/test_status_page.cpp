// The status page in a real browser (headless Chromium over the DevTools
// protocol): the one state in the header and the tab's title, the alarm
// list, the last hour's timeline and loudness graph, the operator's
// acknowledge and mask buttons through the alarms API, and the picture panel
// when the input is down. The page's screenshot in docs/ comes from here
// (kept with AVMON_KEEP_TEST_FILES=1).
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "integration/ops/browser.hpp"
#include "integration/ops/support.hpp"
#include "support/run.hpp"

namespace avmon::test {
namespace {

namespace fs = std::filesystem;

std::string js_string(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

TEST(StatusPage, StateAlarmListTimelineAndLoudnessGraphInChromium) {
  AVMON_REQUIRE_PROGRAM(chromium, "chromium");
  auto dir = scratch_dir("status-page-state");
  // Black from 2 s to 16 s (the black detector's severity: critical).
  auto clip = make_clip(dir, "night.mp4", 26, "drawbox=enable='between(t,2,15.999)':color=black:t=fill");
  // The browser first: it can take seconds to start on a loaded machine,
  // and the clip runs in real time.
  Browser browser(chromium, dir / "chromium");
  const int port = free_port();
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--http", "127.0.0.1:" + std::to_string(port)},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(port, 15)) << avmon.err();
  browser.open("http://127.0.0.1:" + std::to_string(port) + "/");

  // The state: ALARM in the header, with how long, and in the tab's title.
  ASSERT_TRUE(browser.wait_for("document.getElementById('state').textContent === 'ALARM'", 20))
      << js_string(browser.eval("document.getElementById('head').outerHTML")) << avmon.err();
  EXPECT_EQ(browser.eval("document.title"), "ALARM · night.mp4 — avmon");
  EXPECT_EQ(browser.eval("document.getElementById('head').dataset.level"), "ALARM");
  EXPECT_TRUE(std::regex_match(js_string(browser.eval("document.getElementById('state-for').textContent")),
                               std::regex(R"(for [0-9]+ s · since [0-2][0-9]:[0-5][0-9]:[0-5][0-9])")))
      << browser.eval("document.getElementById('state-for').textContent");
  EXPECT_EQ(browser.eval("document.getElementById('reasons').textContent"), "black (critical)");

  // The alarm: severity, wall-clock onset with a running duration, media
  // time as a detail, and the picture at the onset (loaded, not broken).
  const std::string alarm = "document.querySelector('#alarms li.alarm[data-type=\"black\"]')";
  ASSERT_TRUE(browser.wait_for(alarm + " && " + alarm + ".querySelector('.ev img') && " + alarm +
                                   ".querySelector('.ev img').naturalWidth > 0", 10))
      << js_string(browser.eval("document.getElementById('alarms').outerHTML"));
  EXPECT_EQ(browser.eval(alarm + ".dataset.severity"), "critical");
  EXPECT_EQ(browser.eval(alarm + ".dataset.state"), "active");
  EXPECT_EQ(browser.eval(alarm + ".querySelector('.ev img').naturalWidth"), 320);
  const std::string when = js_string(browser.eval(alarm + ".querySelector('.when').textContent"));
  EXPECT_TRUE(std::regex_match(when, std::regex(R"(since [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \([0-9]+ s\))"))) << when;
  EXPECT_NE(js_string(browser.eval(alarm + ".querySelector('.media').textContent")).find("media time 00:02.00"),
            std::string::npos)
      << browser.eval(alarm + ".querySelector('.media').textContent");

  // The last hour: a band on the black row, and the loudness drawn against
  // the -23 LUFS target (a point a second, so a few by now).
  ASSERT_TRUE(browser.wait_for("+document.getElementById('timeline').dataset.bands >= 1", 10));
  EXPECT_EQ(browser.eval("document.getElementById('timeline').dataset.types"), "black");
  ASSERT_TRUE(browser.wait_for("+document.getElementById('loudness-graph').dataset.momentary >= 3", 10));
  EXPECT_EQ(browser.eval("document.getElementById('loudness-graph').dataset.target"), "-23");
  // The live picture is there, and no image anywhere is broken.
  EXPECT_TRUE(browser.wait_for("document.getElementById('live').dataset.loaded === '1'", 10));
  EXPECT_EQ(browser.eval("document.getElementById('no-signal').hidden"), true);
  EXPECT_EQ(browser.eval("[...document.images].filter(i => !i.hidden && i.complete && i.naturalWidth === 0).length"), 0);
  browser.screenshot(dir / "status-page.png");
  EXPECT_GT(fs::file_size(dir / "status-page.png"), 10000u);

  // The black ends: OK again, the band stays on the timeline, ended.
  ASSERT_TRUE(browser.wait_for("document.getElementById('state').textContent === 'OK'", 20)) << avmon.err();
  EXPECT_EQ(browser.eval("document.title"), "OK · night.mp4 — avmon");
  EXPECT_EQ(browser.eval("document.getElementById('timeline').dataset.types"), "black");
  EXPECT_TRUE(browser.wait_for("document.querySelectorAll('#alarms li.alarm').length === 0", 2));

  // The history the graphs are drawn from: the defect with wall-clock onset
  // and end, and one loudness point a second.
  auto h = nlohmann::json::parse(http_get(port, "/api/v1/history").body);
  ASSERT_EQ(h["defects"].size(), 1u) << h.dump();
  const auto& d = h["defects"][0];
  EXPECT_EQ(d["type"], "black");
  EXPECT_EQ(d["severity"], "critical");
  EXPECT_NEAR(d["media_time"].get<double>(), 2.0, 0.05);
  ASSERT_TRUE(d["end_ms"].is_number()) << d.dump();
  // Fourteen seconds of black on the wall clock, within what dating a line
  // back by the media since it allows (the realtime pace and the line's delay).
  EXPECT_NEAR((d["end_ms"].get<double>() - d["start_ms"].get<double>()) / 1000.0, 14.0, 1.0) << d.dump();
  const auto& points = h["loudness"]["points"];
  ASSERT_GE(points.size(), 8u);
  for (size_t i = 1; i < points.size(); ++i) EXPECT_GT(points[i][0].get<double>(), points[i - 1][0].get<double>());
  EXPECT_EQ(h["loudness"]["target_lufs"], -23.0);
  // With since, only what came after.
  const auto last_ms = points.back()[0].get<std::int64_t>();
  auto later = nlohmann::json::parse(http_get(port, "/api/v1/history?since=" + std::to_string(last_ms)).body);
  for (const auto& p : later["loudness"]["points"]) EXPECT_GT(p[0].get<std::int64_t>(), last_ms);
  EXPECT_LE(later["loudness"]["points"].size(), 3u);
  avmon.signal(SIGTERM);
  EXPECT_EQ(avmon.wait(30), 0) << avmon.err();
}

// The operator's actions, clicked as an operator would: a mask with a wrong
// token is refused and says so, with the right one it is set through the
// alarms API; the alarm, latched after it clears, stays listed until it is
// acknowledged from the page (the token remembered for the tab), and the
// acknowledgement is an event line with who gave it.
TEST(StatusPage, MaskAndAcknowledgeFromThePageWithTheOperatorToken) {
  AVMON_REQUIRE_PROGRAM(chromium, "chromium");
  auto dir = scratch_dir("status-page-ack");
  // Black from 2 s to 12 s, then programme until 20 s.
  auto clip = make_clip(dir, "studio.mp4", 20, "drawbox=enable='between(t,2,11.999)':color=black:t=fill");
  const int port = free_port();
  std::ofstream(dir / "avmon.yaml") << "http:\n  listen: 127.0.0.1:" << port << "\n"
                                    << "alarms:\n  types:\n    black: {latch: true}\n";
  const std::string token = "page-token-3e7a";
  Browser browser(chromium, dir / "chromium");
  Process avmon({avmon_binary(), "run", "--realtime", "--input", clip.string(), "--events",
                 (dir / "events.jsonl").string(), "--config", (dir / "avmon.yaml").string()},
                dir, "avmon", {{"AVMON_HTTP__API_TOKEN", token}});
  ASSERT_TRUE(wait_for_port(port, 15)) << avmon.err();
  browser.open("http://127.0.0.1:" + std::to_string(port) + "/");

  const std::string alarm = "document.querySelector('#alarms li.alarm[data-type=\"black\"]')";
  ASSERT_TRUE(browser.wait_for(alarm + " && " + alarm + ".dataset.state === 'active'", 20))
      << js_string(browser.eval("document.getElementById('alarms').outerHTML")) << avmon.err();
  const std::string id = js_string(browser.eval(alarm + ".dataset.id"));
  EXPECT_EQ(browser.eval("document.getElementById('api-note').hidden"), true);

  // Mask: the dialog asks for the token; a wrong one is refused (401).
  browser.eval(alarm + ".querySelector('button.mask').click()");
  ASSERT_TRUE(browser.wait_for("document.getElementById('auth').open", 5));
  EXPECT_EQ(browser.eval("document.getElementById('auth-title').textContent"), "Mask alarms of type black");
  EXPECT_EQ(browser.eval("document.getElementById('mask-for-row').hidden"), false);
  browser.eval("document.getElementById('token').value = 'not-the-token'");
  browser.eval("document.getElementById('auth-ok').click()");
  ASSERT_TRUE(browser.wait_for("document.getElementById('auth-error').textContent !== ''", 5));
  EXPECT_EQ(browser.eval("document.getElementById('auth-error').textContent"), "The token was refused (HTTP 401).");
  EXPECT_EQ(browser.eval("document.getElementById('auth').open"), true);
  // The right token, typed as keystrokes into the field.
  browser.eval("document.getElementById('token').value = ''; document.getElementById('token').focus()");
  browser.type(token);
  browser.eval("document.getElementById('auth-ok').click()");
  ASSERT_TRUE(browser.wait_for("document.body.dataset.lastAction === 'mask:" + id + ":201'", 5))
      << browser.eval("document.body.dataset.lastAction") << browser.eval("document.getElementById('auth-error').textContent");
  EXPECT_EQ(browser.eval("document.getElementById('auth').open"), false);
  auto masks = nlohmann::json::parse(http_get(port, "/api/v1/masks").body);
  bool page_mask = false;
  for (const auto& m : masks.is_array() ? masks : masks.value("masks", nlohmann::json::array()))
    if (m.value("name", "") == "page-black") {
      page_mask = true;
      EXPECT_EQ(m["types"], nlohmann::json::array({"black"})) << m.dump();
      EXPECT_EQ(m["origin"], "api") << m.dump();
      EXPECT_TRUE(m["until"].is_string()) << m.dump();
    }
  EXPECT_TRUE(page_mask) << masks.dump();
  // The mask is in the recent events, saying what it did.
  EXPECT_TRUE(browser.wait_for("[...document.querySelectorAll('#events li')].some(li => li.textContent.endsWith("
                               "'alarm.mask page-black set (black)'))", 5))
      << js_string(browser.eval("document.getElementById('events').textContent"));

  // The black ends: the alarm is latched and stays listed, not acknowledged.
  ASSERT_TRUE(browser.wait_for(alarm + " && " + alarm + ".dataset.state === 'latched'", 20))
      << js_string(browser.eval("document.getElementById('alarms').outerHTML")) << avmon.err();
  EXPECT_EQ(browser.eval(alarm + ".dataset.acked"), "0");
  EXPECT_EQ(browser.eval(alarm + ".dataset.id"), id);
  // Not OK while it waits for someone: a warning, saying why.
  ASSERT_TRUE(browser.wait_for("document.getElementById('state').textContent === 'WARNING'", 5))
      << js_string(browser.eval("document.getElementById('head').outerHTML"));
  EXPECT_EQ(browser.eval("document.getElementById('reasons').textContent"), "black (latched)");
  // docs/status-page-latched.png comes from here.
  browser.screenshot(dir / "status-page-latched.png");

  // Acknowledge: the token is remembered for the tab, one click more.
  browser.eval(alarm + ".querySelector('button.ack').click()");
  ASSERT_TRUE(browser.wait_for("document.getElementById('auth').open", 5));
  EXPECT_EQ(browser.eval("document.getElementById('auth-title').textContent"), "Acknowledge alarm");
  EXPECT_EQ(browser.eval("document.getElementById('token').value"), token);
  browser.eval("document.getElementById('auth-ok').click()");
  ASSERT_TRUE(browser.wait_for("document.body.dataset.lastAction === 'ack:" + id + ":200'", 5))
      << browser.eval("document.body.dataset.lastAction") << browser.eval("document.getElementById('auth-error').textContent");
  // A latched alarm acknowledged is cleared: off the list.
  EXPECT_TRUE(browser.wait_for("!document.querySelector('#alarms li.alarm[data-id=\"" + id + "\"]')", 5))
      << js_string(browser.eval("document.getElementById('alarms').outerHTML"));
  EXPECT_TRUE(browser.wait_for("document.getElementById('state').textContent === 'OK'", 5))
      << js_string(browser.eval("document.getElementById('head').outerHTML"));
  auto listed = nlohmann::json::parse(http_get(port, "/api/v1/alarms/" + id).body);
  EXPECT_EQ(listed["state"], "cleared") << listed.dump();
  EXPECT_EQ(listed["acked"]["by"], "status page") << listed.dump();

  ASSERT_EQ(avmon.wait(60), 0) << avmon.err();
  int acks = 0;
  for (const auto& l : read_json_lines(dir / "events.jsonl"))
    if (l["kind"] == "alarm.ack") {
      ++acks;
      EXPECT_EQ(l["id"], id);
      EXPECT_EQ(l["details"]["by"], "status page") << l.dump();
    }
  EXPECT_EQ(acks, 1);
}

TEST(StatusPage, NoSignalIsDrawnByThePageNotABrokenImage) {
  AVMON_REQUIRE_PROGRAM(chromium, "chromium");
  auto dir = scratch_dir("status-page-down");
  // A UDP input with nothing sending to it: the input never comes up.
  const int udp = free_port(), port = free_port();
  Process avmon({avmon_binary(), "run", "--input", "udp://127.0.0.1:" + std::to_string(udp) + "?timeout=20000000",
                 "--events", (dir / "events.jsonl").string(), "--http", "127.0.0.1:" + std::to_string(port)},
                dir, "avmon");
  ASSERT_TRUE(wait_for_port(port, 15)) << avmon.err();
  Browser browser(chromium, dir / "chromium");
  browser.open("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_TRUE(browser.wait_for("document.getElementById('state').textContent === 'NO SIGNAL'", 15));
  EXPECT_TRUE(std::regex_match(js_string(browser.eval("document.title")), std::regex("NO SIGNAL · .* — avmon")))
      << browser.eval("document.title");
  // Two picture refreshes later: the page's own panel, no image element
  // pointing at a picture that is not there.
  ASSERT_TRUE(browser.wait_for("document.getElementById('no-signal').dataset.shown === '1'", 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(browser.eval("document.getElementById('no-signal').hidden"), false);
  EXPECT_EQ(browser.eval("document.getElementById('no-signal').textContent"), "NO SIGNALinput down");
  EXPECT_EQ(browser.eval("document.getElementById('live').hidden"), true);
  EXPECT_EQ(browser.eval("document.getElementById('live').hasAttribute('src')"), false);
  EXPECT_EQ(browser.eval("[...document.images].filter(i => !i.hidden && i.complete && i.naturalWidth === 0).length"), 0);
  EXPECT_EQ(browser.eval("document.getElementById('loudness-graph').dataset.points"), "0");
  browser.screenshot(dir / "status-page-down.png");
  avmon.signal(SIGTERM);
  avmon.wait(30);
}

}  // namespace
}  // namespace avmon::test
