// What each path of the operator's HTTP surface answers, as plain data: no
// Beast here, so that the many translation units that decide *what* to
// answer never pay for the parser and serializer templates (session.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/telemetry.hpp"

namespace avmon {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool no_store = true;  // Cache-Control: no-store
  std::string extra_headers = "";  // more header lines, each ending in CRLF
};

class AlarmBook;

// What the alarm API (api_alarms.hpp) works on.
struct ApiSettings {
  AlarmBook* alarms = nullptr;
  std::string token;              // http.api_token; empty: changes refused
  bool read_needs_token = false;  // http.api_read_token: GETs need it too
};

// The server's own figures, exposed on /metrics.
struct HttpStats {
  std::uint64_t requests = 0;         // answered, whatever the status
  std::uint64_t bad_requests = 0;     // not HTTP, or over a size limit: answered 4xx and closed
  std::uint64_t accept_errors = 0;    // accept() failures (out of file descriptors, say)
  std::uint64_t metrics_renders = 0;  // /metrics expositions rendered (the others reuse one)
};

// A /metrics exposition is reused for this long: it takes a snapshot and a
// registry rebuilt from it (the figures change a few times a second), and a
// client asking thousands of times a second took the server's whole core
// and slowed the analysis with it.
inline constexpr std::chrono::milliseconds kExpositionMaxAge{250};

// What a server keeps between requests. Used on the server's one thread
// only, so nothing here is locked.
struct HttpState {
  explicit HttpState(Telemetry& t, ApiSettings a = {}) : telemetry(t), api(std::move(a)) {}
  Telemetry& telemetry;
  ApiSettings api;
  HttpStats stats;
  std::string exposition;
  std::chrono::steady_clock::time_point exposition_at{};
  bool have_exposition = false;
};

// The answer to a GET (or HEAD) of `target` (path and query). With a
// server's `state`, /metrics is rendered at most every kExpositionMaxAge and
// carries the server's figures.
HttpAnswer route(std::string_view target, Telemetry& telemetry, HttpState* state = nullptr);

}  // namespace avmon
