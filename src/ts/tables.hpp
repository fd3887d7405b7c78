// PSI/SI tables as avmon needs them: PAT, PMT (with descriptors), CAT, SDT,
// NIT, EIT and TDT/TOT headers (ISO/IEC 13818-1 2.4.4, ETSI EN 300 468).
// Parsers take one complete section (CRC already checked by the caller) and
// return nullopt when it is too short or inconsistent; they never read past
// `size`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ts/sections.hpp"

namespace avmon::ts {

enum TableId : std::uint8_t {
  kTidPat = 0x00, kTidCat = 0x01, kTidPmt = 0x02, kTidNitActual = 0x40, kTidNitOther = 0x41,
  kTidSdtActual = 0x42, kTidSdtOther = 0x46, kTidBat = 0x4A, kTidEitPfActual = 0x4E, kTidEitPfOther = 0x4F,
  kTidRst = 0x71, kTidStuffing = 0x72, kTidTdt = 0x70, kTidTot = 0x73, kTidScte35 = 0xFC,
};

struct Descriptor {
  std::uint8_t tag = 0;
  std::vector<std::uint8_t> data;  // the descriptor's payload (after tag and length)
};

struct PatEntry {
  std::uint16_t program_number = 0;  // 0: the NIT's PID
  std::uint16_t pid = 0;
};
struct Pat {
  std::uint16_t transport_stream_id = 0;
  unsigned version = 0;
  std::vector<PatEntry> programs;  // in the table's order
};

struct PmtStream {
  std::uint8_t stream_type = 0;
  std::uint16_t pid = 0;
  std::vector<Descriptor> descriptors;
};
struct Pmt {
  std::uint16_t program_number = 0;
  unsigned version = 0;
  std::uint16_t pcr_pid = 0x1FFF;
  std::vector<Descriptor> descriptors;  // program_info
  std::vector<PmtStream> streams;
};

struct SdtService {
  std::uint16_t service_id = 0;
  std::uint8_t service_type = 0;
  bool free_ca_mode = false;
  unsigned running_status = 0;
  std::string name, provider;  // UTF-8
};
struct Sdt {
  bool actual = true;
  std::uint16_t transport_stream_id = 0;
  std::uint16_t original_network_id = 0;
  std::vector<SdtService> services;
};

std::optional<Pat> parse_pat(const Section& s);
std::optional<Pmt> parse_pmt(const Section& s);
// EMM PIDs from the CAT's CA descriptors.
std::optional<std::vector<std::uint16_t>> parse_cat_pids(const Section& s);
std::optional<Sdt> parse_sdt(const Section& s);
// Network name of an NIT section (empty when it has none).
std::optional<std::string> parse_nit_name(const Section& s);
// UTC seconds since 1970 from a TDT or TOT section.
std::optional<std::int64_t> parse_utc_time(const Section& s);

// Descriptors in [p, p + n); nullopt when one runs past the end.
std::optional<std::vector<Descriptor>> parse_descriptors(const std::uint8_t* p, std::size_t n);
// CA_system_id/CA_PID pairs of CA descriptors (tag 0x09).
std::vector<std::uint16_t> ca_pids(const std::vector<Descriptor>& ds);
// format_identifier of a registration descriptor (tag 0x05), e.g. 'CUEI'.
std::optional<std::uint32_t> registration(const std::vector<Descriptor>& ds);
// ISO 639 language of the first language, subtitling or teletext descriptor.
std::string language(const std::vector<Descriptor>& ds);

// What an elementary stream carries, from its stream_type and descriptors.
enum class StreamKind { Video, Audio, Subtitles, Teletext, Data, Scte35, Other };
StreamKind stream_kind(const PmtStream& es);
const char* stream_kind_name(StreamKind k);
// A short codec name ("h264", "mpeg2video", "aac", "ac3", "eac3", ...).
std::string codec_name(const PmtStream& es);

}  // namespace avmon::ts
