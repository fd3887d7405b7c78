// The HTTP server's request path on raw bytes, without sockets: what a client
// sends on one connection goes through the request parser the sessions use
// (Beast's, as http::async_read configures it), and each request parsed is
// answered by the session's own respond() with the real routes (/metrics,
// /status, /healthz, /readyz, the status page, thumbnails) over a telemetry
// that has a format, an open defect and a notifier. Requests follow one
// another (keep-alive, pipelining) until the bytes end, one is malformed or
// one asks to close. Never a crash or a sanitizer report; every answer is
// framed: one head ending in an empty line, a Content-Length equal to the
// body of a GET (no body for HEAD), JSON bodies parse (valid UTF-8), and no
// answer shows the credentials of the input URL (unless the request itself
// sent them: an error may quote a malformed field). The alarm API (/api/v1)
// answers over a book with an open alarm and a token, so that its bodies
// (JSON from the outside) and its authorization header are fuzzed too.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <nlohmann/json.hpp>

#include "alarms/alarm_book.hpp"
#include "app/telemetry.hpp"
#include "http/session_impl.hpp"
#include "util/url.hpp"

namespace {

namespace http = boost::beast::http;

avmon::Telemetry& telemetry() {
  // An input URL with credentials, redacted as avmon does before the
  // telemetry sees it: they must never show in an answer.
  static avmon::Telemetry t(avmon::redact_url("srt://user:pw-f6e1d@127.0.0.1:5000?passphrase=tok-9c2a"), "fuzz");
  static const bool ready = [] {
    avmon::StreamInfo info;
    info.has_video = info.has_audio = info.live = true;
    info.width = 64;
    info.height = 48;
    info.frame_rate = 25;
    info.video_codec = "h264";
    info.sample_rate = 48000;
    info.channels = 2;
    info.audio_codec = "aac";
    t.set_format(info);
    t.set_input_up(true);
    t.set_types({"black", "silence", "signal_loss"}, {"black"});
    t.on_event({{"kind", "defect.start"}, {"id", "00112233aabbccdd"}, {"stream", "fuzz"}, {"type", "black"},
                {"severity", "major"}, {"media_time", 1.5}});
    t.set_notifiers({{"webhook", std::make_shared<avmon::NotifierCounters>()}});
    return true;
  }();
  (void)ready;
  return t;
}

struct NoSink : avmon::EventSink {
  void emit(const nlohmann::json&) override {}
};

avmon::HttpState& state() {
  static NoSink sink;
  static avmon::AlarmBook book(avmon::AlarmsConfig{}, "fuzz", sink);
  static avmon::HttpState s(telemetry(), avmon::ApiSettings{&book, "fuzz-token", false});
  static const bool ready = [] {
    book.emit({{"kind", "defect.start"}, {"id", "00112233aabbccdd"}, {"stream", "fuzz"}, {"type", "black"},
               {"detector", "black"}, {"severity", "major"}, {"media_time", 1.5}});
    return true;
  }();
  (void)ready;
  return s;
}

// `sent`: every byte the client sent. A secret the client itself sent may
// come back (an error message quoting a malformed field): that is no leak.
void check_framed(const avmon::http_session::Response& r, bool head_request, std::string_view sent) {
  const std::string& h = r.head;
  if (h.rfind("HTTP/", 0) != 0 || h.size() < 4 || h.compare(h.size() - 4, 4, "\r\n\r\n") != 0) std::abort();
  // Nothing from the request may open a header line or end the head early.
  if (h.find("\r\n\r\n") != h.size() - 4) std::abort();
  auto at = h.find("\r\nContent-Length: ");
  if (at == std::string::npos) std::abort();
  std::size_t length = std::strtoull(h.c_str() + at + 18, nullptr, 10);
  if (!head_request && length != r.body.size()) std::abort();
  if (head_request && !r.body.empty()) std::abort();
  for (const char* secret : {"pw-f6e1d", "tok-9c2a"})
    if (sent.find(secret) == std::string_view::npos &&
        (h.find(secret) != std::string::npos || r.body.find(secret) != std::string::npos))
      std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int requests = 0; !rest.empty() && requests < 16; ++requests) {
    // As http::async_read(stream, buffer, message) sets it up.
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == http::error::need_more) {
        // Every byte left was offered: the parser needs bytes the client
        // never sent, so the peer has closed the connection. (A session
        // offers the parser its unconsumed bytes again only with more behind
        // them; offering the same bytes again breaks the chunk parser's
        // assumptions.) A message that is not complete then (a chunked body
        // cut short) is never answered: put_eof does not always say so.
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return 0;
        break;
      }
      if (ec) return 0;  // the session closes the connection
      if (used == 0 && !parser.is_done()) return 0;  // no progress: never loop
    }
    const auto& req = parser.get();
    avmon::http_session::Response res = avmon::http_session::respond(req, telemetry(), &state());
    const bool head_request = req.method() == http::verb::head;
    check_framed(res, head_request, std::string_view(reinterpret_cast<const char*>(data), size));
    if (!head_request && res.head.find("Content-Type: application/json") != std::string::npos) {
      nlohmann::json body = nlohmann::json::parse(res.body);  // throws on invalid JSON or UTF-8
      if (body.is_discarded()) std::abort();
    }
    if (!res.keep_alive) break;
  }
  return 0;
}
