#include <chrono>

#include <boost/beast/http/read.hpp>

#include "http/session_impl.hpp"

namespace avmon::http_session {

void Session::read() {
  req_ = {};
  stream_.expires_after(std::chrono::seconds(30));
  http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (!ec) return self->answer();
    // Bytes that are not a request are told so (a closed socket says
    // nothing to whoever sent them); a peer that went away, mid-request or
    // not, and a timeout are not answered.
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return self->refuse(ec);
    self->close();
  });
}

void Session::discard_rest() {
  stream_.async_read_some(boost::asio::buffer(discard_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (!ec) self->discard_rest();
                          });
}

}  // namespace avmon::http_session
