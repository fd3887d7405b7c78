// The command line: what the user asked for, parsed and checked, with no
// side effects. The commands themselves are in commands.cpp.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace avmon {

enum class Command { Run, Demo, CheckConfig, Detectors, Healthcheck, Report };

struct Invocation {
  Command command = Command::Run;
  // every subcommand
  std::string config_path;  // --config (check-config: its FILE argument)
  std::string log_level;    // --log-level; empty: the configuration's
  std::string log_format;   // --log-format; empty: the configuration's
  // run and demo
  std::string input;        // run: --input or the FILE argument; report: EVENTS
  std::string events;       // --events PATH|-
  std::string http_listen;  // --http ADDR:PORT
  bool realtime = false;    // run: --realtime
  bool print_expect = false;  // run: --print-expect
  bool quiet = false;       // run: --quiet (no progress line, warnings and errors only)
  std::string progress;     // run: --progress FILE|- (machine-readable progress)
  std::string program;      // run: --program (MPEG-TS service)
  bool fast = false;        // demo: --fast
  // healthcheck
  double timeout_s = 2;
  // report (EVENTS is `input`)
  std::string out_dir;      // --out DIR
  // check-config
  bool print_defaults = false;
  bool print_reference = false;
};

// The subcommands, in the order --help lists them.
const std::vector<std::string>& subcommand_names();

// Parses argv. Returns the invocation, or the exit status to end with at
// once (help and version printed: 0; bad usage, message printed: 2). A
// mistyped subcommand or option is named, with the nearest valid one.
std::variant<Invocation, int> parse_command_line(int argc, const char* const* argv);

// The candidate nearest to `word` by edit distance when it is close enough
// to be a plausible typo (at most a third of the word's letters wrong, at
// least one); nothing otherwise.
std::optional<std::string> nearest_word(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace avmon
