// The alarm API (src/http/api_alarms.cpp): routes as plain data, then the
// same over a real server and socket (authorization header, bodies, 4xx).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include <gtest/gtest.h>

#include "alarms/alarm_book.hpp"
#include "app/telemetry.hpp"
#include "http/api_alarms.hpp"
#include "http/server.hpp"
#include "notify/notifier.hpp"
#include "support/events.hpp"

namespace avmon {
namespace {

using test::Lines;

nlohmann::json start(const std::string& id, const std::string& type) {
  return {{"kind", "defect.start"}, {"id", id}, {"stream", "s1"}, {"type", type}, {"detector", type},
          {"media_time", 1.0}, {"wall_time", "2026-12-01T12:00:00.000Z"}, {"severity", "critical"},
          {"details", nlohmann::json::object()}};
}

struct ApiTest : ::testing::Test {
  Lines lines;
  AlarmBook book{AlarmsConfig{}, "s1", lines};
  ApiSettings api{&book, "s3cret-token", false};
  HttpAnswer call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& auth = "Bearer s3cret-token") {
    auto a = route_api({method, target, auth, body}, api);
    EXPECT_TRUE(a.has_value()) << target;
    return a ? *a : HttpAnswer{};
  }
  static nlohmann::json json(const HttpAnswer& a) { return nlohmann::json::parse(a.body); }
};

TEST_F(ApiTest, ListsAlarmsWithTheContractFields) {
  book.emit(start("00000000000000a1", "black"));
  HttpAnswer a = call("GET", "/api/v1/alarms", "", "");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "application/json");
  auto list = json(a);
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 1u);
  for (const char* k : {"id", "type", "severity", "state", "since", "acked", "masked"})
    EXPECT_TRUE(list[0].contains(k)) << k;
  EXPECT_EQ(list[0]["state"], "active");
  EXPECT_TRUE(list[0]["acked"].is_null());
  EXPECT_EQ(json(call("GET", "/api/v1/alarms/00000000000000a1", "", ""))["type"], "black");
  EXPECT_EQ(call("GET", "/api/v1/alarms/0000000000000000", "", "").status, 404);
  EXPECT_FALSE(route_api({"GET", "/status", "", ""}, api).has_value());
  EXPECT_FALSE(route_api({"GET", "/api/v1/reports/loudness", "", ""}, api).has_value());  // not the alarm API's
}

TEST_F(ApiTest, ChangesNeedTheBearerTokenAndAreRefusedWithoutOneConfigured) {
  book.emit(start("00000000000000a1", "black"));
  const std::string body = R"({"by": "jo", "comment": "looking"})";
  HttpAnswer a = call("POST", "/api/v1/alarms/00000000000000a1/ack", body, "");
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.extra_headers.find("WWW-Authenticate: Bearer"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/alarms/00000000000000a1/ack", body, "Bearer wrong").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/alarms/00000000000000a1/ack", body, "Basic czNjcmV0LXRva2Vu").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/alarms/00000000000000a1/ack", body, "Bearer s3cret-token-").status, 401);
  EXPECT_EQ(call("PUT", "/api/v1/masks/m", "{}", "").status, 401);
  EXPECT_EQ(call("DELETE", "/api/v1/masks/m", "", "").status, 401);
  api.token.clear();
  a = call("POST", "/api/v1/alarms/00000000000000a1/ack", body);
  EXPECT_EQ(a.status, 403);
  EXPECT_NE(json(a)["error"].get<std::string>().find("http.api_token"), std::string::npos);
  EXPECT_EQ(call("PUT", "/api/v1/masks/m", "{}", "Bearer ").status, 403);
  // Reads stay open unless configured otherwise.
  EXPECT_EQ(call("GET", "/api/v1/alarms", "", "").status, 200);
  api.token = "s3cret-token";
  api.read_needs_token = true;
  EXPECT_EQ(call("GET", "/api/v1/alarms", "", "").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/alarms").status, 200);
  EXPECT_TRUE(lines.all.size() == 1u);  // nothing was acknowledged
  EXPECT_TRUE(token_matches("abc", "abc"));
  EXPECT_FALSE(token_matches("abc", "abd"));
  EXPECT_FALSE(token_matches("", "abc"));
}

TEST_F(ApiTest, AcknowledgesAnAlarm) {
  book.emit(start("00000000000000a1", "black"));
  HttpAnswer a = call("POST", "/api/v1/alarms/00000000000000a1/ack", R"({"by": "jo", "comment": "looking"})");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(json(a)["acked"]["by"], "jo");
  EXPECT_EQ(json(a)["acked"]["comment"], "looking");
  EXPECT_EQ(lines.all.back()["kind"], "alarm.ack");
  EXPECT_EQ(call("POST", "/api/v1/alarms/00000000000000a1/ack", R"({"by": "al"})").status, 409);
  EXPECT_EQ(call("POST", "/api/v1/alarms/ffffffffffffffff/ack", R"({"by": "al"})").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/alarms/00000000000000a1/ack").status, 405);
}

TEST_F(ApiTest, BadBodiesAre400WithAMessage) {
  book.emit(start("00000000000000a1", "black"));
  const std::string ack = "/api/v1/alarms/00000000000000a1/ack";
  auto why = [&](const std::string& target, const std::string& body, const char* method = "POST") {
    HttpAnswer a = call(method, target, body);
    EXPECT_EQ(a.status, 400) << body;
    return json(a)["error"].get<std::string>();
  };
  EXPECT_NE(why(ack, "{\"by\": ").find("bad JSON"), std::string::npos);
  EXPECT_NE(why(ack, "[1]").find("JSON object"), std::string::npos);
  EXPECT_NE(why(ack, "{}").find("'by' is required"), std::string::npos);
  EXPECT_NE(why(ack, R"({"by": 3})").find("'by' must be a string"), std::string::npos);
  EXPECT_NE(why(ack, R"({"by": ""})").find("must not be empty"), std::string::npos);
  EXPECT_NE(why(ack, "{\"by\": \"\xff\"}").find("bad JSON"), std::string::npos);  // not UTF-8
  EXPECT_NE(why(ack, R"({"by": ")" + std::string(1001, 'x') + "\"}").find("longer"), std::string::npos);
  const std::string mask = "/api/v1/masks/night";
  EXPECT_NE(why(mask, R"({"types": "black"})", "PUT").find("'types' must be a list"), std::string::npos);
  EXPECT_NE(why(mask, R"({"types": ["bl ack"]})", "PUT").find("defect type names"), std::string::npos);
  EXPECT_NE(why(mask, R"({"until": "tomorrow"})", "PUT").find("RFC 3339"), std::string::npos);
  EXPECT_NE(why(mask, R"({"until": "2001-01-01T00:00:00Z"})", "PUT").find("in the past"), std::string::npos);
  EXPECT_NE(why("/api/v1/masks/a%20b", "{}", "PUT").find("mask name"), std::string::npos);
  EXPECT_EQ(lines.all.size(), 1u);
}

TEST_F(ApiTest, SetsListsAndRemovesMasks) {
  HttpAnswer a = call("PUT", "/api/v1/masks/night", R"({"types": ["black"], "until": "2099-01-01T00:00:00Z", "by": "ops"})");
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(json(a)["until"], "2099-01-01T00:00:00.000Z");
  EXPECT_EQ(call("PUT", "/api/v1/masks/night", R"({"types": null, "until": null})").status, 200);
  auto masks = json(call("GET", "/api/v1/masks", "", ""));
  ASSERT_EQ(masks.size(), 1u);
  EXPECT_EQ(masks[0]["types"], nlohmann::json::array());
  EXPECT_EQ(masks[0]["origin"], "api");
  EXPECT_EQ(json(call("GET", "/api/v1/masks/night", "", ""))["name"], "night");
  book.emit(start("00000000000000a1", "freeze"));
  EXPECT_EQ(lines.all.back()["masked"], true);
  EXPECT_EQ(call("DELETE", "/api/v1/masks/night").status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/masks/night").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/masks/night").status, 405);
}

TEST_F(ApiTest, TheOpenApiDocumentDescribesEveryRoute) {
  HttpAnswer a = call("GET", "/api/v1/openapi.json", "", "");
  EXPECT_EQ(a.status, 200);
  auto doc = json(a);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* p : {"/api/v1/alarms", "/api/v1/alarms/{id}", "/api/v1/alarms/{id}/ack", "/api/v1/masks",
                        "/api/v1/masks/{name}", "/api/v1/openapi.json"})
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  EXPECT_TRUE(doc["paths"]["/api/v1/alarms/{id}/ack"].contains("post"));
  EXPECT_TRUE(doc["paths"]["/api/v1/masks/{name}"].contains("put"));
  EXPECT_TRUE(doc["paths"]["/api/v1/masks/{name}"].contains("delete"));
  EXPECT_EQ(doc["paths"]["/api/v1/masks/{name}"]["put"]["responses"].count("401"), 1u);
}

// One request on a fresh connection (Connection: close), the whole answer.
std::string exchange(unsigned short port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  EXPECT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string in;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char buf[8192];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return in;
}

std::string request(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& auth) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!auth.empty()) r += "Authorization: " + auth + "\r\n";
  if (!body.empty()) r += "Content-Type: application/json\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

TEST_F(ApiTest, OverTheServer) {
  Telemetry telemetry{"file.mp4", "file.mp4"};
  auto server = start_http_server("127.0.0.1:0", telemetry, api);
  book.emit(start("00000000000000a1", "black"));
  std::string r = exchange(server->port(), request("GET", "/api/v1/alarms", "", ""));
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\"id\":\"00000000000000a1\""), std::string::npos);
  r = exchange(server->port(), request("POST", "/api/v1/alarms/00000000000000a1/ack", R"({"by":"jo"})", ""));
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  EXPECT_NE(r.find("WWW-Authenticate: Bearer realm=\"avmon\"\r\n"), std::string::npos);
  r = exchange(server->port(), request("POST", "/api/v1/alarms/00000000000000a1/ack", "{\"by\":", "Bearer s3cret-token"));
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  r = exchange(server->port(),
               request("POST", "/api/v1/alarms/00000000000000a1/ack", R"({"by":"jo","comment":"ok"})", "Bearer s3cret-token"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("\"by\":\"jo\""), std::string::npos);
  r = exchange(server->port(), request("PUT", "/api/v1/masks/night", R"({"types":["black"]})", "Bearer s3cret-token"));
  EXPECT_EQ(r.rfind("HTTP/1.1 201", 0), 0u) << r;
  r = exchange(server->port(), request("DELETE", "/api/v1/masks/night", "", "Bearer s3cret-token"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  // The rest of the server stays read-only.
  r = exchange(server->port(), request("POST", "/status", "{}", ""));
  EXPECT_EQ(r.rfind("HTTP/1.1 405", 0), 0u) << r;
}

TEST_F(ApiTest, MetricsCountAlarmsByStateAndSeverity) {
  book.emit(start("00000000000000a1", "black"));
  ASSERT_EQ(book.put_mask({"all", {}, std::nullopt, "api", ""}).status, 201);
  book.emit(start("00000000000000a2", "freeze"));
  std::string m = alarm_metrics(book);
  EXPECT_NE(m.find("avmon_alarms{stream=\"s1\",state=\"active\",severity=\"critical\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("avmon_alarms{stream=\"s1\",state=\"latched\",severity=\"minor\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("avmon_alarms_masked{stream=\"s1\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("# TYPE avmon_alarms gauge\n"), std::string::npos);
}

TEST(AlertmanagerAlarm, CarriesTheAlarmIdAndItsAcknowledgement) {
  nlohmann::json e = start("00000000000000a1", "black");
  e["alarm"] = {{"id", "00000000000000a1"}, {"since", "2026-12-01T12:00:00.000Z"},
                {"acked", {{"by", "jo"}, {"at", "2026-12-01T12:01:00.000Z"}, {"comment", "on it"}}}};
  auto alert = alertmanager_alert(e);
  EXPECT_EQ(alert["annotations"]["alarm_id"], "00000000000000a1");
  EXPECT_EQ(alert["annotations"]["acked_by"], "jo");
  EXPECT_EQ(alert["annotations"]["ack_comment"], "on it");
  EXPECT_FALSE(alert["labels"].contains("flapping"));
  // A confirmed handover keeps the original start.
  e["continues"] = "00000000000000a0";
  e["alarm"]["since"] = "2026-12-01T11:00:00.000Z";
  EXPECT_EQ(alertmanager_alert(e)["startsAt"], "2026-12-01T11:00:00.000Z");
}

}  // namespace
}  // namespace avmon
