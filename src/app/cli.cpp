#include "app/cli.hpp"

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/exit_status.hpp"

namespace avmon {

namespace {

// Levenshtein distance; words here are a few letters long.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
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

std::variant<Invocation, int> parse_command_line(int argc, const char* const* argv) {
  Invocation inv;
  CLI::App app{"avmon: live audio/video stream monitor"};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level and --log-format also work after the subcommand
  app.set_version_flag("--version", AVMON_VERSION);
  app.add_option("--log-level", inv.log_level, "trace, debug, info, warn, error, critical, off");
  app.add_option("--log-format", inv.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));

  auto* run = app.add_subcommand("run", "analyse an input (file or any URL FFmpeg opens)");
  run->add_option("--input,-i", inv.input, "input URL or file (default: input.url of the configuration)");
  run->add_option("--config,-c", inv.config_path, "YAML configuration file");
  run->add_option("--events,-e", inv.events, "write events as JSON lines to PATH ('-': stdout, the default)");
  run->add_flag("--realtime", inv.realtime, "pace a file at its native rate, as if it were live");
  run->add_flag("--print-expect", inv.print_expect,
                "at the end, print on stdout an expect: configuration section describing the format found "
                "(events then go only to --events PATH)");
  run->add_option("--http", inv.http_listen, "serve /metrics, /healthz, /readyz, /status and the status page on ADDR:PORT");

  auto* demo = app.add_subcommand("demo", "analyse a generated stream with known black, freeze and silence");
  demo->add_option("--events,-e", inv.events, "also write events as JSON lines to PATH ('-': stdout)");
  demo->add_option("--config,-c", inv.config_path, "YAML configuration file");
  demo->add_flag("--fast", inv.fast, "run as fast as possible instead of in real time");
  demo->add_option("--http", inv.http_listen, "serve /metrics, /healthz, /readyz, /status and the status page on ADDR:PORT");

  auto* check = app.add_subcommand("check-config", "validate a configuration file");
  check->add_option("file", inv.config_path, "configuration file");
  check->add_flag("--print-defaults", inv.print_defaults, "print a documented configuration with every default");

  auto* list = app.add_subcommand("detectors", "list detectors and their options");
  list->add_option("--config,-c", inv.config_path, "configuration (to include its plugins)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_status::kUsage;
  }

  if (*run) inv.command = Command::Run;
  if (*demo) inv.command = Command::Demo;
  if (*check) inv.command = Command::CheckConfig;
  if (*list) inv.command = Command::Detectors;
  return inv;
}

}  // namespace avmon
