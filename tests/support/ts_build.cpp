#include "support/ts_build.hpp"

#include <algorithm>
#include <stdexcept>

#include "ts/crc32.hpp"
#include "ts/packet.hpp"

namespace avmon::test {

Bytes ts_packet(const PacketSpec& s) {
  Bytes p(188, s.fill);
  p[0] = 0x47;
  p[1] = static_cast<std::uint8_t>((s.tei ? 0x80 : 0) | (s.pusi ? 0x40 : 0) | ((s.pid >> 8) & 0x1F));
  p[2] = static_cast<std::uint8_t>(s.pid & 0xFF);
  const bool af = s.pcr || s.discontinuity || !s.payload || s.data.size() < 184;
  p[3] = static_cast<std::uint8_t>((s.scrambling << 6) | (af ? 0x20 : 0) | (s.payload ? 0x10 : 0) | (s.cc & 0x0F));
  std::size_t pos = 4;
  if (af) {
    std::size_t min_af = s.pcr ? 8 : (s.discontinuity ? 2 : 1);  // length byte included
    std::size_t payload = s.payload ? std::min<std::size_t>(s.data.size(), 184 - min_af) : 0;
    std::size_t af_len = 184 - payload;  // including its length byte
    p[4] = static_cast<std::uint8_t>(af_len - 1);
    if (af_len >= 2) {
      p[5] = static_cast<std::uint8_t>((s.discontinuity ? 0x80 : 0) | (s.pcr ? 0x10 : 0));
      if (s.pcr) ts::write_pcr(p.data(), *s.pcr);
      // Stuffing follows the flags byte (and the PCR): never over the flags.
      const std::size_t used = std::max<std::size_t>(min_af, 2);
      std::fill(p.begin() + static_cast<std::ptrdiff_t>(4 + used), p.begin() + static_cast<std::ptrdiff_t>(4 + af_len), 0xFF);
    }
    pos = 4 + af_len;
  }
  if (s.payload) std::copy(s.data.begin(), s.data.begin() + static_cast<std::ptrdiff_t>(188 - pos), p.begin() + static_cast<std::ptrdiff_t>(pos));
  return p;
}

Bytes psi_section(std::uint8_t table_id, std::uint16_t extension, unsigned version, const Bytes& body,
                  unsigned section_number, unsigned last_section_number) {
  Bytes s;
  std::size_t len = 5 + body.size() + 4;
  s.push_back(table_id);
  s.push_back(static_cast<std::uint8_t>(0xB0 | ((len >> 8) & 0x0F)));
  s.push_back(static_cast<std::uint8_t>(len & 0xFF));
  s.push_back(static_cast<std::uint8_t>(extension >> 8));
  s.push_back(static_cast<std::uint8_t>(extension & 0xFF));
  s.push_back(static_cast<std::uint8_t>(0xC1 | ((version & 0x1F) << 1)));
  s.push_back(static_cast<std::uint8_t>(section_number));
  s.push_back(static_cast<std::uint8_t>(last_section_number));
  s.insert(s.end(), body.begin(), body.end());
  std::uint32_t crc = ts::crc32_mpeg(s.data(), s.size());
  for (int k = 3; k >= 0; --k) s.push_back(static_cast<std::uint8_t>(crc >> (8 * k)));
  return s;
}

Bytes pat_section(std::uint16_t tsid, const std::vector<std::pair<std::uint16_t, std::uint16_t>>& programs,
                  unsigned version) {
  Bytes body;
  for (auto [num, pid] : programs) {
    body.push_back(static_cast<std::uint8_t>(num >> 8));
    body.push_back(static_cast<std::uint8_t>(num & 0xFF));
    body.push_back(static_cast<std::uint8_t>(0xE0 | (pid >> 8)));
    body.push_back(static_cast<std::uint8_t>(pid & 0xFF));
  }
  return psi_section(0x00, tsid, version, body);
}

Bytes pmt_section(std::uint16_t program, std::uint16_t pcr_pid, const std::vector<EsSpec>& streams, unsigned version,
                  const Bytes& program_descriptors) {
  Bytes body;
  body.push_back(static_cast<std::uint8_t>(0xE0 | (pcr_pid >> 8)));
  body.push_back(static_cast<std::uint8_t>(pcr_pid & 0xFF));
  body.push_back(static_cast<std::uint8_t>(0xF0 | (program_descriptors.size() >> 8)));
  body.push_back(static_cast<std::uint8_t>(program_descriptors.size() & 0xFF));
  body.insert(body.end(), program_descriptors.begin(), program_descriptors.end());
  for (const auto& es : streams) {
    body.push_back(es.stream_type);
    body.push_back(static_cast<std::uint8_t>(0xE0 | (es.pid >> 8)));
    body.push_back(static_cast<std::uint8_t>(es.pid & 0xFF));
    body.push_back(static_cast<std::uint8_t>(0xF0 | (es.descriptors.size() >> 8)));
    body.push_back(static_cast<std::uint8_t>(es.descriptors.size() & 0xFF));
    body.insert(body.end(), es.descriptors.begin(), es.descriptors.end());
  }
  return psi_section(0x02, program, version, body);
}

Bytes sdt_section(std::uint16_t tsid, const std::vector<std::pair<std::uint16_t, std::string>>& services) {
  Bytes body = {0x00, 0x01, 0xFF};  // original_network_id, reserved
  for (const auto& [id, name] : services) {
    Bytes d = {0x48, 0, 0x01, 0x00};  // service_descriptor: TV, empty provider
    d.push_back(static_cast<std::uint8_t>(name.size()));
    d.insert(d.end(), name.begin(), name.end());
    d[1] = static_cast<std::uint8_t>(d.size() - 2);
    body.push_back(static_cast<std::uint8_t>(id >> 8));
    body.push_back(static_cast<std::uint8_t>(id & 0xFF));
    body.push_back(0xFC);
    body.push_back(static_cast<std::uint8_t>(0x80 | (d.size() >> 8)));  // running
    body.push_back(static_cast<std::uint8_t>(d.size() & 0xFF));
    body.insert(body.end(), d.begin(), d.end());
  }
  return psi_section(0x42, tsid, 0, body);
}

std::vector<Bytes> section_packets(std::uint16_t pid, const Bytes& section, unsigned& cc) {
  std::vector<Bytes> out;
  Bytes rest = section;
  rest.insert(rest.begin(), 0x00);  // pointer_field
  bool first = true;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    std::size_t n = std::min<std::size_t>(184, rest.size() - pos);
    PacketSpec s;
    s.pid = pid;
    s.cc = cc++ & 0x0F;
    s.pusi = first;
    s.data.assign(rest.begin() + static_cast<std::ptrdiff_t>(pos), rest.begin() + static_cast<std::ptrdiff_t>(pos + n));
    s.data.resize(184, 0xFF);  // stuffing after the section, not an adaptation field
    out.push_back(ts_packet(s));
    pos += n;
    first = false;
  }
  return out;
}

Bytes pes_header(std::uint8_t stream_id, std::int64_t pts, std::optional<std::int64_t> dts) {
  auto stamp = [](std::uint8_t prefix, std::int64_t t) {
    return Bytes{static_cast<std::uint8_t>(prefix << 4 | ((t >> 29) & 0x0E) | 1),
                 static_cast<std::uint8_t>(t >> 22), static_cast<std::uint8_t>(((t >> 14) & 0xFE) | 1),
                 static_cast<std::uint8_t>(t >> 7), static_cast<std::uint8_t>(((t << 1) & 0xFE) | 1)};
  };
  Bytes h = {0x00, 0x00, 0x01, stream_id, 0x00, 0x00, 0x80, static_cast<std::uint8_t>(dts ? 0xC0 : 0x80),
             static_cast<std::uint8_t>(dts ? 10 : 5)};
  Bytes p = stamp(dts ? 0x3 : 0x2, pts);
  h.insert(h.end(), p.begin(), p.end());
  if (dts) {
    Bytes d = stamp(0x1, *dts);
    h.insert(h.end(), d.begin(), d.end());
  }
  h.resize(184, 0xAA);
  return h;
}

Bytes join(const std::vector<Bytes>& packets) {
  Bytes out;
  for (const auto& p : packets) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace avmon::test
