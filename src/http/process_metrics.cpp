#include "http/process_metrics.hpp"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

namespace avmon {

namespace {

// Unix time of the boot: the wall clock less the time since boot, which
// is the clock the kernel dates a process's start by. (btime in /proc/stat
// says the same, but a service with ProcSubset=pid cannot read it: the
// start time was then the seconds since boot, some day in 1970.)
double boot_time_s() {
  timespec real{}, since_boot{};
  if (clock_gettime(CLOCK_REALTIME, &real) != 0 || clock_gettime(CLOCK_BOOTTIME, &since_boot) != 0) return 0;
  return static_cast<double>(real.tv_sec - since_boot.tv_sec) +
         static_cast<double>(real.tv_nsec - since_boot.tv_nsec) / 1e9;
}

}  // namespace

ProcessFigures read_process_figures() {
  ProcessFigures p;
  std::ifstream in("/proc/self/stat");
  std::string stat;
  if (!std::getline(in, stat)) return p;
  // Fields after the command name (which may hold spaces and parentheses):
  // state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return p;
  std::istringstream fields(stat.substr(close + 2));
  std::string f[22];
  for (auto& x : f) fields >> x;
  if (!fields) return p;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  p.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  p.start_time_seconds = boot_time_s() + std::stod(f[19]) / ticks;
  p.virtual_memory_bytes = std::stod(f[20]);
  p.resident_memory_bytes = std::stod(f[21]) * page;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    p.open_fds += 1;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) p.max_fds = static_cast<double>(lim.rlim_cur);
  if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    p.virtual_memory_max_bytes = static_cast<double>(lim.rlim_cur);
  p.ok = true;
  return p;
}

void add_process_metrics(prometheus::Registry& reg, const ProcessFigures& p) {
  using namespace prometheus;
  if (!p.ok) return;
  BuildCounter().Name("process_cpu_seconds_total").Help("Total user and system CPU time spent in seconds.")
      .Register(reg).Add({}).Increment(p.cpu_seconds);
  BuildGauge().Name("process_resident_memory_bytes").Help("Resident memory size in bytes.").Register(reg).Add({})
      .Set(p.resident_memory_bytes);
  BuildGauge().Name("process_virtual_memory_bytes").Help("Virtual memory size in bytes.").Register(reg).Add({})
      .Set(p.virtual_memory_bytes);
  BuildGauge().Name("process_virtual_memory_max_bytes").Help("Maximum amount of virtual memory available in bytes.")
      .Register(reg).Add({}).Set(p.virtual_memory_max_bytes);
  BuildGauge().Name("process_open_fds").Help("Number of open file descriptors.").Register(reg).Add({}).Set(p.open_fds);
  BuildGauge().Name("process_max_fds").Help("Maximum number of open file descriptors.").Register(reg).Add({})
      .Set(p.max_fds);
  BuildGauge().Name("process_start_time_seconds").Help("Start time of the process since unix epoch in seconds.")
      .Register(reg).Add({}).Set(p.start_time_seconds);
}

}  // namespace avmon
