// The Session class behind serve_connection(), shared by the three files
// that define it: session.cpp (the answer), session_read.cpp (Beast's
// request parser on a stream with a timeout) and session_write.cpp (sending
// the answer). The composed asynchronous operations are what the compiler
// spends its time on (in a sanitizer build, minutes for them all in one
// file), so each file instantiates one of them.
//
// Responses are framed here rather than by Beast's serializer: they are a
// status line, a handful of fixed headers and a body already in memory, and
// the serializer's buffer-sequence machinery was most of the compile time.
#pragma once

#include <memory>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/session.hpp"

namespace avmon::http_session {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

// One response, ready to send: the status line and headers, then the body.
struct Response {
  std::string head, body;
  bool keep_alive = false;
};

using Request = http::request<http::string_body>;

// What a connection answers to one parsed request (session.cpp); also the
// entry point of fuzz/fuzz_http.cpp, which parses raw bytes with the
// parser session_read.cpp uses.
Response respond(const Request& req, Telemetry& telemetry, HttpState* state = nullptr);

// The answer to bytes the parser refused (`why`: Beast's error): 400, or
// 431 / 413 over the header / body limits; the connection then closes.
Response reject(const boost::system::error_code& why);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpState& state) : stream_(std::move(socket)), state_(state) {}
  void start() { read(); }

 private:
  void read();                                         // session_read.cpp
  void answer();                                       // session.cpp
  void refuse(const boost::system::error_code& why);  // session.cpp
  void write();                                        // session_write.cpp
  void close();                                        // session.cpp
  void discard_rest();                                 // session_read.cpp

  beast::tcp_stream stream_;
  HttpState& state_;
  beast::flat_buffer buffer_;
  Request req_;
  Response res_;
  bool refused_ = false;
  char discard_[4096];
};

}  // namespace avmon::http_session
