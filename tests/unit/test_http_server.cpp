// The HTTP server in-process, spoken to over raw loopback sockets: the
// framing of every kind of answer, keep-alive, and what it does with
// requests that are not HTTP.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "app/telemetry.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"

namespace avmon {
namespace {

// A blocking loopback client with a read deadline.
class Client {
 public:
  explicit Client(unsigned short port, bool connect_now = true) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (connect_now) connect();
  }
  // A socket made earlier connects without a new descriptor on this side.
  bool connect() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    return connected_;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
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
  unsigned short port_;
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

// The value of one series in an exposition (-1 when absent).
double series(const std::string& exposition, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(exposition, m, std::regex("\n" + name + R"((\{[^}]*\})? ([-0-9.e+]+)\n)"))) return -1;
  return std::stod(m[2]);
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Bytes that are not a request once closed the connection without a word.
TEST(HttpServer, MalformedRequestsAreAnswered4xxAndClosed) {
  Served s;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET /healthz HTTP/1.1 extra\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS to a plain port\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"GET / HTTP/1.1\r\nHost x\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"GET / HTTP/1.1\r\nX-Long: " + std::string(20000, 'a') + "\r\n\r\n",
       "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
  };
  for (const auto& [request, status_line] : cases) {
    Client c(s.server->port());
    ASSERT_TRUE(c.connected());
    c.send(request);
    std::string r = c.response();
    EXPECT_EQ(r.substr(0, status_line.size()), status_line) << r;
    EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos) << r;
    EXPECT_EQ(body_of(r).rfind("bad request: ", 0), 0u) << r;
    EXPECT_TRUE(c.closed_by_peer());
  }
  // A peer that closes half-way through a request is not answered.
  {
    Client c(s.server->port());
    c.send("GET /healthz HTTP/1.1\r\nHo");
  }
  Client c(s.server->port());
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string metrics = body_of(c.response());
  EXPECT_EQ(series(metrics, "avmon_http_bad_requests_total"), 4.0) << metrics;
}

// A client asking for /metrics in a tight loop gets answers rendered at
// most every kExpositionMaxAge (once, rendering each took the server's
// whole core and slowed the analysis).
TEST(HttpServer, MetricsAreRenderedAtMostFourTimesASecond) {
  Served s;
  Client c(s.server->port());
  ASSERT_TRUE(c.connected());
  constexpr int kRequests = 300;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r = c.response();
    ASSERT_EQ(r.substr(0, 17), "HTTP/1.1 200 OK\r\n") << i << ": " << r;
  }
  double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(kExpositionMaxAge + std::chrono::milliseconds(50));
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string metrics = body_of(c.response());
  double renders = series(metrics, "avmon_http_metrics_renders_total");
  // This last one is rendered anew: it counts itself, and the requests before it.
  EXPECT_GE(renders, 2.0) << metrics;
  EXPECT_LE(renders, elapsed_s / std::chrono::duration<double>(kExpositionMaxAge).count() + 2.0)
      << "in " << elapsed_s << " s";
  EXPECT_EQ(series(metrics, "avmon_http_requests_total"), kRequests + 1.0) << metrics;
}

// The thread of this process whose name is `comm`, waiting up to 5 s for
// it to name itself (0 when none does).
pid_t thread_named(const std::string& comm) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream in(t.path() / "comm");
      std::string name;
      std::getline(in, name);
      if (name == comm) return static_cast<pid_t>(std::stol(t.path().filename().string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return 0;
}

// Fields of /proc/self/task/TID/stat after the command name (field 3 first).
// Split by hand, not with a stream: it runs while the process is out of
// descriptors, where UBSan's check of a stream's virtual base cannot open
// the pipe it probes memory with and reports a false invalid vptr.
std::vector<std::string> stat_fields(const std::string& stat) {
  std::vector<std::string> f;
  std::size_t i = stat.rfind(')') + 2;
  while (i < stat.size()) {
    std::size_t end = stat.find_first_of(" \n", i);
    if (end == std::string::npos) end = stat.size();
    if (end > i) f.push_back(stat.substr(i, end - i));
    i = end + 1;
  }
  return f;
}

TEST(HttpServer, ItsThreadRunsBelowTheAnalysis) {
  Served s;
  pid_t tid = thread_named("avmon-http");
  ASSERT_NE(tid, 0);
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  errno = 0;
  int own = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  EXPECT_EQ(std::stoi(stat_fields(stat).at(16)), std::min(19, own + 5)) << stat;  // field 19: nice
}

// Out of file descriptors, accept() fails at once while the connection
// waits in the backlog: the server once retried straight away, a core
// spinning for as long as it lasted. The test process is the server's, so
// its sockets are made, and the server thread's CPU clock opened, before
// the descriptors run out.
TEST(HttpServer, OutOfDescriptorsItPausesAndRecovers) {
  Served s;
  Client scrape(s.server->port());  // connected now: needs no accept later
  ASSERT_TRUE(scrape.connected());
  Client a(s.server->port(), false), b(s.server->port(), false), c(s.server->port(), false);
  pid_t tid = thread_named("avmon-http");
  ASSERT_NE(tid, 0);
  int stat_fd = ::open(("/proc/self/task/" + std::to_string(tid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(stat_fd, 0);
  auto cpu_s = [&] {
    char buf[1024];
    ssize_t n = ::pread(stat_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1.0;
    auto f = stat_fields(std::string(buf, static_cast<std::size_t>(n)));
    return (std::stod(f.at(11)) + std::stod(f.at(12))) / static_cast<double>(sysconf(_SC_CLK_TCK));
  };

  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (fcntl(fd, F_GETFD) != -1) highest = fd;
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 1);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;  // the holes below the limit
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
  ASSERT_EQ(errno, EMFILE);

  // a takes the server's spare descriptor; b and c wait in the backlog.
  ASSERT_TRUE(a.connect());
  ASSERT_TRUE(b.connect());
  ASSERT_TRUE(c.connect());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu0 = cpu_s();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  double used_s = cpu_s() - cpu0;
  EXPECT_LT(used_s, 0.05) << "the server thread spun while out of descriptors";

  // a is still answered (the spare descriptor was its), and when it goes,
  // b is accepted on the descriptor it frees.
  a.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.response().substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_TRUE(a.closed_by_peer());
  b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(b.response(false, 5).substr(0, 17), "HTTP/1.1 200 OK\r\n");

  scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string metrics = body_of(scrape.response());
  double errors = series(metrics, "avmon_http_accept_errors_total");
  EXPECT_GE(errors, 2.0) << metrics;
  EXPECT_LE(errors, 20.0) << "accept() retried without pausing";

  for (int fd : fillers) ::close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.response(false, 5).substr(0, 17), "HTTP/1.1 200 OK\r\n");
  ::close(stat_fd);
}

}  // namespace
}  // namespace avmon
