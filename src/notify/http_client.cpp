#include "notify/http_client.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "notify/http_client_impl.hpp"
#include "util/url.hpp"

namespace avmon {

namespace asio = boost::asio;
namespace http = boost::beast::http;

HttpUrl parse_http_url(const std::string& url) {
  HttpUrl u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    u.tls = true;
  } else {
    throw std::invalid_argument("'" + redact_url(url) + "': expected an http:// or https:// URL");
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (!u.host.empty() && u.host.front() == '[' && u.host.back() == ']') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty() || u.port.empty()) throw std::invalid_argument("'" + redact_url(url) + "': no host");
  return u;
}

namespace {

// Header values come from events and configuration: a CR or LF would end
// the header early and let a value inject headers of its own.
std::string header_value(const std::string& v) {
  std::string out = v;
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

// The request bytes: Beast's serializer is left out on purpose (its buffer
// sequences were most of this code's compile time); a POST of a body that
// is already in memory is a few fixed lines.
std::string request_bytes(const HttpUrl& url, const std::map<std::string, std::string>& headers,
                          const std::string& body) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  std::string r = "POST " + url.target + " HTTP/1.1\r\n";
  r += "Host: " + host + ":" + url.port + "\r\n";
  r += "User-Agent: avmon/" AVMON_VERSION "\r\n";
  r += "Content-Type: application/json\r\n";
  for (const auto& [k, v] : headers) r += header_value(k) + ": " + header_value(v) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Connection: close\r\n\r\n";
  r += body;
  return r;
}

}  // namespace

namespace http_client {

HttpReply reply_from(const Response& res) {
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = res.body();
  if (auto it = res.find(http::field::retry_after); it != res.end()) {
    std::string v(it->value());
    char* end = nullptr;
    double s = std::strtod(v.c_str(), &end);
    if (end != v.c_str() && s >= 0) reply.retry_after_s = s;  // (the HTTP-date form is treated as absent)
  }
  return reply;
}

}  // namespace http_client

void HttpCancel::cancel() {
  std::lock_guard lk(mu_);
  cancelled_ = true;
  if (running_) running_->stop();  // thread-safe; run() returns at once
}

bool HttpCancel::cancelled() const {
  std::lock_guard lk(mu_);
  return cancelled_;
}

bool HttpCancel::begin(asio::io_context& ioc) {
  // Under the lock: a cancel() cannot fall between this check and the
  // restart, which would clear its stop().
  std::lock_guard lk(mu_);
  if (cancelled_) return false;
  ioc.restart();
  running_ = &ioc;
  return true;
}

void HttpCancel::done() {
  std::lock_guard lk(mu_);
  running_ = nullptr;
}

HttpReply http_post(const HttpUrl& url, const std::map<std::string, std::string>& headers, const std::string& body,
                    double timeout_s, const std::string& ca_file, HttpCancel* cancel) {
  HttpReply reply;
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) {
      reply.error = "resolve " + url.host + ": " + ec.message();
      return reply;
    }
    std::string request = request_bytes(url, headers, body);
    http_client::Exchange x{url, endpoints, request,
                            std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)), cancel};
    return url.tls ? http_client::exchange_tls(ioc, x, ca_file) : http_client::exchange_plain(ioc, x);
  } catch (const std::exception& e) {
    reply.status = 0;
    reply.error = e.what();
  }
  return reply;
}

}  // namespace avmon
