// The listening socket and the server's thread. Each accepted connection is
// handed to serve_connection() (session.cpp); what a path answers is
// decided in routes.cpp. One thread runs every connection, so handlers need
// no strand and the server's CPU is bounded by that one thread, which runs
// at a lower priority than the analysis (kServerNice).
#include "http/server.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "alarms/alarm_book.hpp"
#include "http/page_state.hpp"
#include "http/session.hpp"

namespace avmon {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Niceness added to the server thread's: under a flood of requests it gets
// what the analysis leaves (and never more than its one core).
constexpr int kServerNice = 5;
// Pauses between failed accepts: doubled from the first to the last.
constexpr std::chrono::milliseconds kFirstAcceptPause{50}, kLongestAcceptPause{1000};
// The status page's history (loudness, state) is sampled this often.
constexpr std::chrono::seconds kHistoryStep{1};

// One descriptor held in reserve: when the process has no other, giving it
// up lets the connection waiting in the backlog (a liveness probe, say) be
// accepted and answered.
class SpareFd {
 public:
  SpareFd() { acquire(); }
  ~SpareFd() { release(); }
  SpareFd(const SpareFd&) = delete;
  SpareFd& operator=(const SpareFd&) = delete;
  void acquire() {
    if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  // True when a descriptor was given up.
  bool release() {
    if (fd_ < 0) return false;
    ::close(fd_);
    fd_ = -1;
    return true;
  }

 private:
  int fd_ = -1;
};

class Server final : public HttpServer {
 public:
  Server(const std::string& listen, Telemetry& telemetry, const ApiSettings& api)
      : state_(telemetry, api), acceptor_(ioc_), pause_(ioc_), ticker_(ioc_) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("http listen address '" + listen + "': expected ADDR:PORT");
    std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty()) throw std::runtime_error("http listen address '" + listen + "': " + ec.message());
    tcp::endpoint ep = *results.begin();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("http: cannot listen on " + listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    accept();
    tick();
    thread_ = std::thread([this] {
      // Linux: a thread's niceness is its own (0: this thread).
      errno = 0;
      int nice = getpriority(PRIO_PROCESS, 0);
      if (errno == 0) setpriority(PRIO_PROCESS, 0, std::min(19, nice + kServerNice));
      pthread_setname_np(pthread_self(), "avmon-http");  // in top -H, and for tests
      ioc_.run();
    });
    spdlog::info("http: serving /metrics, /healthz, /readyz, /status, /api/v1 and the status page on {}:{}", host, port_);
  }
  ~Server() override {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  unsigned short port() const override { return port_; }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) return accept_failed(ec);
      if (pause_ms_.count() > 0) spdlog::info("http: accepting connections again");
      pause_ms_ = std::chrono::milliseconds(0);
      serve_connection(std::move(socket), state_);
      spare_.acquire();
      accept();
    });
  }

  // Out of file descriptors (EMFILE, ENFILE) or memory, accept() fails at
  // once and the connection stays in the backlog: accepting again straight
  // away spun a core for as long as it lasted. The spare descriptor is
  // given up first; after that, accepting pauses, longer each time.
  void accept_failed(const boost::system::error_code& ec) {
    ++state_.stats.accept_errors;
    if (spare_.release()) return accept();
    if (pause_ms_.count() == 0)
      spdlog::warn("http: cannot accept a connection: {}; trying again after pauses of up to {} s", ec.message(),
                   kLongestAcceptPause.count() / 1000);
    pause_ms_ = pause_ms_.count() == 0 ? kFirstAcceptPause : std::min(pause_ms_ * 2, kLongestAcceptPause);
    pause_.expires_after(pause_ms_);
    pause_.async_wait([this](boost::system::error_code wait_ec) {
      if (wait_ec) return;
      spare_.acquire();
      accept();
    });
  }

  void tick() {
    const nlohmann::json alarms = state_.api.alarms ? state_.api.alarms->list() : nlohmann::json();
    sample_history(state_.telemetry, alarms.is_array() ? &alarms : nullptr);
    ticker_.expires_after(kHistoryStep);
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (!ec) tick();
    });
  }

  HttpState state_;  // outlives the connections, whose handlers ioc_ holds
  SpareFd spare_;
  asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  asio::steady_timer pause_;
  asio::steady_timer ticker_;
  std::chrono::milliseconds pause_ms_{0};
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<HttpServer> start_http_server(const std::string& listen, Telemetry& telemetry) {
  return std::make_unique<Server>(listen, telemetry, ApiSettings{});
}

std::unique_ptr<HttpServer> start_http_server(const std::string& listen, Telemetry& telemetry, const ApiSettings& api) {
  return std::make_unique<Server>(listen, telemetry, api);
}

}  // namespace avmon
