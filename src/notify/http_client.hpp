// A minimal blocking HTTP/1.1 POST for the notifiers' worker threads
// (Boost.Beast; kept out of headers so only one file pays Beast's compile time).
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace boost::asio {
class io_context;
}

namespace avmon {

// Aborts http_post() from another thread (the notifier's exit deadline): the
// post in progress returns at once with no answer, and so does every later
// one given the same HttpCancel.
class HttpCancel {
 public:
  void cancel();
  bool cancelled() const;
  // For http_post: the exchange about to run its event loop on `ioc` (false:
  // cancelled already); done() when it has returned.
  bool begin(boost::asio::io_context& ioc);
  void done();

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  boost::asio::io_context* running_ = nullptr;
};

struct HttpUrl {
  std::string host, port, target;  // target: path and query
  bool tls = false;                // https
};
// http[s]://host[:port][/path]; throws std::invalid_argument otherwise.
HttpUrl parse_http_url(const std::string& url);

struct HttpReply {
  int status = 0;              // 0: no answer (connection refused, timeout, ...)
  std::string error;           // why there was no answer
  std::string body;
  double retry_after_s = -1;   // Retry-After in seconds (delta form), < 0 when absent
};

// https verifies the server's certificate and name against the system's
// trust store, or against `ca_file` (PEM) when given.
HttpReply http_post(const HttpUrl& url, const std::map<std::string, std::string>& headers, const std::string& body,
                    double timeout_s, const std::string& ca_file = "", HttpCancel* cancel = nullptr);

}  // namespace avmon
