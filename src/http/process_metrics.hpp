// The process_* family every Prometheus client library exports (CPU, memory,
// file descriptors, start time), read from /proc: prometheus-cpp has none.
#pragma once

#include <prometheus/registry.h>

namespace avmon {

struct ProcessFigures {
  double cpu_seconds = 0;          // user + system
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double virtual_memory_max_bytes = -1;  // RLIMIT_AS; -1: unlimited
  double open_fds = 0;
  double max_fds = 0;              // RLIMIT_NOFILE (soft)
  double start_time_seconds = 0;   // Unix time
  bool ok = false;                 // /proc could be read
};

// This process's figures now.
ProcessFigures read_process_figures();

// Adds process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_virtual_memory_max_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds.
void add_process_metrics(prometheus::Registry& registry, const ProcessFigures& p);

}  // namespace avmon
