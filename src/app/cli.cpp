#include "app/cli.hpp"

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/exit_status.hpp"
#include "app/version.hpp"

namespace avmon {

namespace {

// Edit distance counting a swap of neighbours as one edit ("dmeo" is one
// from "demo"): optimal string alignment. Words here are a few letters long.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// Global options that take a value (so that the value is not read as the subcommand).
const std::vector<std::string> kGlobalValueOptions = {"--log-level", "--log-format"};

// The first word that is not an option or an option's value: the subcommand
// the user meant; empty when there is none.
std::string subcommand_word(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") return "";
    if (a.empty() || a[0] != '-') return a;
    if (std::find(kGlobalValueOptions.begin(), kGlobalValueOptions.end(), a) != kGlobalValueOptions.end()) ++i;
  }
  return "";
}

// For CLI11's "argument was not expected": the options given that `sub`
// (and the top level) do not know, each with the nearest known one.
std::string unknown_option_hints(const CLI::App& app, const CLI::App* sub, int argc, const char* const* argv) {
  std::vector<std::string> known;
  for (const CLI::App* a : {&app, sub}) {
    if (!a) continue;
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& n : o->get_lnames()) known.push_back("--" + n);
      for (const auto& n : o->get_snames()) known.push_back("-" + n);
    }
  }
  std::string hints;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    a = a.substr(0, a.find('='));
    if (std::find(known.begin(), known.end(), a) != known.end()) continue;
    hints += "avmon" + (sub ? " " + sub->get_name() : std::string()) + ": unknown option '" + a + "'";
    if (auto near = nearest_word(a, known)) hints += "; did you mean '" + *near + "'?";
    hints += "\n";
  }
  return hints;
}

}  // namespace

std::optional<std::string> nearest_word(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    // A prefix ("check" for "check-config") is as good as a near miss.
    if (c.size() > word.size() && word.size() >= 3 && c.compare(0, word.size(), word) == 0) d = 1;
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

const std::vector<std::string>& subcommand_names() {
  static const std::vector<std::string> names = {"run", "demo", "check-config", "detectors", "healthcheck", "report"};
  return names;
}

std::variant<Invocation, int> parse_command_line(int argc, const char* const* argv) {
  // A mistyped subcommand: CLI11 would say only that an argument was not expected.
  std::string word = subcommand_word(argc, argv);
  const auto& names = subcommand_names();
  if (!word.empty() && std::find(names.begin(), names.end(), word) == names.end()) {
    std::cerr << "avmon: '" << word << "' is not an avmon command";
    if (auto near = nearest_word(word, names)) std::cerr << "; did you mean '" << *near << "'?";
    std::cerr << "\ncommands:";
    for (const auto& n : names) std::cerr << " " << n;
    std::cerr << " (avmon --help)\n";
    return exit_status::kUsage;
  }

  Invocation inv;
  CLI::App app{"avmon: live audio/video stream monitor"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level and --log-format also work after the subcommand
  std::string version = version_text();
  if (!version.empty() && version.back() == '\n') version.pop_back();  // CLI11 adds one
  app.set_version_flag("--version", version);
  app.add_option("--log-level", inv.log_level, "trace, debug, info, warn, error, critical, off");
  app.add_option("--log-format", inv.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));

  auto* run = app.add_subcommand("run", "analyse an input (file or any URL FFmpeg opens)");
  run->add_option("FILE,--input,-i", inv.input,
                  "input URL or file (default: input.url of the configuration); `avmon run FILE` works too");
  run->add_option("--config,-c", inv.config_path, "YAML configuration file");
  run->add_option("--events,-e", inv.events, "write events as JSON lines to PATH ('-': stdout, the default)");
  run->add_flag("--realtime", inv.realtime, "pace a file at its native rate, as if it were live");
  run->add_flag("--print-expect", inv.print_expect,
                "at the end, print on stdout an expect: configuration section describing the format found "
                "(events then go only to --events PATH)");
  run->add_option("--program", inv.program,
                  "MPEG-TS: the service to monitor, by program number or service name (default: input.program, "
                  "else the first service with video)");
  run->add_option("--http", inv.http_listen, "serve /metrics, /healthz, /readyz, /status and the status page on ADDR:PORT");
  run->add_option("--progress", inv.progress,
                  "write progress as key=value lines to FILE ('-': stdout) every half second, as ffmpeg -progress");
  run->add_flag("--quiet,-q", inv.quiet, "no progress line on the terminal, and only warnings and errors");

  auto* demo = app.add_subcommand("demo", "analyse a generated stream with known black, freeze and silence");
  demo->add_option("--events,-e", inv.events, "also write events as JSON lines to PATH ('-': stdout)");
  demo->add_option("--config,-c", inv.config_path, "YAML configuration file");
  demo->add_flag("--fast", inv.fast, "run as fast as possible instead of in real time");
  demo->add_option("--http", inv.http_listen, "serve /metrics, /healthz, /readyz, /status and the status page on ADDR:PORT");

  auto* check = app.add_subcommand("check-config", "validate a configuration file");
  check->add_option("file", inv.config_path, "configuration file");
  check->add_flag("--print-defaults", inv.print_defaults, "print a documented configuration with every default");
  check->add_flag("--print-reference", inv.print_reference,
                  "print the configuration reference (Markdown tables: every key, its environment variable, "
                  "default, range and meaning)");

  auto* list = app.add_subcommand("detectors", "list detectors and their options");
  list->add_option("--config,-c", inv.config_path, "configuration (to include its plugins)");

  auto* health = app.add_subcommand(
      "healthcheck", "ask the running avmon's /healthz (the address of http.listen or --http); exit 0 healthy, 1 not");
  health->add_option("--config,-c", inv.config_path, "the configuration the monitor runs with");
  health->add_option("--http", inv.http_listen, "ADDR:PORT to ask (default: http.listen of the configuration)");
  health->add_option("--timeout", inv.timeout_s, "seconds to wait for the answer")->check(CLI::Range(0.1, 60.0));

  auto* report = app.add_subcommand(
      "report", "loudness and availability report from an events file: loudness.csv, availability.csv, report.json, "
                "report.html in DIR");
  report->add_option("EVENTS", inv.input, "events file (JSON lines, as written by avmon run; '-': stdin)")->required();
  report->add_option("--out,-o", inv.out_dir, "directory to write the report to (created if missing)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    const CLI::App* sub = nullptr;
    for (const CLI::App* s : {run, demo, check, list, health, report})
      if (s->parsed()) sub = s;
    std::string hints = unknown_option_hints(app, sub, argc, argv);
    if (hints.empty()) {
      app.exit(e);
      return exit_status::kUsage;
    }
    std::cerr << hints << "Run with --help for more information.\n";
    return exit_status::kUsage;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_status::kUsage;
  }

  if (*run) inv.command = Command::Run;
  if (*demo) inv.command = Command::Demo;
  if (*check) inv.command = Command::CheckConfig;
  if (*list) inv.command = Command::Detectors;
  if (*health) inv.command = Command::Healthcheck;
  if (*report) inv.command = Command::Report;
  return inv;
}

}  // namespace avmon
