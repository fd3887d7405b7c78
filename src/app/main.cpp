// avmon command line. Exit statuses are a contract (ARCHITECTURE.md):
//   0 done, 2 bad usage or configuration, 3 input cannot be opened / not media.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/monitor.hpp"
#include "app/telemetry.hpp"
#include "http/server.hpp"
#include "notify/factory.hpp"
#include "config/config.hpp"
#include "input/source.hpp"
#include "notify/notifier.hpp"
#include "pipeline/registry.hpp"
#include "util/logging.hpp"

extern char** environ;

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitInput = 3;

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop = true; }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

struct Common {
  std::string config_path;
  std::string log_level;
  std::string log_format;
};

// Loads the configuration and sets up logging; ConfigError propagates.
avmon::Config load(const Common& c, avmon::DetectorRegistry& registry) {
  avmon::Config cfg = avmon::load_config(c.config_path, registry, environ);
  avmon::setup_logging(c.log_level.empty() ? cfg.log_level : c.log_level,
                       c.log_format.empty() ? cfg.log_format : c.log_format);
  return cfg;
}

// The operator's surface: remote notifiers, and with http.listen
// the telemetry that the monitor and the hub feed and the HTTP server reads.
// Started before the input is opened, so /healthz answers while it is down.
struct Ops {
  std::unique_ptr<avmon::Telemetry> telemetry;
  std::unique_ptr<avmon::HttpServer> http;
};

// Throws ConfigError for a bad notifier setting, std::runtime_error when
// http.listen cannot be bound.
Ops start_ops(const avmon::Config& cfg, avmon::NotifierHub& hub, const std::string& stream) {
  avmon::add_configured_notifiers(hub, cfg.notifiers, stream);
  Ops ops;
  if (cfg.http.listen.empty()) return ops;
  ops.telemetry = std::make_unique<avmon::Telemetry>(cfg.input.url, stream);
  ops.http = avmon::start_http_server(cfg.http.listen, *ops.telemetry);
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

int analyse(avmon::Config& cfg, avmon::MediaSource& source, avmon::NotifierHub& hub, const std::string& stream,
            avmon::Telemetry* telemetry) {
  avmon::Monitor monitor(cfg, source, hub, stream);
  if (telemetry) monitor.set_telemetry(telemetry);
  std::string reason = monitor.run();
  hub.close();
  hub.set_decorator({});
  if (source.stats().video_frames == 0 && source.stats().audio_blocks == 0 && reason != "stopped") {
    spdlog::error("{}: no audio or video could be decoded ({})", cfg.input.url, reason);
    return kExitInput;
  }
  spdlog::info("finished: {}", reason);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"avmon: live audio/video stream monitor"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level and --log-format also work after the subcommand
  app.set_version_flag("--version", AVMON_VERSION);
  Common common;
  app.add_option("--log-level", common.log_level, "trace, debug, info, warn, error, critical, off");
  app.add_option("--log-format", common.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));

  auto* run = app.add_subcommand("run", "analyse an input (file or any URL FFmpeg opens)");
  std::string input, events;
  bool realtime = false;
  std::string http_listen;
  run->add_option("--input,-i", input, "input URL or file (default: input.url of the configuration)");
  run->add_option("--config,-c", common.config_path, "YAML configuration file");
  run->add_option("--events,-e", events, "write events as JSON lines to PATH ('-': stdout, the default)");
  run->add_flag("--realtime", realtime, "pace a file at its native rate, as if it were live");
  run->add_option("--http", http_listen, "serve /metrics, /healthz, /readyz, /status and the status page on ADDR:PORT");

  auto* demo = app.add_subcommand("demo", "analyse a generated stream with known black, freeze and silence");
  bool fast = false;
  demo->add_option("--events,-e", events, "also write events as JSON lines to PATH ('-': stdout)");
  demo->add_option("--config,-c", common.config_path, "YAML configuration file");
  demo->add_flag("--fast", fast, "run as fast as possible instead of in real time");
  demo->add_option("--http", http_listen, "serve /metrics, /healthz, /readyz, /status and the status page on ADDR:PORT");

  auto* check = app.add_subcommand("check-config", "validate a configuration file");
  std::string check_path;
  bool print_defaults = false;
  check->add_option("file", check_path, "configuration file");
  check->add_flag("--print-defaults", print_defaults, "print a documented configuration with every default");

  auto* list = app.add_subcommand("detectors", "list detectors and their options");
  list->add_option("--config,-c", common.config_path, "configuration (to include its plugins)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  avmon::setup_logging(common.log_level.empty() ? "info" : common.log_level,
                       common.log_format.empty() ? "text" : common.log_format);
  try {
    avmon::DetectorRegistry registry = avmon::DetectorRegistry::builtin();

    if (*check) {
      if (print_defaults) {
        std::cout << avmon::default_config_yaml(registry);
        return kExitOk;
      }
      if (check_path.empty()) {
        std::cerr << "check-config: a configuration FILE is required\n";
        return kExitUsage;
      }
      common.config_path = check_path;
      avmon::Config cfg = load(common, registry);
      std::cout << check_path << ": ok (" << std::count_if(cfg.detectors.begin(), cfg.detectors.end(),
                                                           [](const auto& d) { return d.enabled; })
                << " detectors enabled)\n";
      return kExitOk;
    }
    if (*list) {
      load(common, registry);
      std::cout << avmon::describe_detectors(registry);
      return kExitOk;
    }

    avmon::Config cfg = load(common, registry);
    if (!http_listen.empty()) cfg.http.listen = http_listen;
    install_signals();
    avmon::NotifierHub hub;

    if (*demo) {
      bool tty = isatty(STDOUT_FILENO);
      // A person at a terminal reads one line per event; a pipe gets JSON lines.
      hub.add(tty ? avmon::make_console_notifier(stdout, true) : avmon::make_jsonl_notifier("-"));
      if (!events.empty() && events != "-") hub.add(avmon::make_jsonl_notifier(events));
      cfg.input.url = "demo";
      if (tty)
        std::printf("avmon demo: 60 s generated programme; expect black at 10 s, freeze at 25 s, silence at 40 s\n");
      auto source = avmon::make_demo_source({60, !fast}, &g_stop);
      std::string stream = cfg.stream_name.empty() ? "demo" : cfg.stream_name;
      Ops ops;
      try {
        ops = start_ops(cfg, hub, stream);
      } catch (const std::runtime_error& e) {
        if (dynamic_cast<const avmon::ConfigError*>(&e)) throw;
        spdlog::error("{}", e.what());
        return kExitUsage;
      }
      return analyse(cfg, *source, hub, stream, ops.telemetry.get());
    }

    if (!input.empty()) cfg.input.url = input;
    if (realtime) cfg.input.realtime = true;
    if (!events.empty()) cfg.events_path = events;
    if (cfg.events_path.empty()) cfg.events_path = "-";
    if (cfg.input.url.empty()) {
      std::cerr << "avmon run: no input (use --input URL or input.url in the configuration)\n";
      return kExitUsage;
    }
    try {
      hub.add(avmon::make_jsonl_notifier(cfg.events_path));
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return kExitUsage;
    }
    std::string stream = cfg.stream_name.empty() ? avmon::stream_name_from_url(cfg.input.url) : cfg.stream_name;
    Ops ops;
    try {
      ops = start_ops(cfg, hub, stream);
    } catch (const std::runtime_error& e) {
      if (dynamic_cast<const avmon::ConfigError*>(&e)) throw;
      spdlog::error("{}", e.what());
      return kExitUsage;
    }
    auto source = avmon::make_av_source(cfg.input, &g_stop);
    try {
      source->open();
    } catch (const avmon::InputError& e) {
      spdlog::error("{}", e.what());
      return kExitInput;
    }
    return analyse(cfg, *source, hub, stream, ops.telemetry.get());
  } catch (const avmon::ConfigError& e) {
    spdlog::error("configuration error: {}", e.what());
    return kExitUsage;
  } catch (const avmon::RegistryError& e) {
    spdlog::error("{}", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return kExitFailure;
  }
}
