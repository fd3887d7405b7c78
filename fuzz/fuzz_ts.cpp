// The transport stream analyser on arbitrary bytes: packetizer (sync search,
// 188/192/204 strides), continuity, PSI/SI reassembly and parsing (PAT, PMT,
// CAT, SDT, NIT, EIT, TDT/TOT), PCR/PTS timing, the service model and the
// per-PID figures, whole PES packets for extensions. Never a crash, a hang or
// unbounded memory.
//
// The first byte chooses options (reads split in pieces of what size, live
// arrival times, DVB SI required, a service by name or number), so that the
// branches they open are fuzzed too; the rest is the stream.
#include <cstddef>
#include <cstdint>

#include "ts/analyzer.hpp"
#include "ts/tables.hpp"

namespace {
// Reads every byte it is given, so that a PES handed over with a wrong size
// shows under ASan.
struct Reader final : avmon::ts::PesListener {
  unsigned sum = 0;
  void on_pes_start(std::uint16_t, std::optional<std::int64_t>, const std::uint8_t* p, std::size_t n, std::uint64_t,
                    double) override {
    for (std::size_t i = 0; i < n; ++i) sum += p[i];
  }
  void on_pes(const avmon::ts::Pes& pes) override {
    for (std::size_t i = 0; i < pes.packet_size; ++i) sum += pes.packet[i];
    for (std::size_t i = 0; i < pes.data_size; ++i) sum += pes.data[i];
  }
};
}  // namespace

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
  // Whole PES packets on the PIDs ffmpeg and the seeds use.
  Reader reader;
  for (std::uint16_t pid : {0x100, 0x101, 0x102, 0x42C}) {
    a.subscribe_pes(pid, &reader);
    a.assemble_pes(pid, true);
  }
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
