#include "http/server.hpp"

#include <atomic>
#include <cmath>
#include <chrono>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace avmon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A notifier worker that has not woken for this long is wedged (they wake
// at least once a second).
constexpr double kWedgedAfterS = 30;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

nlohmann::json format_json(const TelemetrySnapshot& s) {
  if (!s.have_format) return nullptr;
  const StreamInfo& f = s.format;
  nlohmann::json j = {{"live", f.live}, {"video", f.has_video}, {"audio", f.has_audio}};
  if (f.has_video)
    j.update({{"width", f.width}, {"height", f.height}, {"frame_rate", f.frame_rate}, {"video_codec", f.video_codec}});
  if (f.has_audio)
    j.update({{"sample_rate", f.sample_rate}, {"channels", f.channels}, {"channel_names", f.channel_names},
              {"audio_codec", f.audio_codec}});
  return j;
}

struct Reply {
  http::status status = http::status::ok;
  std::string type = "application/json", body;
  bool no_cache = true;
};

Reply route(const std::string& target, Telemetry& telemetry) {
  std::string path = target.substr(0, target.find('?'));
  if (path == "/metrics") return {http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                  render_metrics(telemetry.snapshot()), true};
  if (path == "/status") return {http::status::ok, "application/json", render_status(telemetry.snapshot()).dump(), true};
  if (path == "/healthz") {
    // Liveness says the process is not wedged; an input that is down is the
    // monitor doing its job (signal_loss), never a reason to restart it.
    nlohmann::json j = {{"status", "ok"}};
    for (const auto& [name, c] : telemetry.notifiers()) {
      double silent_s = static_cast<double>(steady_ms() - c->heartbeat_ms) / 1000.0;
      if (silent_s > kWedgedAfterS) {
        j = {{"status", "wedged"}, {"notifier", name}, {"silent_s", silent_s}};
        return {http::status::service_unavailable, "application/json", j.dump(), true};
      }
    }
    return {http::status::ok, "application/json", j.dump(), true};
  }
  if (path == "/readyz") {
    double age = telemetry.last_media_age_s();
    bool ready = telemetry.input_up();
    nlohmann::json j = {{"ready", ready}, {"last_media_age_s", age}};
    return {ready ? http::status::ok : http::status::service_unavailable, "application/json", j.dump(), true};
  }
  if (path == "/" || path == "/index.html") return {http::status::ok, "text/html; charset=utf-8", status_page_html(), true};
  if (path == "/thumbnail.jpg") {
    std::string jpeg = telemetry.live_jpeg();
    if (jpeg.empty()) return {http::status::not_found, "text/plain", "no picture yet\n", true};
    return {http::status::ok, "image/jpeg", std::move(jpeg), true};
  }
  const std::string thumbs = "/thumbnails/";
  if (path.rfind(thumbs, 0) == 0 && path.size() > thumbs.size() + 4 && path.ends_with(".jpg")) {
    std::string jpeg = telemetry.thumbnail(path.substr(thumbs.size(), path.size() - thumbs.size() - 4));
    if (jpeg.empty()) return {http::status::not_found, "text/plain", "unknown thumbnail\n", true};
    return {http::status::ok, "image/jpeg", std::move(jpeg), false};
  }
  return {http::status::not_found, "text/plain", "not found\n", true};
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Telemetry& telemetry) : stream_(std::move(socket)), telemetry_(telemetry) {}
  void start() { read(); }

 private:
  void read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->answer();
    });
  }

  void answer() {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req_.version());
    res->keep_alive(req_.keep_alive());
    res->set(http::field::server, std::string("avmon/") + AVMON_VERSION);
    if (req_.method() != http::verb::get && req_.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->set(http::field::allow, "GET, HEAD");
    } else {
      Reply r;
      try {
        r = route(std::string(req_.target()), telemetry_);
      } catch (const std::exception& e) {
        r = {http::status::internal_server_error, "text/plain", std::string(e.what()) + "\n", true};
      }
      res->result(r.status);
      res->set(http::field::content_type, r.type);
      if (r.no_cache) res->set(http::field::cache_control, "no-store");
      if (req_.method() != http::verb::head) res->body() = std::move(r.body);
      else res->content_length(r.body.size());
    }
    if (req_.method() != http::verb::head) res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  Telemetry& telemetry_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
};

class Server final : public HttpServer {
 public:
  Server(const std::string& listen, Telemetry& telemetry) : telemetry_(telemetry), acceptor_(ioc_) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("http listen address '" + listen + "': expected ADDR:PORT");
    std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    beast::error_code ec;
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
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Session>(std::move(socket), telemetry_)->start();
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

nlohmann::json render_status(const TelemetrySnapshot& s) {
  nlohmann::json j;
  j["version"] = s.version;
  j["stream"] = s.stream;
  j["input"] = {{"url", s.input}, {"up", s.input_up}, {"last_media_age_s", s.last_media_age_s}};
  j["uptime_s"] = s.uptime_s;
  j["format"] = format_json(s);
  j["frames"] = {{"video", s.pipeline.video_frames}, {"audio_blocks", s.pipeline.audio_blocks},
                 {"decode_errors", s.pipeline.decode_errors}, {"corrupt", s.pipeline.corrupt_frames}};
  j["active_defects"] = s.active;
  j["recent_events"] = s.recent;
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : s.channels) channels.push_back({{"name", c.name}, {"peak_dbfs", c.peak_dbfs}, {"rms_dbfs", c.rms_dbfs}});
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(std::round(*v * 10) / 10) : nlohmann::json(); };
  j["levels"] = {{"channels", channels},
                 {"loudness", {{"momentary_lufs", opt(s.momentary_lufs)}, {"short_term_lufs", opt(s.short_term_lufs)},
                               {"integrated_lufs", opt(s.integrated_lufs)}}}};
  nlohmann::json detectors = nlohmann::json::object();
  for (const auto& d : s.pipeline.detectors)
  {
    detectors[d.name] = {{"processed", d.processed}, {"dropped", d.dropped}, {"errors", d.errors}, {"cpu_s", d.cpu_s}};
    if (!d.levels.is_null()) detectors[d.name]["levels"] = d.levels;
  }
  j["detectors"] = detectors;
  nlohmann::json notifiers = nlohmann::json::object();
  for (const auto& [name, c] : s.notifiers)
    notifiers[name] = {{"depth", c->depth.load()}, {"delivered", c->delivered.load()}, {"retries", c->retries.load()},
                       {"dropped", c->dropped.load()}, {"rejected", c->rejected.load()}, {"disabled", c->disabled.load()}};
  j["notifiers"] = notifiers;
  return j;
}

std::unique_ptr<HttpServer> start_http_server(const std::string& listen, Telemetry& telemetry) {
  return std::make_unique<Server>(listen, telemetry);
}

}  // namespace avmon
