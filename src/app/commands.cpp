#include "app/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "ancillary/expect.hpp"
#include "app/exit_status.hpp"
#include "app/monitor.hpp"
#include "app/signals.hpp"
#include "app/telemetry.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "input/source.hpp"
#include "notify/factory.hpp"
#include "notify/notifier.hpp"
#include "pipeline/registry.hpp"
#include "util/logging.hpp"

extern char** environ;

namespace avmon {

namespace {

// Loads the configuration and sets up logging; ConfigError propagates.
Config load(const Invocation& inv, DetectorRegistry& registry) {
  Config cfg = load_config(inv.config_path, registry, environ);
  setup_logging(inv.log_level.empty() ? cfg.log_level : inv.log_level,
                inv.log_format.empty() ? cfg.log_format : inv.log_format);
  return cfg;
}

// The operator's surface: remote notifiers, and with http.listen
// the telemetry that the monitor and the hub feed and the HTTP server reads.
// Started before the input is opened, so /healthz answers while it is down.
struct Ops {
  std::unique_ptr<Telemetry> telemetry;
  std::unique_ptr<HttpServer> http;
};

// Throws ConfigError for a bad notifier setting, std::runtime_error when
// http.listen cannot be bound.
Ops start_ops(const Config& cfg, NotifierHub& hub, const std::string& stream) {
  add_configured_notifiers(hub, cfg.notifiers, stream);
  Ops ops;
  if (cfg.http.listen.empty()) return ops;
  ops.telemetry = std::make_unique<Telemetry>(cfg.input.url, stream);
  ops.http = start_http_server(cfg.http.listen, *ops.telemetry);
  std::string prefix = cfg.http.public_url;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  ops.telemetry->set_thumbnail_prefix(prefix);
  ops.telemetry->set_notifiers(hub.counters());
  hub.set_decorator([t = ops.telemetry.get()](nlohmann::json& e) {
    t->annotate(e);
    t->on_event(e);
  });
  return ops;
}

// start_ops(), with a listen address that cannot be bound reported as bad
// usage (exit status 2) rather than as an internal error.
std::optional<Ops> try_start_ops(const Config& cfg, NotifierHub& hub, const std::string& stream) {
  try {
    return start_ops(cfg, hub, stream);
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const ConfigError*>(&e)) throw;
    spdlog::error("{}", e.what());
    return std::nullopt;
  }
}

int analyse(Config& cfg, MediaSource& source, NotifierHub& hub, const std::string& stream, Telemetry* telemetry,
            bool print_expect = false) {
  Monitor monitor(cfg, source, hub, stream);
  if (telemetry) monitor.set_telemetry(telemetry);
  std::string reason = monitor.run();
  if (print_expect) std::cout << expect::expect_yaml(monitor.summary().value("format", nlohmann::json::object()));
  hub.close();
  hub.set_decorator({});
  if (source.stats().video_frames == 0 && source.stats().audio_blocks == 0 && reason != "stopped") {
    spdlog::error("{}: no audio or video could be decoded ({})", cfg.input.url, reason);
    return exit_status::kInput;
  }
  spdlog::info("finished: {}", reason);
  return exit_status::kOk;
}

}  // namespace

int run_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  Config cfg = load(inv, registry);
  if (!inv.http_listen.empty()) cfg.http.listen = inv.http_listen;
  if (!inv.input.empty()) cfg.input.url = inv.input;
  if (inv.realtime) cfg.input.realtime = true;
  if (!inv.events.empty()) cfg.events_path = inv.events;
  if (cfg.events_path.empty()) cfg.events_path = "-";
  if (cfg.input.url.empty()) {
    std::cerr << "avmon run: no input (use --input URL or input.url in the configuration)\n";
    return exit_status::kUsage;
  }
  install_signal_handlers();
  NotifierHub hub;
  try {
    // --print-expect has stdout for itself.
    if (!(inv.print_expect && cfg.events_path == "-")) hub.add(make_jsonl_notifier(cfg.events_path));
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return exit_status::kUsage;
  }
  std::string stream = cfg.stream_name.empty() ? stream_name_from_url(cfg.input.url) : cfg.stream_name;
  std::optional<Ops> ops = try_start_ops(cfg, hub, stream);
  if (!ops) return exit_status::kUsage;
  auto source = make_av_source(cfg.input, &stop_requested());
  try {
    source->open();
  } catch (const InputError& e) {
    spdlog::error("{}", e.what());
    return exit_status::kInput;
  }
  return analyse(cfg, *source, hub, stream, ops->telemetry.get(), inv.print_expect);
}

int demo_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  Config cfg = load(inv, registry);
  if (!inv.http_listen.empty()) cfg.http.listen = inv.http_listen;
  install_signal_handlers();
  NotifierHub hub;
  bool tty = isatty(STDOUT_FILENO);
  // A person at a terminal reads one line per event; a pipe gets JSON lines.
  hub.add(tty ? make_console_notifier(stdout, true) : make_jsonl_notifier("-"));
  if (!inv.events.empty() && inv.events != "-") hub.add(make_jsonl_notifier(inv.events));
  cfg.input.url = "demo";
  if (tty) std::printf("avmon demo: 60 s generated programme; expect black at 10 s, freeze at 25 s, silence at 40 s\n");
  auto source = make_demo_source({60, !inv.fast}, &stop_requested());
  std::string stream = cfg.stream_name.empty() ? "demo" : cfg.stream_name;
  std::optional<Ops> ops = try_start_ops(cfg, hub, stream);
  if (!ops) return exit_status::kUsage;
  return analyse(cfg, *source, hub, stream, ops->telemetry.get());
}

int check_config_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  if (inv.print_defaults) {
    std::cout << default_config_yaml(registry);
    return exit_status::kOk;
  }
  if (inv.config_path.empty()) {
    std::cerr << "check-config: a configuration FILE is required\n";
    return exit_status::kUsage;
  }
  Config cfg = load(inv, registry);
  std::cout << inv.config_path << ": ok ("
            << std::count_if(cfg.detectors.begin(), cfg.detectors.end(), [](const auto& d) { return d.enabled; })
            << " detectors enabled)\n";
  return exit_status::kOk;
}

int detectors_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  load(inv, registry);
  std::cout << describe_detectors(registry);
  return exit_status::kOk;
}

}  // namespace avmon
