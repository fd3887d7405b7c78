#include "app/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <iostream>

#include <spdlog/spdlog.h>

#include "alarms/alarm_book.hpp"
#include "ancillary/expect.hpp"
#include "app/exit_status.hpp"
#include "app/healthcheck.hpp"
#include "app/monitor.hpp"
#include "app/progress.hpp"
#include "app/reference.hpp"
#include "app/signals.hpp"
#include "app/telemetry.hpp"
#include "config/config.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "input/source.hpp"
#include "notify/factory.hpp"
#include "notify/notifier.hpp"
#include "pipeline/registry.hpp"
#include "reports/live.hpp"
#include "reports/options.hpp"
#include "util/logging.hpp"
#include "util/lost_output.hpp"
#include "util/url.hpp"

extern char** environ;

namespace avmon {

namespace {

// Loads the configuration and sets up logging; ConfigError propagates.
Config load(const Invocation& inv, DetectorRegistry& registry) {
  Config cfg = load_config(inv.config_path, registry, environ);
  std::string level = inv.log_level.empty() ? cfg.log_level : inv.log_level;
  // --quiet: warnings and errors only, unless a level is asked for explicitly.
  if (inv.quiet && inv.log_level.empty() && (level == "trace" || level == "debug" || level == "info")) level = "warn";
  setup_logging(level, inv.log_format.empty() ? cfg.log_format : inv.log_format);
  return cfg;
}

// Event lines on the terminal that also shows the progress line: written
// with the line cleared, then the line is redrawn below them.
class AroundLineNotifier final : public Notifier {
 public:
  AroundLineNotifier(std::unique_ptr<Notifier> inner, TerminalLine& line) : inner_(std::move(inner)), line_(line) {}
  std::string name() const override { return inner_->name(); }
  void deliver(const nlohmann::json& event) override {
    line_.around([&] { inner_->deliver(event); });
  }
  void close() override { inner_->close(); }
  std::shared_ptr<const NotifierCounters> counters() const override { return inner_->counters(); }

 private:
  std::unique_ptr<Notifier> inner_;
  TerminalLine& line_;
};

// Where `avmon run` reports its progress: the terminal line and the
// --progress output. Opened before analysis so that a bad path is bad usage.
struct ProgressOutputs {
  std::optional<TerminalLine> line;
  std::FILE* machine = nullptr;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned{nullptr, std::fclose};
};

// The operator's surface: remote notifiers, and with http.listen
// the telemetry that the monitor and the hub feed and the HTTP server reads.
// Started before the input is opened, so /healthz answers while it is down.
struct Ops {
  std::unique_ptr<Telemetry> telemetry;
  std::unique_ptr<HttpServer> http;
};

// Throws ConfigError for a bad notifier setting, std::runtime_error when
// http.listen cannot be bound.
Ops start_ops(const Config& cfg, NotifierHub& hub, const std::string& stream, AlarmBook& alarms) {
  add_configured_notifiers(hub, cfg.notifiers, stream);
  Ops ops;
  if (cfg.http.listen.empty()) return ops;
  ops.telemetry = std::make_unique<Telemetry>(redact_url(cfg.input.url), stream);
  ops.http = start_http_server(cfg.http.listen, *ops.telemetry,
                               ApiSettings{&alarms, cfg.http.api_token, cfg.http.api_read_token});
  std::string prefix = cfg.http.public_url;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  ops.telemetry->set_thumbnail_prefix(prefix);
  ops.telemetry->set_notifiers(hub.counters());
  // The page links an alarm's clip and pictures; /evidence/ serves them from here only.
  if (cfg.evidence.has("dir")) ops.telemetry->set_evidence_dir(cfg.evidence.get_string("dir"));
  hub.set_decorator([t = ops.telemetry.get()](nlohmann::json& e) {
    t->annotate(e);
    t->on_event(e);
  });
  return ops;
}

// start_ops(), with a listen address that cannot be bound reported as bad
// usage (exit status 2) rather than as an internal error.
std::optional<Ops> try_start_ops(const Config& cfg, NotifierHub& hub, const std::string& stream, AlarmBook& alarms) {
  try {
    return start_ops(cfg, hub, stream, alarms);
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const ConfigError*>(&e)) throw;
    spdlog::error("{}", e.what());
    return std::nullopt;
  }
}

// The alarm layer between the engine and the hub (src/alarms), with its
// state from the previous instance.
std::unique_ptr<AlarmBook> make_alarms(const Config& cfg, NotifierHub& hub, const std::string& stream) {
  auto book = std::make_unique<AlarmBook>(resolve_alarms_config(cfg.alarms, cfg.notifiers.spool_dir, stream), stream, hub);
  book->set_stop_check([] { return stop_requested().load(); });
  book->load_state();
  return book;
}

int analyse(Config& cfg, MediaSource& source, NotifierHub& hub, AlarmBook& alarms, const std::string& stream,
            Telemetry* telemetry, bool print_expect = false, ProgressOutputs* progress = nullptr) {
  // SIGHUP (logrotate) re-opens the events file while the hub lives.
  set_reopen_handler([&hub] { hub.reopen(); });
  struct Unset {
    ~Unset() { set_reopen_handler({}); }
  } unset;
  Monitor monitor(cfg, source, alarms, stream);
  alarms.start_ticker();
  if (telemetry) monitor.set_telemetry(telemetry);
  if (reports::settings().get_bool("enabled")) {
    auto live = std::make_shared<reports::LiveReports>(reports::settings().get_string("dir"), reports::report_preset(cfg));
    hub.add(reports::make_reports_notifier(live));
    monitor.set_reports(live.get());
    reports::LiveReports::publish(live);
  }
  std::optional<ProgressReporter> reporter;
  if (progress && (progress->line || progress->machine)) {
    ProgressReporter::Options o;
    o.terminal = progress->line ? &*progress->line : nullptr;
    o.machine = progress->machine;
    o.duration_s = source.live() ? 0 : source.duration_s();
    reporter.emplace(o, [&monitor, &source] {
      ProgressSample s;
      monitor.dispatcher().with_engine([&](EventEngine& e) {
        s.media_time_s = e.clock_s();
        for (const auto& [type, n] : e.defect_counts()) s.defects += n;
        s.active_defects = e.active().size();
      });
      s.video_frames = source.stats().video_frames;
      s.audio_blocks = source.stats().audio_blocks;
      return s;
    });
  }
  std::string reason = monitor.run();
  alarms.stop_ticker();
  if (reporter) reporter->finish();
  if (print_expect) std::cout << expect::expect_yaml(monitor.summary().value("format", nlohmann::json::object()));
  hub.close();
  hub.set_decorator({});
  int status = exit_status::kOk;
  // (A service that could not be decoded, e.g. scrambled, was analysed and
  // reported through its transport: not an input error.)
  if (source.stats().video_frames == 0 && source.stats().audio_blocks == 0 && reason != "stopped" &&
      !source.carries_service()) {
    spdlog::error("{}: no audio or video could be decoded ({})", redact_url(cfg.input.url), reason);
    status = exit_status::kInput;
  } else if (std::uint64_t lost = LostOutput::global().total_events_lost(); lost > 0) {
    spdlog::error("finished: {}; but {} event(s) could not be written (see the errors above)", reason, lost);
    status = exit_status::kOutputLost;
  } else {
    spdlog::info("finished: {}", reason);
  }
  if (monitor.abandoned_detectors()) {
    // A detector is still inside a call that may never return: unloading
    // its plugin or destroying its state under it would crash. Everything
    // is written and delivered by now; end here.
    spdlog::warn("exiting without waiting for the abandoned detector(s)");
    spdlog::default_logger()->flush();
    std::fflush(nullptr);
    std::_Exit(status);
  }
  return status;
}

}  // namespace

int run_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  Config cfg = load(inv, registry);
  if (!inv.http_listen.empty()) cfg.http.listen = inv.http_listen;
  if (!inv.input.empty()) cfg.input.url = inv.input;
  if (inv.realtime) cfg.input.realtime = true;
  if (!inv.program.empty()) cfg.input.program = inv.program;
  if (!inv.events.empty()) cfg.events_path = inv.events;
  if (cfg.events_path.empty()) cfg.events_path = "-";
  if (cfg.input.url.empty()) {
    std::cerr << "avmon run: no input (use --input URL or input.url in the configuration)\n";
    return exit_status::kUsage;
  }
  ProgressOutputs progress;
  if (inv.progress == "-") {
    if (inv.print_expect) {
      std::cerr << "avmon run: --progress - and --print-expect would both write to stdout\n";
      return exit_status::kUsage;
    }
    if (cfg.events_path == "-") {
      std::cerr << "avmon run: --progress - and the events would both go to stdout; give --events a file\n";
      return exit_status::kUsage;
    }
    progress.machine = stdout;
  } else if (!inv.progress.empty()) {
    progress.owned.reset(std::fopen(inv.progress.c_str(), "w"));
    if (!progress.owned) {
      std::cerr << "avmon run: cannot write progress to " << inv.progress << ": " << std::strerror(errno) << "\n";
      return exit_status::kUsage;
    }
    progress.machine = progress.owned.get();
  }
  // The line for people, only where a person looks (before any thread logs).
  if (!inv.quiet && isatty(STDERR_FILENO)) progress.line.emplace(stderr);
  install_signal_handlers();
  NotifierHub hub;
  try {
    // --print-expect has stdout for itself.
    if (!(inv.print_expect && cfg.events_path == "-")) {
      auto events = make_jsonl_notifier(cfg.events_path);
      if (progress.line && cfg.events_path == "-" && isatty(STDOUT_FILENO))
        events = std::make_unique<AroundLineNotifier>(std::move(events), *progress.line);
      hub.add(std::move(events));
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return exit_status::kUsage;
  }
  std::string stream = cfg.stream_name.empty() ? stream_name_from_url(cfg.input.url) : cfg.stream_name;
  auto alarms = make_alarms(cfg, hub, stream);
  std::optional<Ops> ops = try_start_ops(cfg, hub, stream, *alarms);
  if (!ops) return exit_status::kUsage;
  auto source = make_av_source(cfg.input, &stop_requested());
  try {
    source->open();
  } catch (const InputError& e) {
    spdlog::error("{}", e.what());
    return exit_status::kInput;
  }
  return analyse(cfg, *source, hub, *alarms, stream, ops->telemetry.get(), inv.print_expect, &progress);
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
  auto alarms = make_alarms(cfg, hub, stream);
  std::optional<Ops> ops = try_start_ops(cfg, hub, stream, *alarms);
  if (!ops) return exit_status::kUsage;
  return analyse(cfg, *source, hub, *alarms, stream, ops->telemetry.get());
}

int check_config_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  if (inv.print_defaults) {
    std::cout << default_config_yaml(registry);
    return exit_status::kOk;
  }
  if (inv.print_reference) {
    std::cout << configuration_reference(registry);
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

int healthcheck_command(const Invocation& inv) {
  std::string listen = inv.http_listen;
  if (listen.empty()) {
    DetectorRegistry registry = DetectorRegistry::builtin();
    listen = load(inv, registry).http.listen;
  }
  if (listen.empty()) {
    std::cerr << "avmon healthcheck: no HTTP server configured (http.listen, AVMON_HTTP__LISTEN or --http)\n";
    return exit_status::kUsage;
  }
  HealthAnswer a = ask_health(listen, inv.timeout_s);
  if (a.status == 200) {
    std::cout << listen << ": " << a.what << "\n";
    return exit_status::kOk;
  }
  std::cerr << "avmon healthcheck: " << listen << ": " << a.what << "\n";
  return exit_status::kUnhealthy;
}

int detectors_command(const Invocation& inv) {
  DetectorRegistry registry = DetectorRegistry::builtin();
  load(inv, registry);
  std::cout << describe_detectors(registry);
  return exit_status::kOk;
}

}  // namespace avmon
