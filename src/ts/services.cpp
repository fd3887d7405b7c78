#include "ts/services.hpp"

#include <algorithm>
#include <cctype>

namespace avmon::ts {

bool Service::has_kind(StreamKind k) const {
  if (!pmt) return false;
  return std::any_of(pmt->streams.begin(), pmt->streams.end(), [&](const PmtStream& es) { return stream_kind(es) == k; });
}

std::vector<std::uint16_t> Service::av_pids() const {
  std::vector<std::uint16_t> out;
  if (!pmt) return out;
  for (const auto& es : pmt->streams) {
    StreamKind k = stream_kind(es);
    if (k == StreamKind::Video || k == StreamKind::Audio) out.push_back(es.pid);
  }
  return out;
}

std::optional<std::uint16_t> ServiceChoice::number() const {
  if (spec.empty() || spec.size() > 5 || !std::all_of(spec.begin(), spec.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  unsigned long v = std::stoul(spec);
  if (v > 0xFFFF) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

bool ServiceModel::on_pat(const Pat& pat) {
  have_pat_ = true;
  tsid_ = pat.transport_stream_id;
  std::vector<Service> next;
  for (const auto& e : pat.programs) {
    if (e.program_number == 0) {
      nit_pid_ = e.pid;
      continue;
    }
    Service s;
    s.program_number = e.program_number;
    s.pmt_pid = e.pid;
    // Keep what is known of a program that stays on the same PMT PID.
    if (const Service* old = find(e.program_number); old && old->pmt_pid == e.pid) s = *old;
    next.push_back(std::move(s));
  }
  bool changed = next.size() != services_.size();
  for (std::size_t i = 0; !changed && i < next.size(); ++i)
    changed = next[i].program_number != services_[i].program_number || next[i].pmt_pid != services_[i].pmt_pid;
  services_ = std::move(next);
  for (auto& s : services_)
    for (const auto& e : sdt_)
      if (e.service_id == s.program_number) {
        s.name = e.name;
        s.provider = e.provider;
        s.service_type = e.service_type;
      }
  return changed;
}

bool ServiceModel::on_pmt(std::uint16_t pid, const Pmt& pmt) {
  for (auto& s : services_) {
    if (s.program_number != pmt.program_number || s.pmt_pid != pid) continue;
    bool changed = false;
    if (s.pmt) {
      changed = s.pmt->pcr_pid != pmt.pcr_pid || s.pmt->streams.size() != pmt.streams.size();
      for (std::size_t i = 0; !changed && i < pmt.streams.size(); ++i)
        changed = s.pmt->streams[i].pid != pmt.streams[i].pid || s.pmt->streams[i].stream_type != pmt.streams[i].stream_type;
    }
    s.pmt = pmt;
    return changed;
  }
  return false;
}

void ServiceModel::on_sdt(const Sdt& sdt) {
  if (!sdt.actual) return;
  have_sdt_ = true;
  // An SDT may come in several sections: merge by service_id.
  for (const auto& e : sdt.services) {
    auto it = std::find_if(sdt_.begin(), sdt_.end(), [&](const SdtService& o) { return o.service_id == e.service_id; });
    if (it == sdt_.end()) sdt_.push_back(e);
    else *it = e;
  }
  for (auto& s : services_)
    for (const auto& e : sdt_)
      if (e.service_id == s.program_number) {
        s.name = e.name;
        s.provider = e.provider;
        s.service_type = e.service_type;
      }
}

const Service* ServiceModel::find(std::uint16_t program_number) const {
  for (const auto& s : services_)
    if (s.program_number == program_number) return &s;
  return nullptr;
}

bool ServiceModel::is_pmt_pid(std::uint16_t pid) const {
  return std::any_of(services_.begin(), services_.end(), [&](const Service& s) { return s.pmt_pid == pid; });
}

bool ServiceModel::complete() const {
  return have_pat_ && std::all_of(services_.begin(), services_.end(), [](const Service& s) { return s.pmt.has_value(); });
}

namespace {
bool same_name(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
}  // namespace

std::optional<std::uint16_t> ServiceModel::choose(const ServiceChoice& choice, bool now) const {
  if (!have_pat_) return std::nullopt;
  if (auto n = choice.number()) {
    const Service* s = find(*n);
    if (s && (s->pmt || now)) return s->program_number;
    if (s || !now) return std::nullopt;
    // No such program number: it may still be a service's name.
  }
  if (!choice.spec.empty()) {
    for (const auto& s : services_)
      if (same_name(s.name, choice.spec)) return s.pmt || now ? std::optional(s.program_number) : std::nullopt;
    return std::nullopt;
  }
  if (!complete() && !now) return std::nullopt;
  for (StreamKind k : {StreamKind::Video, StreamKind::Audio})
    for (const auto& s : services_)
      if (s.has_kind(k)) return s.program_number;
  for (const auto& s : services_)
    if (s.pmt) return s.program_number;
  return std::nullopt;
}

std::string ServiceModel::describe() const {
  std::string out;
  for (const auto& s : services_) {
    if (!out.empty()) out += ", ";
    out += std::to_string(s.program_number);
    if (!s.name.empty()) out += " (" + s.name + ")";
  }
  return out.empty() ? "none" : out;
}

}  // namespace avmon::ts
