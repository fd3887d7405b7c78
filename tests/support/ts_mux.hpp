// A small constant-rate multiplex for analyser tests: one program with a
// video PID (carrying the PCR) and an audio PID, PAT/PMT/SDT at chosen
// periods, null packets in between. Packet k is sent at k / packet_rate
// seconds and PCRs say exactly that, so the multiplex clock is known. A hook
// sees every packet before it is written and may alter or drop it.
#pragma once

#include <functional>
#include <map>

#include "support/ts_build.hpp"

namespace avmon::test {

struct MuxSim {
  double packet_rate = 2000;          // packets per second (~3 Mbit/s)
  std::uint16_t program = 1, pmt_pid = 0x1000, video_pid = 0x100, audio_pid = 0x101;
  double pat_period_s = 0.1, pmt_period_s = 0.1, sdt_period_s = 0.5, pcr_period_s = 0.04;
  double video_period_s = 0.04, audio_period_s = 0.024;
  bool sdt = true;
  std::string service_name = "Test One";
  std::int64_t pcr_base_27m = 27000000;  // PCR at t = 0
  // Called for every packet: (time s, packet bytes, kind). Returning false
  // withholds it (the multiplexer never sent it: no continuity gap);
  // clearing the bytes loses it in transit (a continuity gap).
  std::function<bool(double, Bytes&, const std::string&)> hook;

  Bytes out;
  std::uint64_t index = 0;
  std::map<std::uint16_t, unsigned> cc;
  std::map<std::string, double> next;

  double now() const { return static_cast<double>(index) / packet_rate; }
  void run(double seconds);

 private:
  void put(Bytes p, const std::string& kind);
  void section(std::uint16_t pid, const Bytes& s, const std::string& kind);
};

}  // namespace avmon::test
