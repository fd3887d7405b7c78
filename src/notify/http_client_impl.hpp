// The pieces of http_post() (http_client.cpp) shared with the two files that
// hold Beast's composed operations, one per kind of stream:
// http_client_plain.cpp (TCP) and http_client_tls.cpp (TLS). In one file,
// a sanitizer build of both took minutes; each instantiates its own.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "notify/http_client.hpp"

namespace avmon::http_client {

using Endpoints = boost::asio::ip::tcp::resolver::results_type;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// One request: where to, the request bytes (framed by http_client.cpp),
// and the deadline of each step (connect, handshake, send, receive).
struct Exchange {
  const HttpUrl& url;
  const Endpoints& endpoints;
  const std::string& request;
  std::chrono::milliseconds timeout;
  HttpCancel* cancel = nullptr;
};

// Runs the queued asynchronous operations to completion: the stream's
// deadline (expires_after) then bounds each of them, and x.cancel may end
// them early (then this throws).
inline void run(boost::asio::io_context& ioc, const Exchange& x) {
  if (x.cancel) {
    if (!x.cancel->begin(ioc)) throw std::runtime_error("cancelled");
  } else {
    ioc.restart();
  }
  ioc.run();
  if (x.cancel) {
    x.cancel->done();
    if (x.cancel->cancelled()) throw std::runtime_error("cancelled");
  }
}

// The reply for a parsed response (status, body, Retry-After).
HttpReply reply_from(const Response& res);

HttpReply exchange_plain(boost::asio::io_context& ioc, const Exchange& x);
HttpReply exchange_tls(boost::asio::io_context& ioc, const Exchange& x, const std::string& ca_file);

}  // namespace avmon::http_client
