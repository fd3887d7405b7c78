#include "ts/tables.hpp"

#include "ts/dvb_text.hpp"

namespace avmon::ts {

namespace {

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint16_t pid13(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] & 0x1F) << 8 | p[1]); }
std::size_t len12(const std::uint8_t* p) { return static_cast<std::size_t>((p[0] & 0x0F) << 8 | p[1]); }

// Long-form sections: the body between the 8-byte header and the CRC_32.
bool long_body(const Section& s, std::size_t min_body, const std::uint8_t*& p, std::size_t& n) {
  if (!s.long_form() || s.size < 12 + min_body) return false;
  p = s.data + 8;
  n = s.size - 12;
  return true;
}

unsigned bcd(std::uint8_t b) { return (b >> 4) * 10u + (b & 0x0F); }

}  // namespace

std::optional<std::vector<Descriptor>> parse_descriptors(const std::uint8_t* p, std::size_t n) {
  std::vector<Descriptor> out;
  std::size_t i = 0;
  while (i + 2 <= n) {
    std::size_t len = p[i + 1];
    if (i + 2 + len > n) return std::nullopt;
    out.push_back({p[i], std::vector<std::uint8_t>(p + i + 2, p + i + 2 + len)});
    i += 2 + len;
  }
  if (i != n) return std::nullopt;
  return out;
}

std::optional<Pat> parse_pat(const Section& s) {
  const std::uint8_t* p;
  std::size_t n;
  if (s.table_id() != kTidPat || !long_body(s, 0, p, n) || n % 4 != 0) return std::nullopt;
  Pat pat;
  pat.transport_stream_id = s.table_id_extension();
  pat.version = s.version();
  for (std::size_t i = 0; i < n; i += 4) pat.programs.push_back({u16(p + i), pid13(p + i + 2)});
  return pat;
}

std::optional<Pmt> parse_pmt(const Section& s) {
  const std::uint8_t* p;
  std::size_t n;
  if (s.table_id() != kTidPmt || !long_body(s, 4, p, n)) return std::nullopt;
  Pmt pmt;
  pmt.program_number = s.table_id_extension();
  pmt.version = s.version();
  pmt.pcr_pid = pid13(p);
  std::size_t info = len12(p + 2);
  if (4 + info > n) return std::nullopt;
  auto pd = parse_descriptors(p + 4, info);
  if (!pd) return std::nullopt;
  pmt.descriptors = std::move(*pd);
  for (std::size_t i = 4 + info; i < n;) {
    if (i + 5 > n) return std::nullopt;
    PmtStream es;
    es.stream_type = p[i];
    es.pid = pid13(p + i + 1);
    std::size_t es_len = len12(p + i + 3);
    if (i + 5 + es_len > n) return std::nullopt;
    auto d = parse_descriptors(p + i + 5, es_len);
    if (!d) return std::nullopt;
    es.descriptors = std::move(*d);
    pmt.streams.push_back(std::move(es));
    i += 5 + es_len;
  }
  return pmt;
}

std::optional<std::vector<std::uint16_t>> parse_cat_pids(const Section& s) {
  const std::uint8_t* p;
  std::size_t n;
  if (s.table_id() != kTidCat || !long_body(s, 0, p, n)) return std::nullopt;
  auto d = parse_descriptors(p, n);
  if (!d) return std::nullopt;
  return ca_pids(*d);
}

std::optional<Sdt> parse_sdt(const Section& s) {
  const std::uint8_t* p;
  std::size_t n;
  if ((s.table_id() != kTidSdtActual && s.table_id() != kTidSdtOther) || !long_body(s, 3, p, n)) return std::nullopt;
  Sdt sdt;
  sdt.actual = s.table_id() == kTidSdtActual;
  sdt.transport_stream_id = s.table_id_extension();
  sdt.original_network_id = u16(p);
  for (std::size_t i = 3; i < n;) {
    if (i + 5 > n) return std::nullopt;
    SdtService svc;
    svc.service_id = u16(p + i);
    svc.running_status = p[i + 3] >> 5;
    svc.free_ca_mode = p[i + 3] & 0x10;
    std::size_t dlen = len12(p + i + 3);
    if (i + 5 + dlen > n) return std::nullopt;
    auto ds = parse_descriptors(p + i + 5, dlen);
    if (!ds) return std::nullopt;
    for (const auto& d : *ds) {
      if (d.tag != 0x48 || d.data.size() < 3) continue;  // service_descriptor
      const auto& b = d.data;
      svc.service_type = b[0];
      std::size_t plen = b[1];
      if (2 + plen + 1 > b.size()) continue;
      std::size_t nlen = b[2 + plen];
      if (3 + plen + nlen > b.size()) continue;
      svc.provider = dvb_text_to_utf8(b.data() + 2, plen);
      svc.name = dvb_text_to_utf8(b.data() + 3 + plen, nlen);
    }
    sdt.services.push_back(std::move(svc));
    i += 5 + dlen;
  }
  return sdt;
}

std::optional<std::string> parse_nit_name(const Section& s) {
  const std::uint8_t* p;
  std::size_t n;
  if ((s.table_id() != kTidNitActual && s.table_id() != kTidNitOther) || !long_body(s, 2, p, n)) return std::nullopt;
  std::size_t dlen = len12(p);
  if (2 + dlen > n) return std::nullopt;
  auto ds = parse_descriptors(p + 2, dlen);
  if (!ds) return std::nullopt;
  for (const auto& d : *ds)
    if (d.tag == 0x40) return dvb_text_to_utf8(d.data.data(), d.data.size());  // network_name_descriptor
  return std::string();
}

std::optional<std::int64_t> parse_utc_time(const Section& s) {
  if ((s.table_id() != kTidTdt && s.table_id() != kTidTot) || s.size < 8) return std::nullopt;
  const std::uint8_t* t = s.data + 3;
  std::int64_t mjd = u16(t);
  unsigned h = bcd(t[2]), m = bcd(t[3]), sec = bcd(t[4]);
  if (h > 23 || m > 59 || sec > 60) return std::nullopt;
  return (mjd - 40587) * 86400 + h * 3600 + m * 60 + sec;
}

std::vector<std::uint16_t> ca_pids(const std::vector<Descriptor>& ds) {
  std::vector<std::uint16_t> out;
  for (const auto& d : ds)
    if (d.tag == 0x09 && d.data.size() >= 4) out.push_back(pid13(d.data.data() + 2));
  return out;
}

std::optional<std::uint32_t> registration(const std::vector<Descriptor>& ds) {
  for (const auto& d : ds)
    if (d.tag == 0x05 && d.data.size() >= 4)
      return static_cast<std::uint32_t>(d.data[0]) << 24 | d.data[1] << 16 | d.data[2] << 8 | d.data[3];
  return std::nullopt;
}

std::string language(const std::vector<Descriptor>& ds) {
  for (const auto& d : ds)
    if ((d.tag == 0x0A || d.tag == 0x59 || d.tag == 0x56 || d.tag == 0x46) && d.data.size() >= 3)
      return dvb_text_to_utf8(d.data.data(), 3);
  return {};
}

namespace {
bool has_tag(const PmtStream& es, std::uint8_t tag) {
  for (const auto& d : es.descriptors)
    if (d.tag == tag) return true;
  return false;
}
constexpr std::uint32_t fourcc(const char (&s)[5]) {
  return static_cast<std::uint32_t>(s[0]) << 24 | static_cast<std::uint32_t>(s[1]) << 16 |
         static_cast<std::uint32_t>(s[2]) << 8 | static_cast<std::uint32_t>(s[3]);
}
}  // namespace

std::string codec_name(const PmtStream& es) {
  switch (es.stream_type) {
    case 0x01: return "mpeg1video";
    case 0x02: return "mpeg2video";
    case 0x03: case 0x04: return "mp2";
    case 0x0F: return "aac";
    case 0x10: return "mpeg4";
    case 0x11: return "aac_latm";
    case 0x1B: return "h264";
    case 0x24: return "hevc";
    case 0x33: return "vvc";
    case 0x42: return "cavs";
    case 0xD1: return "dirac";
    case 0xEA: return "vc1";
    case 0x81: return "ac3";
    case 0x87: return "eac3";
    case 0x86: return "scte_35";
    case 0x05: return "private_sections";
    default: break;
  }
  if (es.stream_type == 0x06) {
    if (has_tag(es, 0x6A)) return "ac3";
    if (has_tag(es, 0x7A)) return "eac3";
    if (has_tag(es, 0x7B)) return "dts";
    if (has_tag(es, 0x7C)) return "aac";
    if (has_tag(es, 0x59)) return "dvb_subtitle";
    if (has_tag(es, 0x56) || has_tag(es, 0x46)) return "dvb_teletext";
    if (auto r = registration(es.descriptors)) {
      if (*r == fourcc("Opus")) return "opus";
      if (*r == fourcc("AC-3")) return "ac3";
      if (*r == fourcc("EAC3")) return "eac3";
      if (*r == fourcc("BSSD")) return "s302m";
      if (*r == fourcc("HEVC")) return "hevc";
      if (*r == fourcc("KLVA")) return "klv";
    }
  }
  return "unknown";
}

StreamKind stream_kind(const PmtStream& es) {
  std::string c = codec_name(es);
  if (c == "mpeg1video" || c == "mpeg2video" || c == "mpeg4" || c == "h264" || c == "hevc" || c == "vvc" ||
      c == "cavs" || c == "dirac" || c == "vc1")
    return StreamKind::Video;
  if (c == "mp2" || c == "aac" || c == "aac_latm" || c == "ac3" || c == "eac3" || c == "dts" || c == "opus" ||
      c == "s302m")
    return StreamKind::Audio;
  if (c == "dvb_subtitle") return StreamKind::Subtitles;
  if (c == "dvb_teletext") return StreamKind::Teletext;
  if (c == "scte_35") return StreamKind::Scte35;
  if (auto r = registration(es.descriptors); r && *r == fourcc("CUEI") && es.stream_type == 0x86) return StreamKind::Scte35;
  if (c == "private_sections" || c == "klv" || es.stream_type == 0x0B || es.stream_type == 0x0C ||
      es.stream_type == 0x0D || es.stream_type == 0x15)
    return StreamKind::Data;
  return StreamKind::Other;
}

const char* stream_kind_name(StreamKind k) {
  switch (k) {
    case StreamKind::Video: return "video";
    case StreamKind::Audio: return "audio";
    case StreamKind::Subtitles: return "subtitles";
    case StreamKind::Teletext: return "teletext";
    case StreamKind::Data: return "data";
    case StreamKind::Scte35: return "scte_35";
    case StreamKind::Other: return "other";
  }
  return "other";
}

}  // namespace avmon::ts
