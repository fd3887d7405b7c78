// The transport analyser alone, in CPU seconds: a capture is read into
// memory once and fed to ts::Analyzer in 64 KiB reads (as the tap feeds it),
// again and again until at least `seconds` of CPU time went by. Prints the
// CPU time per packet and what that is as a share of one core at a given
// multiplex rate. CPU time (getrusage), not wall time: another process on
// the machine lengthens the run, not the figure.
//
//   avmon_bench_ts FILE.ts [MBIT_PER_S=40] [SECONDS=3]
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "ts/analyzer.hpp"

namespace {
double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.ts [MBIT_PER_S] [SECONDS]\n", argv[0]);
    return 2;
  }
  const double mbps = argc > 2 ? std::atof(argv[2]) : 40.0;
  const double min_cpu_s = argc > 3 ? std::atof(argv[3]) : 3.0;
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<std::uint8_t> bytes;
  if (in) bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (bytes.size() < avmon::ts::kPacketSize) {
    std::fprintf(stderr, "%s: cannot read a transport stream from %s\n", argv[0], argv[1]);
    return 2;
  }
  constexpr std::size_t kRead = 65536;
  std::uint64_t packets = 0, passes = 0;
  const double t0 = cpu_s();
  double used = 0;
  while (used < min_cpu_s) {
    // A fresh analyser per pass: the same work as a fresh run of the file.
    avmon::ts::Analyzer a;
    for (std::size_t off = 0; off < bytes.size(); off += kRead) {
      a.feed(bytes.data() + off, std::min(kRead, bytes.size() - off));
      if (a.has_events()) static_cast<void>(a.take_events());
    }
    a.finish();
    packets += a.packets();
    ++passes;
    used = cpu_s() - t0;
  }
  const double ns_per_packet = used / static_cast<double>(packets) * 1e9;
  const double packets_per_s = mbps * 1e6 / (8.0 * avmon::ts::kPacketSize);
  std::printf("analyser alone: %llu passes, %llu packets, %.1f ns CPU per packet\n",
              static_cast<unsigned long long>(passes), static_cast<unsigned long long>(packets), ns_per_packet);
  std::printf("at %.0f Mbit/s (%.0f packets/s): %.2f%% of one core\n", mbps, packets_per_s,
              100.0 * ns_per_packet * packets_per_s / 1e9);
  return 0;
}
