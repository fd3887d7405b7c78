// One accepted HTTP connection. The only translation unit that instantiates
// Beast's HTTP parser and serializer (session.cpp): they are what makes a
// sanitizer build of the server slow to compile, so nothing else includes
// <boost/beast/http.hpp>.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "app/telemetry.hpp"

namespace avmon {

// Answers requests on `socket` (keep-alive) until the peer closes it, a
// read times out or an error occurs; owns the socket from here on.
void serve_connection(boost::asio::ip::tcp::socket socket, Telemetry& telemetry);

}  // namespace avmon
