#include <chrono>

#include <boost/beast/http/error.hpp>

#include "http/api_alarms.hpp"
#include "http/routes.hpp"
#include "http/session_impl.hpp"

namespace avmon {

namespace http_session {

namespace {

// The status line and headers of a response to an HTTP/`version` request
// (10 or 11); `extra` is more header lines, each ending in CRLF.
std::string response_head(unsigned version, int status, bool keep_alive, const std::string& content_type,
                          bool no_store, std::size_t content_length, const std::string& extra = "") {
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  std::string h = "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10) + " " +
                  std::to_string(status) + " " + std::string(reason.data(), reason.size()) + "\r\n";
  h += "Server: avmon/" AVMON_VERSION "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  if (no_store) h += "Cache-Control: no-store\r\n";
  h += extra;
  h += "Content-Length: " + std::to_string(content_length) + "\r\n";
  // HTTP/1.1 keeps the connection unless told otherwise, HTTP/1.0 closes it.
  if (version >= 11 && !keep_alive) h += "Connection: close\r\n";
  if (version < 11 && keep_alive) h += "Connection: keep-alive\r\n";
  h += "\r\n";
  return h;
}

}  // namespace

Response respond(const Request& req, Telemetry& telemetry, HttpState* state) {
  Response res;
  res.keep_alive = req.keep_alive();
  const unsigned version = req.version();
  if (state) {
    // The alarm API (api_alarms.cpp) takes every method; the rest is read-only.
    auto target = req.target();
    ApiRequest api{std::string(req.method_string()), std::string(target.data(), target.size()),
                   std::string(req[http::field::authorization]), req.body()};
    std::optional<HttpAnswer> a;
    try {
      a = route_api(api, state->api);
    } catch (const std::exception& e) {
      a = HttpAnswer{500, "text/plain", std::string(e.what()) + "\n", true, ""};
    }
    if (a) {
      res.head = response_head(version, a->status, res.keep_alive, a->content_type, a->no_store, a->body.size(),
                               a->extra_headers);
      res.body = req.method() == http::verb::head ? std::string() : std::move(a->body);
      return res;
    }
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.head = response_head(version, 405, res.keep_alive, "", false, 0, "Allow: GET, HEAD\r\n");
  } else {
    HttpAnswer a;
    try {
      auto target = req.target();
      a = route(std::string_view(target.data(), target.size()), telemetry, state);
    } catch (const std::exception& e) {
      a = {500, "text/plain", std::string(e.what()) + "\n", true};
    }
    res.head = response_head(version, a.status, res.keep_alive, a.content_type, a.no_store, a.body.size());
    res.body = req.method() == http::verb::head ? std::string() : std::move(a.body);
  }
  return res;
}

Response reject(const boost::system::error_code& why) {
  int status = why == http::error::header_limit ? 431 : why == http::error::body_limit ? 413 : 400;
  Response res;
  res.body = "bad request: " + why.message() + "\n";
  // The request's version is unknown: answer as HTTP/1.1, and close.
  res.head = response_head(11, status, false, "text/plain", true, res.body.size());
  return res;
}

void Session::answer() {
  ++state_.stats.requests;
  res_ = respond(req_, state_.telemetry, &state_);
  write();
}

void Session::refuse(const boost::system::error_code& why) {
  ++state_.stats.bad_requests;
  refused_ = true;
  res_ = reject(why);
  write();
}

void Session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Closing with unread bytes (the rest of a refused request) would reset
  // the connection, and the peer could lose the answer before reading it.
  if (refused_ && !ec) {
    stream_.expires_after(std::chrono::seconds(2));  // however slowly it comes
    discard_rest();
  }
}

}  // namespace http_session

void serve_connection(boost::asio::ip::tcp::socket socket, HttpState& state) {
  std::make_shared<http_session::Session>(std::move(socket), state)->start();
}

}  // namespace avmon
