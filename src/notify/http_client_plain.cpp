#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>

#include "notify/http_client_impl.hpp"

namespace avmon::http_client {

namespace beast = boost::beast;

HttpReply exchange_plain(boost::asio::io_context& ioc, const Exchange& x) {
  HttpReply reply;
  beast::error_code ec;
  beast::tcp_stream stream(ioc);
  stream.expires_after(x.timeout);  // one deadline for the whole attempt
  stream.async_connect(x.endpoints, [&](beast::error_code e, const auto&) { ec = e; });
  run(ioc, x);
  if (ec) {
    reply.error = "connect " + x.url.host + ":" + x.url.port + ": " + ec.message();
    return reply;
  }
  boost::asio::async_write(stream, boost::asio::buffer(x.request), [&](beast::error_code e, std::size_t) { ec = e; });
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
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return reply_from(res);
}

}  // namespace avmon::http_client
