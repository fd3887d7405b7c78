// avmon_ts_impair: damages an MPEG-TS file in known ways and writes the
// TR 101 290 counts a correct analyser must find, computed here from the
// definitions (table and PID gaps on the PCR-interpolated packet times,
// packets altered), independently of avmon's analyser. It also sends a file
// over UDP paced by its PCRs, for the same checks on a live input.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace avmon::impair {

using Packet = std::array<std::uint8_t, 188>;

struct Stream {
  std::vector<Packet> packets;
  // Seconds of each packet from the PCRs of the first PCR PID, interpolated
  // by position (what the analyser does), from 0 at the first packet.
  std::vector<double> times;
  void retime();
};

Stream load(const std::string& path);
void save(const Stream& s, const std::string& path);

std::uint16_t pid_of(const Packet& p);
bool has_payload(const Packet& p);
bool pusi(const Packet& p);
bool has_pcr(const Packet& p);
std::int64_t pcr_of(const Packet& p);
void set_pcr(Packet& p, std::int64_t pcr_27m);
unsigned cc_of(const Packet& p);
void set_cc(Packet& p, unsigned cc);
Packet null_packet();

// The PIDs of a program's PMT (0: the first program of the PAT): PMT PID,
// PCR PID, audio/video PIDs.
struct Layout {
  std::uint16_t pmt_pid = 0, pcr_pid = 0x1FFF;
  std::vector<std::uint16_t> av_pids;
  std::vector<std::uint16_t> all_pids;  // every PID of the program
};
Layout layout(const Stream& s, std::uint16_t program = 0);

// Expected counts per indicator name.
using Counts = std::map<std::string, long>;

// Operations: each alters `s` and adds what it causes to `expected` when
// that is counted per packet or section; gap-based indicators are computed
// from the result by `expect_gaps`.
struct Options {
  double pcr_repetition_s = 0.1;
};
void op(const std::string& name, const std::string& arg, Stream& s, Counts& expected);
// PAT/PMT/SDT, PID presence, PTS and PCR intervals of the final stream.
void expect_gaps(const Stream& s, const Options& o, Counts& expected);

// Sends `s` to udp://host:port, 7 packets per datagram, at the pace of its
// packet times (scaled by `speed`).
int send_udp(const Stream& s, const std::string& url, double speed);

}  // namespace avmon::impair
