// /metrics for the transport layer (MPEG-TS inputs): TR 101 290 errors per
// indicator and per-PID figures. Label cardinality stays bounded whatever
// the multiplex carries: per-PID series only for the monitored service's
// PIDs, the PSI/SI PIDs and the null PID (at most kMaxPidSeries), every
// other PID summed under pid="other".
#include "http/metrics_transport.hpp"

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

namespace avmon {

namespace {
constexpr std::size_t kMaxPidSeries = 32;

std::string hex_pid(unsigned pid) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%04X", pid);
  return b;
}
}  // namespace

void add_transport_metrics(prometheus::Registry& reg, const nlohmann::json& t, const prometheus::Labels& stream) {
  using namespace prometheus;
  if (!t.is_object()) return;
  auto with = [&](Labels extra) {
    extra.insert(stream.begin(), stream.end());
    return extra;
  };
  auto& errors = BuildCounter().Name("avmon_tr101290_errors_total")
                     .Help("ETSI TR 101 290 errors, per checked indicator (see docs/transport.md)").Register(reg);
  static const std::map<std::string, std::string> kPriority = [] {
    std::map<std::string, std::string> m;
    const char* p1[] = {"ts_sync_loss", "sync_byte_error", "pat_error", "continuity_count_error", "pmt_error", "pid_error"};
    const char* p2[] = {"transport_error", "crc_error", "pcr_error", "pcr_repetition_error",
                        "pcr_discontinuity_indicator_error", "pcr_accuracy_error", "pts_error", "cat_error"};
    for (const char* n : p1) m[n] = "1";
    for (const char* n : p2) m[n] = "2";
    return m;
  }();
  // Named locals: a range-for over a member of a temporary would dangle.
  const nlohmann::json counts = t.value("tr101290", nlohmann::json::object());
  for (const auto& [name, n] : counts.items()) {
    auto p = kPriority.find(name);
    errors.Add(with({{"indicator", name}, {"priority", p == kPriority.end() ? "3" : p->second}}))
        .Increment(n.get<double>());
  }

  // Which PIDs get series of their own.
  std::set<unsigned> own;
  if (const auto& svc = t.value("service", nlohmann::json()); svc.is_object()) {
    own.insert(svc.value("pmt_pid", 0u));
    own.insert(svc.value("pcr_pid", 0x1FFFu));
    const nlohmann::json streams = svc.value("streams", nlohmann::json::array());
    for (const auto& es : streams) own.insert(es.value("pid", 0x1FFFu));
  }
  auto& packets = BuildCounter().Name("avmon_ts_pid_packets_total").Help("transport packets, per PID").Register(reg);
  auto& cc = BuildCounter().Name("avmon_ts_pid_cc_errors_total").Help("continuity errors, per PID").Register(reg);
  auto& scrambled = BuildCounter().Name("avmon_ts_pid_scrambled_packets_total")
                        .Help("scrambled packets, per PID").Register(reg);
  auto& scrambled_now = BuildGauge().Name("avmon_ts_pid_scrambled")
                            .Help("1 while the PID's packets are scrambled").Register(reg);
  auto& bitrate = BuildGauge().Name("avmon_ts_pid_bitrate_bps")
                      .Help("bit rate over the latest second of the multiplex clock, per PID").Register(reg);
  double other_packets = 0, other_cc = 0, other_scrambled = 0, other_bps = 0;
  bool others = false;
  std::size_t series = 0;
  const nlohmann::json pids = t.value("pids", nlohmann::json::array());
  for (const auto& p : pids) {
    const unsigned pid = p.value("pid", 0u);
    const bool mine = (own.count(pid) || pid < 0x20 || pid == 0x1FFF) && series < kMaxPidSeries;
    if (!mine) {
      others = true;
      other_packets += p.value("packets", 0.0);
      other_cc += p.value("cc_errors", 0.0);
      other_scrambled += p.value("scrambled_packets", 0.0);
      other_bps += p.value("bitrate_bps", 0.0);
      continue;
    }
    ++series;
    Labels l = with({{"pid", hex_pid(pid)}, {"role", p.value("role", "")}});
    packets.Add(l).Increment(p.value("packets", 0.0));
    cc.Add(l).Increment(p.value("cc_errors", 0.0));
    scrambled.Add(l).Increment(p.value("scrambled_packets", 0.0));
    scrambled_now.Add(l).Set(p.value("scrambled", false) ? 1 : 0);
    bitrate.Add(l).Set(p.value("bitrate_bps", 0.0));
  }
  // PIDs beyond the figures' capped list (see transport/figures.cpp).
  if (const auto& rest = t.value("omitted_pids", nlohmann::json()); rest.is_object()) {
    others = true;
    other_packets += rest.value("packets", 0.0);
    other_cc += rest.value("cc_errors", 0.0);
    other_scrambled += rest.value("scrambled_packets", 0.0);
    other_bps += rest.value("bitrate_bps", 0.0);
  }
  if (others) {
    Labels l = with({{"pid", "other"}, {"role", "other"}});
    packets.Add(l).Increment(other_packets);
    cc.Add(l).Increment(other_cc);
    scrambled.Add(l).Increment(other_scrambled);
    bitrate.Add(l).Set(other_bps);
  }
  BuildGauge().Name("avmon_ts_bitrate_bps").Help("the multiplex's bit rate (every PID)").Register(reg)
      .Add(stream).Set(t.value("bitrate_bps", 0.0));
  if (const auto& svc = t.value("service", nlohmann::json()); svc.is_object())
    BuildGauge().Name("avmon_ts_service_scrambled").Help("1 while the monitored service's audio or video is scrambled")
        .Register(reg).Add(with({{"program", std::to_string(svc.value("program_number", 0))}}))
        .Set(svc.value("scrambled", false) ? 1 : 0);
  if (const auto& rtp = t.value("rtp", nlohmann::json()); rtp.is_object()) {
    BuildCounter().Name("avmon_rtp_packets_total").Help("RTP packets of MPEG-TS received").Register(reg)
        .Add(stream).Increment(rtp.value("packets", 0.0));
    BuildCounter().Name("avmon_rtp_packets_lost_total").Help("RTP packets missing by sequence number").Register(reg)
        .Add(stream).Increment(rtp.value("lost", 0.0));
  }
}

}  // namespace avmon
