#include <array>

#include <boost/asio/write.hpp>

#include "http/session_impl.hpp"

namespace avmon::http_session {

void Session::write() {
  std::array<boost::asio::const_buffer, 2> buffers = {boost::asio::buffer(res_.head), boost::asio::buffer(res_.body)};
  boost::asio::async_write(stream_, buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec || !self->res_.keep_alive) return self->close();
    self->read();
  });
}

}  // namespace avmon::http_session
