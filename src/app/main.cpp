// avmon's entry point: parse the command line (app/cli.cpp), run the
// subcommand (app/commands.cpp), and map what escapes to an exit status
// (app/exit_status.hpp: a contract).
#include <malloc.h>

#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/exit_status.hpp"
#include "config/config.hpp"
#include "pipeline/registry.hpp"
#include "util/logging.hpp"

int main(int argc, char** argv) {
  using namespace avmon;
  // Picture and packet buffers (hundreds of kB each) come from mmap and go
  // back to the system when freed. glibc's default raises this threshold
  // each time such a block is freed, after which the buffers of every new
  // picture size, decoder and thread are carved from the heap arenas and
  // kept: a live monitor's RSS then grew with each reconnect and format
  // change (bench/soak.py: +32 MB/h over 20 minutes, against +4 MB/h with
  // the threshold fixed at glibc's initial 128 kB).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  auto parsed = parse_command_line(argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const Invocation& inv = std::get<Invocation>(parsed);

  try {
    // Until the configuration names its own (commands call setup_logging again).
    setup_logging(inv.log_level.empty() ? "info" : inv.log_level, inv.log_format.empty() ? "text" : inv.log_format);
    switch (inv.command) {
      case Command::Run: return run_command(inv);
      case Command::Demo: return demo_command(inv);
      case Command::CheckConfig: return check_config_command(inv);
      case Command::Detectors: return detectors_command(inv);
      case Command::Healthcheck: return healthcheck_command(inv);
      case Command::Report: return report_command(inv);
    }
    return exit_status::kFailure;
  } catch (const ConfigError& e) {
    spdlog::error("configuration error: {}", e.what());
    return exit_status::kUsage;
  } catch (const RegistryError& e) {
    spdlog::error("{}", e.what());
    return exit_status::kUsage;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return exit_status::kFailure;
  }
}
