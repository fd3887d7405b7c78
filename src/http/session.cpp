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

Response respond(const Request& req, Telemetry& telemetry) {
  Response res;
  res.keep_alive = req.keep_alive();
  const unsigned version = req.version();
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.head = response_head(version, 405, res.keep_alive, "", false, 0, "Allow: GET, HEAD\r\n");
  } else {
    HttpAnswer a;
    try {
      auto target = req.target();
      a = route(std::string_view(target.data(), target.size()), telemetry);
    } catch (const std::exception& e) {
      a = {500, "text/plain", std::string(e.what()) + "\n", true};
    }
    res.head = response_head(version, a.status, res.keep_alive, a.content_type, a.no_store, a.body.size());
    res.body = req.method() == http::verb::head ? std::string() : std::move(a.body);
  }
  return res;
}

void Session::answer() {
  res_ = respond(req_, telemetry_);
  write();
}

void Session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace http_session

void serve_connection(boost::asio::ip::tcp::socket socket, Telemetry& telemetry) {
  std::make_shared<http_session::Session>(std::move(socket), telemetry)->start();
}

}  // namespace avmon
