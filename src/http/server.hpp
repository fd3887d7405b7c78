// The operator's HTTP surface on Boost.Asio/Beast, on its own thread so that
// it answers however busy the analysis is:
//   /metrics  Prometheus text format     /healthz  liveness (not wedged)
//   /readyz   media is arriving          /status   JSON
//   /         the status page            /thumbnail.jpg, /thumbnails/<id>.jpg
//   /api/v1/history  the page's last hour   /evidence/<file>  evidence clips and pictures
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/telemetry.hpp"

namespace avmon {

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // The port actually bound (useful with ADDR:0).
  virtual unsigned short port() const = 0;
};

// Binds ADDR:PORT and starts serving; throws std::runtime_error when the
// address cannot be bound.
// `api`: the alarm API's book and token (api_alarms.hpp); without a book,
// /api/v1/alarms answers 404.
struct ApiSettings;
std::unique_ptr<HttpServer> start_http_server(const std::string& listen, Telemetry& telemetry);
std::unique_ptr<HttpServer> start_http_server(const std::string& listen, Telemetry& telemetry, const ApiSettings& api);

// The pieces, for tests.
struct HttpStats;
// With `http`, the server's own figures (requests, bad requests, accept
// errors, renders) are part of it.
std::string render_metrics(const TelemetrySnapshot& s, const HttpStats* http = nullptr);
nlohmann::json render_status(const TelemetrySnapshot& s);
const std::string& status_page_html();

}  // namespace avmon
