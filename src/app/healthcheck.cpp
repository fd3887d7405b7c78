#include "app/healthcheck.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace avmon {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Milliseconds left until `deadline` (at least 0).
int left_ms(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  int r;
  do r = ::poll(&p, 1, left_ms(deadline));
  while (r < 0 && errno == EINTR);
  return r > 0;
}

}  // namespace

HealthAnswer ask_health(const std::string& listen, double timeout_s) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return {0, "not ADDR:PORT: '" + listen + "'"};
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  // The monitor listens on every address: ask it on loopback.
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";

  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int e = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); e != 0)
    return {0, "cannot resolve " + host + ": " + ::gai_strerror(e)};
  std::string why = "no address for " + host;
  Fd s;
  for (addrinfo* a = found; a; a = a->ai_next) {
    Fd c;
    c.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (c.fd < 0) continue;
    if (::connect(c.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      why = "cannot connect to " + listen + ": " + std::strerror(errno);
      continue;
    }
    int err = ETIMEDOUT;
    socklen_t len = sizeof err;
    if (wait_for(c.fd, POLLOUT, deadline)) ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      why = "cannot connect to " + listen + ": " + std::strerror(err);
      continue;
    }
    std::swap(s.fd, c.fd);
    break;
  }
  ::freeaddrinfo(found);
  if (s.fd < 0) return {0, why};

  std::string request = "GET /healthz HTTP/1.1\r\nHost: " + listen + "\r\nConnection: close\r\n\r\n";
  for (size_t sent = 0; sent < request.size();) {
    if (!wait_for(s.fd, POLLOUT, deadline)) return {0, "no answer from " + listen + " (timeout)"};
    ssize_t n = ::send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return {0, "cannot send to " + listen + ": " + std::strerror(errno)};
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string reply;
  while (reply.find("\r\n") == std::string::npos && reply.size() < 4096) {
    if (!wait_for(s.fd, POLLIN, deadline)) return {0, "no answer from " + listen + " (timeout)"};
    char buf[1024];
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return {0, "cannot read from " + listen + ": " + std::strerror(errno)};
    }
    reply.append(buf, static_cast<size_t>(n));
  }
  std::string status_line = reply.substr(0, reply.find("\r\n"));
  // "HTTP/1.1 200 OK"
  if (status_line.rfind("HTTP/", 0) != 0 || status_line.size() < 12) return {0, "not an HTTP answer from " + listen};
  int status = std::atoi(status_line.c_str() + status_line.find(' ') + 1);
  return {status, status_line};
}

}  // namespace avmon
