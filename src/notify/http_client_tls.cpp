#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl.hpp>

#include "notify/http_client_impl.hpp"

namespace avmon::http_client {

namespace asio = boost::asio;
namespace beast = boost::beast;

HttpReply exchange_tls(asio::io_context& ioc, const Exchange& x, const std::string& ca_file) {
  HttpReply reply;
  beast::error_code ec;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (ca_file.empty()) ctx.set_default_verify_paths();
  else ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  // SNI, and the certificate must name the host we asked for.
  SSL_set_tlsext_host_name(stream.native_handle(), x.url.host.c_str());
  stream.set_verify_callback(asio::ssl::host_name_verification(x.url.host));
  // One deadline for the whole attempt: connect, handshake, send, receive.
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(x.timeout);
  tcp.async_connect(x.endpoints, [&](beast::error_code e, const auto&) { ec = e; });
  run(ioc, x);
  if (ec) {
    reply.error = "connect " + x.url.host + ":" + x.url.port + ": " + ec.message();
    return reply;
  }
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  run(ioc, x);
  if (ec) {
    reply.error = "TLS handshake with " + x.url.host + ": " + ec.message();
    return reply;
  }
  asio::async_write(stream, asio::buffer(x.request), [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc, x);
  if (ec) {
    reply.error = "send: " + ec.message();
    return reply;
  }
  beast::flat_buffer buffer;
  Response res;
  beast::http::async_read(stream, buffer, res, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc, x);
  if (ec) {
    reply.error = "receive: " + ec.message();
    return reply;
  }
  reply = reply_from(res);
  tcp.expires_after(std::chrono::seconds(1));
  stream.async_shutdown([](beast::error_code) {});
  // Bounded by its own second; the answer is in, a cancel must not lose it.
  run(ioc, Exchange{x.url, x.endpoints, x.request, x.timeout, nullptr});
  return reply;
}

}  // namespace avmon::http_client
