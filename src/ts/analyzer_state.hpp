// Per-PID state of the analyser (private to src/ts/analyzer*.cpp).
#pragma once

#include <deque>
#include <memory>

#include "ts/analyzer.hpp"

namespace avmon::ts {

// 2.4: PCR against a constant-rate clock fitted to the latest PCRs by byte
// position (the multiplex's bit rate is constant in a broadcast TS).
struct PcrFit {
  static constexpr std::size_t kWindow = 16;
  std::deque<std::pair<double, double>> points;  // (packet index, PCR in 27 MHz ticks, unwrapped)
  double unwrap_base = 0;                        // added to raw PCRs to unwrap them
  std::int64_t last_raw = -1;
  int outliers = 0;  // consecutive PCRs off the fit (and left out of it)
  void reset() {
    outliers = 0;
    points.clear();
    last_raw = -1;
    unwrap_base = 0;
  }
  // Adds a PCR; returns its deviation (ns) from the fit of the previous
  // points, when there are enough of them and their rate is constant. A PCR
  // off by more than `limit_ns` stays out of the fit (one bad PCR must not
  // bend it for the next ones); three in a row mean the multiplex changed
  // (rate, packets inserted or lost) and the fit starts again.
  std::optional<double> add(double packet, std::int64_t raw, double limit_ns, bool& constant_rate);
};

struct Analyzer::PidState {
  explicit PidState(std::uint16_t p) : pid(p) {}
  std::uint16_t pid;

  // What the PSI says of it.
  enum class Role { Unknown, Pat, Cat, Pmt, Nit, Sdt, Eit, Rst, Tdt, Null, Es, Ecm, Emm };
  Role role = Role::Unknown;
  StreamKind kind = StreamKind::Other;
  std::string codec;
  std::uint16_t program = 0;
  bool referenced = false;   // by the PAT, a PMT or the CAT
  bool av = false;           // audio or video of some service: 1.6 and 2.5 apply
  bool pcr_pid = false;      // PCR_PID of some service: 2.3 applies

  // Counters.
  std::uint64_t packets = 0, tei = 0, scrambled_packets = 0, cc_errors = 0, pcrs = 0;
  bool scrambled_now = false;
  double first_s = 0, last_s = 0;
  double bitrate_bps = 0;  // over the latest window (Analyzer::window_start_s_)
  std::uint64_t window_packets = 0;

  ContinuityState cc;
  std::unique_ptr<SectionAssembler> sections;
  std::unique_ptr<PesAssembler> pes;  // extensions asked for whole PES packets
  SectionListener* section_listener = nullptr;
  PesListener* pes_listener = nullptr;

  // 2.3: the previous PCR.
  bool have_pcr = false;
  std::int64_t last_pcr = 0;
  std::uint64_t last_pcr_packet = 0;
  double pcr_s_per_packet = 0;
  Deadline pcr_absence;      // armed while this is a PCR PID
  int pcr_absence_errors = 0;  // counted in the current gap
  PcrFit fit;
  bool constant_rate = false;
  double max_accuracy_ns = 0;
  double arrival_offset_min_s = 1e300, arrival_offset_max_s = -1e300, max_arrival_jitter_ns = 0;
  std::deque<std::pair<double, double>> arrival_offsets;  // (clock s, arrival - PCR s)

  Deadline pts;              // 2.5, armed at the first PTS
  Deadline presence;         // 1.6, armed when a PMT first lists it
  Deadline pmt;              // 1.5.a, armed when the PAT lists it as a PMT PID
  bool unreferenced = false; // 3.4.a condition
};

}  // namespace avmon::ts
