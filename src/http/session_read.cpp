#include <chrono>

#include <boost/beast/http/read.hpp>

#include "http/session_impl.hpp"

namespace avmon::http_session {

void Session::read() {
  req_ = {};
  stream_.expires_after(std::chrono::seconds(30));
  http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->close();
    self->answer();
  });
}

}  // namespace avmon::http_session
