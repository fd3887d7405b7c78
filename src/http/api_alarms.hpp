// The alarm API under /api/v1 (docs/operations.md, Alarms): plain data in
// and out like routes.hpp, so that it is tested without a socket.
//   GET    /api/v1/alarms              list (newest first)
//   GET    /api/v1/alarms/{id}         one alarm
//   POST   /api/v1/alarms/{id}/ack     {"by": ..., "comment": ...}
//   GET    /api/v1/masks               masks and schedules
//   PUT    /api/v1/masks/{name}        {"types": [...], "until": RFC 3339 or null}
//   DELETE /api/v1/masks/{name}
//   GET    /api/v1/openapi.json        this, as OpenAPI 3
// Changes need "Authorization: Bearer <http.api_token>": 401 without it or
// with another, 403 when no token is configured (never open).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/routes.hpp"

namespace avmon {

struct ApiRequest {
  std::string method;         // GET, HEAD, POST, PUT, DELETE...
  std::string target;         // path and query
  std::string authorization;  // the header's value, empty when absent
  std::string body;
};

// The answer when `req` is for the alarm API, else nullopt (other /api/v1
// paths are answered by route()).
std::optional<HttpAnswer> route_api(const ApiRequest& req, const ApiSettings& api);

// `given` equals `expected`, in a time that depends on neither.
bool token_matches(std::string_view given, std::string_view expected);

const std::string& openapi_json();

// Prometheus text for /metrics: avmon_alarms{state, severity} (every pair,
// 0 included, so that no series vanishes), avmon_alarms_masked and
// avmon_alarms_flapping.
std::string alarm_metrics(const AlarmBook& book);

}  // namespace avmon
