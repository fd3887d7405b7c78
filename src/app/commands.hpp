// avmon's subcommands, each returning the process's exit status
// (app/exit_status.hpp). Errors of configuration (ConfigError, RegistryError)
// propagate to main, which maps them to exit status 2.
#pragma once

#include "app/cli.hpp"

namespace avmon {

int run_command(const Invocation& inv);
int demo_command(const Invocation& inv);
int check_config_command(const Invocation& inv);
int detectors_command(const Invocation& inv);
// Exit status 0 healthy, 1 (kUnhealthy) not, 2 nothing to ask.
int healthcheck_command(const Invocation& inv);
// Exit status 0 written, 3 EVENTS unreadable or without event lines, 4 a report file not written.
int report_command(const Invocation& inv);

}  // namespace avmon
