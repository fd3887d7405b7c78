// The HTTP server in-process, spoken to over raw loopback sockets: the
// framing of every kind of answer, keep-alive, and what it does with
// requests that are not HTTP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "app/telemetry.hpp"
#include "http/server.hpp"

namespace avmon {
namespace {

// A blocking loopback client with a read deadline.
class Client {
 public:
  explicit Client(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) { ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  // Reads until `done(received)` or the peer closes or timeout_s passes.
  std::string read_until(const std::function<bool(const std::string&)>& done, double timeout_s = 5) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (!done(in_)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      in_.append(buf, static_cast<std::size_t>(n));
    }
    return in_;
  }
  // One whole response (head and, unless it answers a HEAD, a
  // Content-Length body), removed from the input.
  std::string response(bool to_head = false, double timeout_s = 5) {
    auto whole = [to_head](const std::string& s) -> std::size_t {
      auto end = s.find("\r\n\r\n");
      if (end == std::string::npos) return 0;
      auto cl = s.find("Content-Length: ");
      std::size_t len = to_head || cl == std::string::npos || cl > end ? 0 : std::stoul(s.substr(cl + 16));
      return s.size() >= end + 4 + len ? end + 4 + len : 0;
    };
    read_until([&](const std::string& s) { return whole(s) > 0; }, timeout_s);
    std::size_t n = whole(in_);
    std::string r = in_.substr(0, n);
    in_.erase(0, n);
    return r;
  }
  // True once the peer has closed the connection.
  bool closed_by_peer(double timeout_s = 5) {
    read_until([&](const std::string&) { return closed_; }, timeout_s);
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false, closed_ = false;
  std::string in_;
};

struct Served {
  Telemetry telemetry{"file.mp4", "file.mp4"};
  std::unique_ptr<HttpServer> server = start_http_server("127.0.0.1:0", telemetry);
};

TEST(HttpServer, AnswersAreFramedWithLengthAndKeptAlive) {
  Served s;
  Client c(s.server->port());
  ASSERT_TRUE(c.connected());
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.response(), "HTTP/1.1 200 OK\r\nServer: avmon/" AVMON_VERSION
                          "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: 15\r\n\r\n"
                          "{\"status\":\"ok\"}");
  // The same connection answers again: HEAD has the length but no body.
  c.send("HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.response(true), "HTTP/1.1 404 Not Found\r\nServer: avmon/" AVMON_VERSION
                          "\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nContent-Length: 10\r\n\r\n");
  c.send("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(c.response(), "HTTP/1.1 405 Method Not Allowed\r\nServer: avmon/" AVMON_VERSION
                          "\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n");
  c.send("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string r = c.response();
  EXPECT_EQ(r.substr(0, 37), "HTTP/1.1 503 Service Unavailable\r\nSer") << r;
  EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos) << r;
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, Http10ClosesUnlessAskedToKeepAlive) {
  Served s;
  {
    Client c(s.server->port());
    c.send("GET /healthz HTTP/1.0\r\n\r\n");
    std::string r = c.response();
    EXPECT_EQ(r.substr(0, 17), "HTTP/1.0 200 OK\r\n") << r;
    EXPECT_EQ(r.find("Connection:"), std::string::npos) << r;
    EXPECT_TRUE(c.closed_by_peer());
  }
  Client c(s.server->port());
  c.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string r = c.response();
  EXPECT_NE(r.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << r;
  c.send("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(c.response().substr(0, 17), "HTTP/1.0 200 OK\r\n");
}

}  // namespace
}  // namespace avmon
