#include "http/routes.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <chrono>

#include "alarms/alarm_book.hpp"
#include "http/api_alarms.hpp"
#include "http/page_state.hpp"
#include "http/reports_routes.hpp"
#include "http/server.hpp"
#include "util/text.hpp"

namespace avmon {

namespace {

// A notifier worker that has not woken for this long is wedged (they wake
// at least once a second).
constexpr double kWedgedAfterS = 30;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

HttpAnswer healthz(Telemetry& telemetry) {
  // Liveness says the process is not wedged; an input that is down is the
  // monitor doing its job (signal_loss), never a reason to restart it.
  for (const auto& [name, c] : telemetry.notifiers()) {
    double silent_s = static_cast<double>(steady_ms() - c->heartbeat_ms) / 1000.0;
    if (silent_s > kWedgedAfterS) {
      nlohmann::json j = {{"status", "wedged"}, {"notifier", name}, {"silent_s", silent_s}};
      return {503, "application/json", to_json_text(j), true};
    }
  }
  return {200, "application/json", to_json_text({{"status", "ok"}}), true};
}

HttpAnswer readyz(Telemetry& telemetry) {
  double age = telemetry.last_media_age_s();
  bool ready = telemetry.input_up();
  nlohmann::json j = {{"ready", ready}, {"last_media_age_s", age}};
  return {ready ? 200 : 503, "application/json", to_json_text(j), true};
}

std::string exposition(Telemetry& telemetry, HttpState* state) {
  if (!state) return render_metrics(telemetry.snapshot());
  auto now = std::chrono::steady_clock::now();
  if (!state->have_exposition || now - state->exposition_at >= kExpositionMaxAge) {
    ++state->stats.metrics_renders;
    state->exposition = render_metrics(telemetry.snapshot(), &state->stats);
    if (state->api.alarms) state->exposition += alarm_metrics(*state->api.alarms);
    state->exposition_at = now;
    state->have_exposition = true;
  }
  return state->exposition;
}

// The value of `name` in the query of `target` as a number; `fallback`
// when absent or not a number.
std::int64_t query_int(std::string_view target, std::string_view name, std::int64_t fallback) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return fallback;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      std::int64_t v = 0;
      const char* first = pair.data() + name.size() + 1;
      const auto [end, ec] = std::from_chars(first, pair.data() + pair.size(), v);
      return ec == std::errc() && end == pair.data() + pair.size() ? v : fallback;
    }
  }
  return fallback;
}

// The largest evidence file served (a clip is some 20 s of the input).
constexpr std::uintmax_t kMaxEvidenceBytes = 512u << 20;

// A file of evidence.dir by its (percent-encoded) name: clips and their
// pictures only, nothing outside the directory.
HttpAnswer evidence_file(std::string_view encoded, Telemetry& telemetry) {
  const std::string& dir = telemetry.evidence_dir();
  if (dir.empty()) return {404, "text/plain", "no evidence directory (evidence.dir)\n", true};
  std::string name;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      name.push_back(encoded[i]);
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= encoded.size() || std::from_chars(encoded.data() + i + 1, encoded.data() + i + 3, v, 16).ptr !=
                                       encoded.data() + i + 3)
      return {400, "text/plain", "bad escape in the file name\n", true};
    name.push_back(static_cast<char>(v));
    i += 2;
  }
  if (name.empty() || name.front() == '.' || name.find_first_of(std::string("/\\\0", 3)) != std::string::npos)
    return {404, "text/plain", "not found\n", true};
  std::string type;
  if (name.ends_with(".ts")) type = "video/mp2t";
  else if (name.ends_with(".mkv")) type = "video/x-matroska";
  else if (name.ends_with(".jpg")) type = "image/jpeg";
  else return {404, "text/plain", "not found\n", true};
  const std::filesystem::path file = std::filesystem::path(dir) / name;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(file, ec);
  if (ec || bytes > kMaxEvidenceBytes) return {404, "text/plain", "not found\n", true};
  std::ifstream in(file, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return {404, "text/plain", "not found\n", true};
  return {200, type, std::move(body), false};
}

HttpAnswer status(Telemetry& telemetry, const HttpState* state) {
  const TelemetrySnapshot s = telemetry.snapshot();
  nlohmann::json j = render_status(s);
  // With the alarm layer, its list decides the state: a masked alarm is a
  // warning, a latched one too, an acknowledged one still counts.
  const nlohmann::json alarms = state && state->api.alarms ? state->api.alarms->list() : nlohmann::json();
  j["state"] = page_state_json(s, telemetry.history(), wall_clock_ms(), alarms.is_array() ? &alarms : nullptr);
  return {200, "application/json", to_json_text(j), true};
}

}  // namespace

HttpAnswer route(std::string_view target, Telemetry& telemetry, HttpState* state) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", exposition(telemetry, state), true};
  if (path == "/status") return status(telemetry, state);
  if (path == "/api/v1/history")
    return {200, "application/json",
            to_json_text(telemetry.history().render(query_int(target, "since", 0), wall_clock_ms())), true};
  if (path == "/healthz") return healthz(telemetry);
  if (path == "/readyz") return readyz(telemetry);
  if (path.starts_with("/api/v1/reports/"))
    return reports_route(path, path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view());
  if (path == "/" || path == "/index.html") return {200, "text/html; charset=utf-8", status_page_html(), true};
  if (path == "/thumbnail.jpg") {
    std::string jpeg = telemetry.live_jpeg();
    if (jpeg.empty()) return {404, "text/plain", "no picture yet\n", true};
    return {200, "image/jpeg", std::move(jpeg), true};
  }
  constexpr std::string_view thumbs = "/thumbnails/";
  if (path.starts_with(thumbs) && path.size() > thumbs.size() + 4 && path.ends_with(".jpg")) {
    std::string jpeg = telemetry.thumbnail(std::string(path.substr(thumbs.size(), path.size() - thumbs.size() - 4)));
    if (jpeg.empty()) return {404, "text/plain", "unknown thumbnail\n", true};
    return {200, "image/jpeg", std::move(jpeg), false};
  }
  constexpr std::string_view evidence = "/evidence/";
  if (path.starts_with(evidence)) return evidence_file(path.substr(evidence.size()), telemetry);
  return {404, "text/plain", "not found\n", true};
}

}  // namespace avmon
