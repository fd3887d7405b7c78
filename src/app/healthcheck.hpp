// `avmon healthcheck`: the container's HEALTHCHECK without curl or a shell.
// It reads the same configuration (file and AVMON_* environment) as the
// monitor it checks, so the check follows the configured port.
#pragma once

#include <string>

namespace avmon {

struct HealthAnswer {
  int status = 0;      // HTTP status; 0: no answer
  std::string what;    // the status line, or why there was none
};

// GET http://HOST:PORT/healthz where `listen` is the monitor's ADDR:PORT
// (a wildcard address is asked on loopback). Never throws.
HealthAnswer ask_health(const std::string& listen, double timeout_s);

}  // namespace avmon
