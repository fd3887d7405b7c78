#include "support/ts_mux.hpp"

#include <cmath>

namespace avmon::test {

void MuxSim::put(Bytes p, const std::string& kind) {
  double t = now();
  ++index;
  if (hook && !hook(t, p, kind)) {
    // Withheld: never sent, so its counter was never used.
    const std::uint16_t pid = static_cast<std::uint16_t>((p[1] & 0x1F) << 8 | p[2]);
    if ((p[3] & 0x10) && kind != "null") cc[pid] = (cc[pid] + 15) & 0x0F;
    return;
  }
  out.insert(out.end(), p.begin(), p.end());  // an emptied packet is lost in transit
}

void MuxSim::section(std::uint16_t pid, const Bytes& s, const std::string& kind) {
  unsigned& c = cc[pid];
  for (auto& p : section_packets(pid, s, c)) put(std::move(p), kind);
}

void MuxSim::run(double seconds) {
  const double end = now() + seconds;
  auto due = [&](const std::string& what, double period) {
    auto it = next.find(what);
    if (it == next.end()) it = next.emplace(what, now()).first;
    if (now() + 1e-9 < it->second) return false;
    it->second += period;
    return true;
  };
  while (now() < end - 1e-9) {
    if (due("pat", pat_period_s)) {
      section(0, pat_section(1, {{program, pmt_pid}}), "pat");
    } else if (due("pmt", pmt_period_s)) {
      section(pmt_pid, pmt_section(program, video_pid, {{0x1B, video_pid, {}}, {0x0F, audio_pid, {}}}), "pmt");
    } else if (sdt && due("sdt", sdt_period_s)) {
      section(0x11, sdt_section(1, {{program, service_name}}), "sdt");
    } else if (due("pcr", pcr_period_s)) {
      PacketSpec s;
      s.pid = video_pid;
      s.cc = (cc[video_pid] + 15) & 0x0F;  // no payload: the previous packet's counter
      s.payload = false;
      s.pcr = pcr_base_27m + static_cast<std::int64_t>(std::llround(now() * 27e6));
      put(ts_packet(s), "pcr");
    } else if (due("video", video_period_s)) {
      PacketSpec s;
      s.pid = video_pid;
      s.cc = cc[video_pid]++ & 0x0F;
      s.pusi = true;
      std::int64_t pts = pcr_base_27m / 300 + static_cast<std::int64_t>(std::llround((now() + 0.2) * 90000));
      s.data = pes_header(0xE0, pts, pts - 3600);
      put(ts_packet(s), "video");
    } else if (due("audio", audio_period_s)) {
      PacketSpec s;
      s.pid = audio_pid;
      s.cc = cc[audio_pid]++ & 0x0F;
      s.pusi = true;
      s.data = pes_header(0xC0, pcr_base_27m / 300 + static_cast<std::int64_t>(std::llround((now() + 0.2) * 90000)));
      put(ts_packet(s), "audio");
    } else {
      PacketSpec s;
      s.pid = 0x1FFF;
      s.data = Bytes(184, 0xFF);
      put(ts_packet(s), "null");
    }
  }
}

}  // namespace avmon::test
