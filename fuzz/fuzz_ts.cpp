// The transport stream analyser on arbitrary bytes: packetizer (sync search,
// 188/192/204 strides), continuity, PSI/SI reassembly and parsing (PAT, PMT,
// CAT, SDT, NIT, EIT, TDT/TOT), PCR/PTS timing, the service model and the
// per-PID figures. Never a crash, a hang or unbounded memory.
//
// The first byte chooses options (reads split in pieces of what size, live
// arrival times, DVB SI required, a service by name or number), so that the
// branches they open are fuzzed too; the rest is the stream.
#include <cstddef>
#include <cstdint>

#include "ts/analyzer.hpp"
#include "ts/tables.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  ++data;
  --size;
  avmon::ts::AnalyzerOptions opts;
  opts.live = mode & 0x01;
  opts.si_required = mode & 0x02;
  opts.pcr_accuracy = (mode & 0x04) ? avmon::ts::AnalyzerOptions::PcrAccuracy::On
                                    : avmon::ts::AnalyzerOptions::PcrAccuracy::Auto;
  if (mode & 0x08) opts.service.spec = (mode & 0x10) ? "2" : "News";
  if (mode & 0x20) opts.pcr_repetition_s = 0.04;
  static const std::size_t kPieces[] = {188, 1316, 7, 65536};
  const std::size_t piece = kPieces[(mode >> 6) & 0x03];

  avmon::ts::Analyzer a(opts);
  double arrival = 0;
  for (std::size_t i = 0; i < size; i += piece) {
    arrival += 0.001;
    a.feed(data + i, size - i < piece ? size - i : piece, opts.live ? std::optional<double>(arrival) : std::nullopt);
    if (a.has_events()) (void)a.take_events();
  }
  a.finish();
  (void)a.take_events();
  (void)a.pid_figures();
  (void)a.pcr_figures();
  (void)a.services().describe();
  if (auto sel = a.selected()) {
    a.set_origin_pts(0);
    (void)a.media_time(a.clock_s());
  }
  return 0;
}
