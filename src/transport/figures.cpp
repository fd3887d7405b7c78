#include "transport/figures.hpp"

#include <algorithm>
#include <cmath>

namespace avmon {

namespace {

constexpr std::size_t kSummaryPids = 256, kStatusPids = 64, kServices = 64;

nlohmann::json pid_json(const ts::PidFigures& f) {
  nlohmann::json j = {{"pid", f.pid},
                      {"role", f.role},
                      {"packets", f.packets},
                      {"cc_errors", f.cc_errors},
                      {"transport_errors", f.transport_errors},
                      {"scrambled_packets", f.scrambled_packets},
                      {"scrambled", f.scrambled},
                      {"bitrate_bps", std::round(f.bitrate_bps)}};
  if (!f.codec.empty()) j["codec"] = f.codec;
  if (f.program) j["program_number"] = f.program;
  if (f.pcrs) j["pcrs"] = f.pcrs;
  return j;
}

nlohmann::json figures(const ts::Analyzer& a, const RtpFigures* rtp, std::size_t max_pids) {
  if (!a.synced()) return nullptr;
  nlohmann::json j;
  nlohmann::json counts = nlohmann::json::object();
  for (std::size_t k = 0; k < ts::kIndicatorCount; ++k) {
    auto i = static_cast<ts::Indicator>(k);
    if (a.checked(i)) counts[std::string(ts::indicator_name(i))] = a.counts()[k];
  }
  j["tr101290"] = std::move(counts);
  j["service"] = service_json(a);
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : a.services().services()) {
    if (services.size() >= kServices) break;
    nlohmann::json e = {{"program_number", s.program_number}, {"pmt_pid", s.pmt_pid}};
    if (!s.name.empty()) e["name"] = s.name;
    services.push_back(std::move(e));
  }
  j["services"] = std::move(services);
  if (a.services().have_pat()) j["transport_stream_id"] = a.services().transport_stream_id();
  j["packets"] = a.packets();
  j["packet_size"] = a.packet_stride();
  j["bytes_skipped"] = a.bytes_skipped();
  nlohmann::json pids = nlohmann::json::array();
  std::uint64_t total_bps = 0;
  auto all = a.pid_figures();
  // The monitored service's PIDs and the PSI/SI ones first (a capped list
  // keeps them), then the others, each in PID order.
  std::vector<std::uint16_t> mine;
  if (auto sel = a.selected())
    if (const ts::Service* s = a.services().find(*sel); s && s->pmt) {
      mine.push_back(s->pmt_pid);
      mine.push_back(s->pmt->pcr_pid);
      for (const auto& es : s->pmt->streams) mine.push_back(es.pid);
    }
  std::stable_partition(all.begin(), all.end(), [&](const ts::PidFigures& f) {
    return f.pid < 0x20 || std::find(mine.begin(), mine.end(), f.pid) != mine.end();
  });
  // The PIDs left out of a capped list still add up somewhere (/metrics
  // sums them under pid="other").
  std::uint64_t rest_packets = 0, rest_cc = 0, rest_scrambled = 0, rest_bps = 0;
  for (const auto& f : all) {
    total_bps += static_cast<std::uint64_t>(f.bitrate_bps);
    if (pids.size() < max_pids) {
      pids.push_back(pid_json(f));
      continue;
    }
    rest_packets += f.packets;
    rest_cc += f.cc_errors;
    rest_scrambled += f.scrambled_packets;
    rest_bps += static_cast<std::uint64_t>(f.bitrate_bps);
  }
  j["pids"] = std::move(pids);
  if (all.size() > max_pids) {
    j["pids_omitted"] = all.size() - max_pids;
    j["omitted_pids"] = {{"packets", rest_packets}, {"cc_errors", rest_cc}, {"scrambled_packets", rest_scrambled},
                         {"bitrate_bps", rest_bps}};
  }
  j["bitrate_bps"] = total_bps;
  const auto pcr = a.pcr_figures();
  if (pcr.pcrs) {
    nlohmann::json p = {{"count", pcr.pcrs}, {"constant_rate", pcr.constant_rate}};
    if (a.checked(ts::Indicator::PcrAccuracyError)) p["max_accuracy_ns"] = std::round(pcr.max_accuracy_ns);
    if (pcr.max_arrival_jitter_ns > 0) p["max_arrival_jitter_ms"] = std::round(pcr.max_arrival_jitter_ns / 1e3) / 1e3;
    j["pcr"] = std::move(p);
  }
  if (rtp) {
    const auto& r = *rtp;
    j["rtp"] = {{"packets", r.packets}, {"lost", r.lost}, {"out_of_order", r.out_of_order}, {"rtcp", r.rtcp},
                {"not_mpeg_ts", r.not_ts}};
  }
  return j;
}

}  // namespace

nlohmann::json service_json(const ts::Analyzer& a) {
  auto sel = a.selected();
  if (!sel) return nullptr;
  const ts::Service* s = a.services().find(*sel);
  if (!s) return {{"program_number", *sel}, {"missing", true}};
  nlohmann::json j = {{"program_number", s->program_number}, {"pmt_pid", s->pmt_pid}};
  if (!s->name.empty()) j["name"] = s->name;
  if (!s->provider.empty()) j["provider"] = s->provider;
  if (!s->pmt) return j;
  j["pcr_pid"] = s->pmt->pcr_pid;
  nlohmann::json streams = nlohmann::json::array();
  bool scrambled = false;
  const auto pids = a.pid_figures();
  for (const auto& es : s->pmt->streams) {
    nlohmann::json e = {{"pid", es.pid},
                        {"stream_type", es.stream_type},
                        {"type", ts::stream_kind_name(ts::stream_kind(es))},
                        {"codec", ts::codec_name(es)}};
    if (auto lang = ts::language(es.descriptors); !lang.empty()) e["language"] = lang;
    for (const auto& f : pids)
      if (f.pid == es.pid && f.scrambled) {
        e["scrambled"] = true;
        scrambled = scrambled || ts::stream_kind(es) == ts::StreamKind::Video || ts::stream_kind(es) == ts::StreamKind::Audio;
      }
    streams.push_back(std::move(e));
  }
  j["streams"] = std::move(streams);
  j["scrambled"] = scrambled;
  return j;
}

nlohmann::json transport_summary(const ts::Analyzer& a, const RtpFigures* rtp) { return figures(a, rtp, kSummaryPids); }
nlohmann::json transport_status(const ts::Analyzer& a, const RtpFigures* rtp) { return figures(a, rtp, kStatusPids); }

}  // namespace avmon
