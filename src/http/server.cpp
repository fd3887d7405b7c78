// The listening socket and the server's thread. Each accepted connection is
// handed to serve_connection() (session.cpp); what a path answers is
// decided in routes.cpp. One thread runs every connection, so handlers need
// no strand and the server's CPU is bounded by that one thread.
#include "http/server.hpp"

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <spdlog/spdlog.h>

#include "http/session.hpp"

namespace avmon {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Server final : public HttpServer {
 public:
  Server(const std::string& listen, Telemetry& telemetry) : telemetry_(telemetry), acceptor_(ioc_) {
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
    thread_ = std::thread([this] { ioc_.run(); });
    spdlog::info("http: serving /metrics, /healthz, /readyz, /status and the status page on {}:{}", host, port_);
  }
  ~Server() override {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  unsigned short port() const override { return port_; }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) serve_connection(std::move(socket), telemetry_);
      if (acceptor_.is_open()) accept();
    });
  }

  Telemetry& telemetry_;
  asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<HttpServer> start_http_server(const std::string& listen, Telemetry& telemetry) {
  return std::make_unique<Server>(listen, telemetry);
}

}  // namespace avmon
