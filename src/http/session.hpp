// One accepted HTTP connection. The only translation unit that instantiates
// Beast's HTTP parser and serializer (session.cpp): they are what makes a
// sanitizer build of the server slow to compile, so nothing else includes
// <boost/beast/http.hpp>.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "http/routes.hpp"

namespace avmon {

// Answers requests on `socket` (keep-alive) until the peer closes it, a
// read times out or an error occurs; owns the socket from here on. `state`
// outlives every connection (the server's).
void serve_connection(boost::asio::ip::tcp::socket socket, HttpState& state);

}  // namespace avmon
