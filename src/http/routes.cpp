#include "http/routes.hpp"

#include <chrono>

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
    state->exposition_at = now;
    state->have_exposition = true;
  }
  return state->exposition;
}

}  // namespace

HttpAnswer route(std::string_view target, Telemetry& telemetry, HttpState* state) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", exposition(telemetry, state), true};
  if (path == "/status") return {200, "application/json", to_json_text(render_status(telemetry.snapshot())), true};
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
  return {404, "text/plain", "not found\n", true};
}

}  // namespace avmon
