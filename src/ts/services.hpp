// The service model: the PAT's programs, each with its PMT (elementary
// streams, PCR PID) and its SDT entry (name, provider), and the choice of the
// service to monitor: by program number, by service name, or by default the
// first service (in PAT order) that carries video.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ts/tables.hpp"

namespace avmon::ts {

struct Service {
  std::uint16_t program_number = 0;
  std::uint16_t pmt_pid = 0;
  std::optional<Pmt> pmt;            // none until its PMT has been received
  std::string name, provider;        // from the SDT actual; empty when unknown
  std::uint8_t service_type = 0;
  bool has_kind(StreamKind k) const;
  // Audio and video PIDs, in PMT order.
  std::vector<std::uint16_t> av_pids() const;
};

// What the operator asked for: "" (default), a program number, or a name.
struct ServiceChoice {
  std::string spec;
  // Parses digits as a program number.
  std::optional<std::uint16_t> number() const;
};

class ServiceModel {
 public:
  // Returns true when the set of programs changed.
  bool on_pat(const Pat& pat);
  // Returns true when this program's streams or PCR PID changed (not on the
  // first PMT). Ignored for programs not in the PAT.
  bool on_pmt(std::uint16_t pid, const Pmt& pmt);
  void on_sdt(const Sdt& sdt);

  bool have_pat() const { return have_pat_; }
  std::uint16_t transport_stream_id() const { return tsid_; }
  // Programs of the PAT, in its order (program 0, the NIT, excluded).
  const std::vector<Service>& services() const { return services_; }
  const Service* find(std::uint16_t program_number) const;
  bool is_pmt_pid(std::uint16_t pid) const;
  // Every PMT of the PAT has been received.
  bool complete() const;
  bool have_sdt() const { return have_sdt_; }
  std::uint16_t nit_pid() const { return nit_pid_; }

  // The service `choice` designates, once it can be told: a number needs its
  // PMT; a name needs the SDT and the PMT; the default needs every PMT. With
  // `now` set, decides with what is known (end of probing).
  std::optional<std::uint16_t> choose(const ServiceChoice& choice, bool now) const;
  // "1 (News), 2 (Sport)": for error messages.
  std::string describe() const;

 private:
  bool have_pat_ = false, have_sdt_ = false;
  std::uint16_t tsid_ = 0;
  std::uint16_t nit_pid_ = 0x0010;
  std::vector<Service> services_;
  std::vector<SdtService> sdt_;  // latest SDT actual entries
};

}  // namespace avmon::ts
