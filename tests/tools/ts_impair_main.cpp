// avmon_ts_impair IN OUT [--IMPAIRMENT ARG]... [--expect FILE] [--pcr-repetition-s S]
// avmon_ts_impair --send udp://HOST:PORT [--speed X] IN
//
// Impairments (positions are 1-based packets of a PID that carry a payload;
// times are seconds on the packet clock, 0 at the first PCR):
//   --drop PID:N[:COUNT]       lost in transit           continuity_count_error
//   --duplicate PID:N:COPIES   sent again COPIES times   continuity (COPIES >= 2)
//   --reorder PID:N            two packets swapped       continuity (3)
//   --tei COUNT                TEI on null packets       transport_error
//   --sync AT:RUN              RUN bad sync bytes        sync_byte_error, ts_sync_loss (RUN >= 2)
//   --break-crc PID:N          N-th section on PID       crc_error
//   --withhold PID:FROM:DUR    not sent (stuffing)       pat/pmt/sdt/pid/pts errors by gap
//   --delay-pcr FROM:DUR       no PCR in the window      pcr_repetition_error, pcr_error
//   --jitter-pcr N:NS          N-th PCR off by NS ns     pcr_accuracy_error (constant rate)
//   --pcr-jump AT:S            PCRs jump by S seconds    pcr_discontinuity_indicator_error, pcr_error
//   --scramble PID:FROM:DUR    scrambling bits, no CAT   cat_error
//   --inject-table PID:TID:AT  a foreign table on PID    nit/sdt/eit/rst/tdt/pat/cat error
//   --repeat-sdt AT            an SDT section again      si_repetition_error (a new packet, not a duplicate)
//   --inject-pid PID:FROM:DUR  a PID no PMT lists        unreferenced_pid
//   --shift-clock PROG:S       a program's clocks moved by S seconds (PCR, PTS, DTS)
//   --add-teletext PID:FROM:DUR:OFFSET  a teletext PID in the first program, PTS = its clock + OFFSET s
// --expect FILE writes {"tr101290": {indicator: count}} for the result.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tools/ts_impair.hpp"

namespace avmon::impair {

int send_udp(const Stream& s, const std::string& url, double speed) {
  const std::string prefix = "udp://";
  if (url.rfind(prefix, 0) != 0) throw std::runtime_error("--send: udp://HOST:PORT expected");
  const std::string hp = url.substr(prefix.size());
  const auto colon = hp.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(hp.substr(colon + 1))));
  if (inet_pton(AF_INET, hp.substr(0, colon).c_str(), &to.sin_addr) != 1) throw std::runtime_error("--send: bad address");
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) throw std::runtime_error("--send: no socket");
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < s.packets.size(); i += 7) {
    const std::size_t n = std::min<std::size_t>(7, s.packets.size() - i);
    const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(s.times[i] / speed));
    std::this_thread::sleep_until(due);
    std::uint8_t buf[7 * 188];
    for (std::size_t k = 0; k < n; ++k) std::copy(s.packets[i + k].begin(), s.packets[i + k].end(), buf + 188 * k);
    if (sendto(fd, buf, n * 188, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      std::perror("sendto");
      close(fd);
      return 1;
    }
  }
  close(fd);
  return 0;
}

}  // namespace avmon::impair

int main(int argc, char** argv) {
  using namespace avmon::impair;
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "--send") {
      if (args.size() < 3) throw std::runtime_error("usage: --send udp://HOST:PORT [--speed X] IN");
      double speed = 1;
      std::size_t k = 2;
      if (args[k] == "--speed") {
        speed = std::stod(args[k + 1]);
        k += 2;
      }
      return send_udp(load(args.at(k)), args[1], speed);
    }
    if (args.size() < 2) throw std::runtime_error("usage: avmon_ts_impair IN OUT [--IMPAIRMENT ARG]... [--expect FILE]");
    Stream s = load(args[0]);
    Counts expected;
    Options o;
    std::string expect_path;
    for (std::size_t k = 2; k < args.size(); k += 2) {
      if (args[k].rfind("--", 0) != 0 || k + 1 >= args.size()) throw std::runtime_error("bad argument " + args[k]);
      const std::string name = args[k].substr(2);
      if (name == "expect") expect_path = args[k + 1];
      else if (name == "pcr-repetition-s") o.pcr_repetition_s = std::stod(args[k + 1]);
      else op(name, args[k + 1], s, expected);
    }
    s.retime();
    expect_gaps(s, o, expected);
    save(s, args[1]);
    if (!expect_path.empty()) {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& [name, n] : expected) j[name] = n;
      std::ofstream f(expect_path);
      f << nlohmann::json{{"tr101290", j}}.dump(2) << "\n";
      if (!f) throw std::runtime_error("cannot write " + expect_path);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "avmon_ts_impair: %s\n", e.what());
    return 2;
  }
}
