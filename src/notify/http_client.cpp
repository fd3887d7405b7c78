#include "notify/http_client.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

namespace avmon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

HttpUrl parse_http_url(const std::string& url) {
  HttpUrl u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    u.tls = true;
  } else {
    throw std::invalid_argument("'" + url + "': expected an http:// or https:// URL");
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
  if (u.host.empty() || u.port.empty()) throw std::invalid_argument("'" + url + "': no host");
  return u;
}

namespace {

// Runs the queued asynchronous operations to completion: the stream's
// deadline (expires_after) then bounds connect, handshake, write and read.
void run(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

// One request and its response over a connected (and, for TLS, handshaken) stream.
template <class Stream>
HttpReply exchange(Stream& stream, asio::io_context& ioc, const HttpUrl& url,
                   const std::map<std::string, std::string>& headers, const std::string& body) {
  HttpReply reply;
  beast::error_code ec;
  http::request<http::string_body> req{http::verb::post, url.target, 11};
  req.set(http::field::host, url.host + ":" + url.port);
  req.set(http::field::user_agent, std::string("avmon/") + AVMON_VERSION);
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) {
    reply.error = "send: " + ec.message();
    return reply;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::async_read(stream, buffer, res, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) {
    reply.error = "receive: " + ec.message();
    return reply;
  }
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

}  // namespace

HttpReply http_post(const HttpUrl& url, const std::map<std::string, std::string>& headers, const std::string& body,
                    double timeout_s, const std::string& ca_file) {
  HttpReply reply;
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    auto timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
    beast::error_code ec;
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) {
      reply.error = "resolve " + url.host + ": " + ec.message();
      return reply;
    }
    auto connect = [&](beast::tcp_stream& s) {
      s.expires_after(timeout);
      s.async_connect(endpoints, [&](beast::error_code e, const auto&) { ec = e; });
      run(ioc);
      if (ec) reply.error = "connect " + url.host + ":" + url.port + ": " + ec.message();
      return !ec;
    };
    if (!url.tls) {
      beast::tcp_stream stream(ioc);
      if (!connect(stream)) return reply;
      reply = exchange(stream, ioc, url, headers, body);
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      return reply;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    if (ca_file.empty()) ctx.set_default_verify_paths();
    else ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    // SNI, and the certificate must name the host we asked for.
    SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    if (!connect(beast::get_lowest_layer(stream))) return reply;
    stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    run(ioc);
    if (ec) {
      reply.error = "TLS handshake with " + url.host + ": " + ec.message();
      return reply;
    }
    reply = exchange(stream, ioc, url, headers, body);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    stream.async_shutdown([](beast::error_code) {});
    run(ioc);
  } catch (const std::exception& e) {
    reply.status = 0;
    reply.error = e.what();
  }
  return reply;
}

}  // namespace avmon
