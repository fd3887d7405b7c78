// SCTE-35 splice_info_section: the data model, a parser, a writer (for
// tests and tools that inject cues) and a JSON rendering for events. No
// dependency on libav: the input is the bytes of one complete section, as a
// PSI section filter delivers them (table_id 0xFC through CRC_32).
//
// Times are kept as the 33-bit values of the section (90 kHz). The splice
// time a decoder acts on is pts_time + pts_adjustment modulo 2^33
// (adjusted_pts()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace avmon::scte35 {

inline constexpr std::uint64_t kPtsModulus = 1ull << 33;
inline constexpr std::uint64_t kPtsMask = kPtsModulus - 1;

enum class CommandType : std::uint8_t {
  SpliceNull = 0x00,
  SpliceSchedule = 0x04,
  SpliceInsert = 0x05,
  TimeSignal = 0x06,
  BandwidthReservation = 0x07,
  PrivateCommand = 0xFF,
};

struct SpliceTime {
  bool specified = false;
  std::uint64_t pts = 0;  // 33 bits; meaningful when specified
  bool operator==(const SpliceTime&) const = default;
};

struct BreakDuration {
  bool auto_return = false;
  std::uint64_t duration = 0;  // 33 bits, 90 kHz
  bool operator==(const BreakDuration&) const = default;
};

struct InsertComponent {
  std::uint8_t tag = 0;
  SpliceTime time;  // absent when splice_immediate
  bool operator==(const InsertComponent&) const = default;
};

struct SpliceInsert {
  std::uint32_t event_id = 0;
  bool cancel = false;
  // The rest is present only when !cancel.
  bool out_of_network = false;
  bool program_splice = false;
  bool duration_flag = false;
  bool immediate = false;
  bool event_id_compliance = true;  // SCTE 35 2020: '1' unless the event id is reused non-compliantly
  SpliceTime time;                  // program splice, !immediate
  std::vector<InsertComponent> components;  // component splice
  std::optional<BreakDuration> duration;
  std::uint16_t unique_program_id = 0;
  std::uint8_t avail_num = 0;
  std::uint8_t avails_expected = 0;
  bool operator==(const SpliceInsert&) const = default;
};

struct ScheduleComponent {
  std::uint8_t tag = 0;
  std::uint32_t utc_splice_time = 0;  // seconds since 1980-01-06 00:00:00 UTC (GPS epoch)
  bool operator==(const ScheduleComponent&) const = default;
};

struct ScheduleEvent {
  std::uint32_t event_id = 0;
  bool cancel = false;
  bool event_id_compliance = true;
  bool out_of_network = false;
  bool program_splice = false;
  bool duration_flag = false;
  std::uint32_t utc_splice_time = 0;  // program splice
  std::vector<ScheduleComponent> components;
  std::optional<BreakDuration> duration;
  std::uint16_t unique_program_id = 0;
  std::uint8_t avail_num = 0;
  std::uint8_t avails_expected = 0;
  bool operator==(const ScheduleEvent&) const = default;
};

struct SpliceSchedule {
  std::vector<ScheduleEvent> events;
  bool operator==(const SpliceSchedule&) const = default;
};

struct TimeSignal {
  SpliceTime time;
  bool operator==(const TimeSignal&) const = default;
};

struct PrivateCommand {
  std::uint32_t identifier = 0;
  std::vector<std::uint8_t> data;
  bool operator==(const PrivateCommand&) const = default;
};

struct SpliceNull {
  bool operator==(const SpliceNull&) const = default;
};
struct BandwidthReservation {
  bool operator==(const BandwidthReservation&) const = default;
};
// A command type this parser does not know, or the encrypted part of an
// encrypted section: kept as bytes.
struct OpaqueCommand {
  std::uint8_t type = 0;
  std::vector<std::uint8_t> data;
  bool operator==(const OpaqueCommand&) const = default;
};

using Command = std::variant<SpliceNull, SpliceSchedule, SpliceInsert, TimeSignal, BandwidthReservation,
                             PrivateCommand, OpaqueCommand>;

// Splice descriptors (tag, length, identifier "CUEI" = 0x43554549, body).
inline constexpr std::uint32_t kCuei = 0x43554549;

struct AvailDescriptor {  // tag 0
  std::uint32_t provider_avail_id = 0;
  bool operator==(const AvailDescriptor&) const = default;
};
struct DtmfDescriptor {  // tag 1
  std::uint8_t preroll = 0;  // tenths of a second
  std::string chars;
  bool operator==(const DtmfDescriptor&) const = default;
};
struct SegmentationComponent {
  std::uint8_t tag = 0;
  std::uint64_t pts_offset = 0;  // 33 bits
  bool operator==(const SegmentationComponent&) const = default;
};
struct SegmentationDescriptor {  // tag 2
  std::uint32_t event_id = 0;
  bool cancel = false;
  bool event_id_compliance = true;
  // The rest is present only when !cancel.
  bool program_segmentation = true;
  bool duration_flag = false;
  bool delivery_not_restricted = true;
  // Present only when !delivery_not_restricted.
  bool web_delivery_allowed = false;
  bool no_regional_blackout = false;
  bool archive_allowed = false;
  std::uint8_t device_restrictions = 0;  // 2 bits
  std::vector<SegmentationComponent> components;  // !program_segmentation
  std::uint64_t duration = 0;  // 40 bits, 90 kHz; when duration_flag
  std::uint8_t upid_type = 0;
  std::vector<std::uint8_t> upid;
  std::uint8_t type_id = 0;
  std::uint8_t segment_num = 0;
  std::uint8_t segments_expected = 0;
  bool has_sub_segments = false;  // present for the placement-opportunity types
  std::uint8_t sub_segment_num = 0;
  std::uint8_t sub_segments_expected = 0;
  bool operator==(const SegmentationDescriptor&) const = default;
};
struct TimeDescriptor {  // tag 3
  std::uint64_t tai_seconds = 0;  // 48 bits
  std::uint32_t tai_ns = 0;
  std::uint16_t utc_offset = 0;
  bool operator==(const TimeDescriptor&) const = default;
};
struct AudioComponent {
  std::uint8_t tag = 0;
  std::string iso_code;  // 3 characters as carried
  std::uint8_t bit_stream_mode = 0;  // 3 bits
  std::uint8_t num_channels = 0;     // 4 bits
  bool full_srvc_audio = false;
  bool operator==(const AudioComponent&) const = default;
};
struct AudioDescriptor {  // tag 4
  std::vector<AudioComponent> components;
  bool operator==(const AudioDescriptor&) const = default;
};
struct OtherDescriptor {  // any other tag, or another identifier than CUEI
  std::vector<std::uint8_t> data;  // after the identifier
  bool operator==(const OtherDescriptor&) const = default;
};

struct Descriptor {
  std::uint8_t tag = 0;
  std::uint8_t length = 0;  // descriptor_length as carried
  std::uint32_t identifier = kCuei;
  std::variant<AvailDescriptor, DtmfDescriptor, SegmentationDescriptor, TimeDescriptor, AudioDescriptor,
               OtherDescriptor>
      body;
  bool operator==(const Descriptor&) const = default;
};

struct SpliceInfoSection {
  std::uint8_t table_id = 0xFC;
  bool section_syntax_indicator = false;
  bool private_indicator = false;
  std::uint8_t sap_type = 3;  // 2 bits; 3 = not specified
  std::uint16_t section_length = 0;
  std::uint8_t protocol_version = 0;
  bool encrypted_packet = false;
  std::uint8_t encryption_algorithm = 0;  // 6 bits
  std::uint64_t pts_adjustment = 0;       // 33 bits
  std::uint8_t cw_index = 0;
  std::uint16_t tier = 0xFFF;             // 12 bits
  std::uint16_t splice_command_length = 0;  // 12 bits; 0xFFF: unspecified (legacy)
  std::uint8_t splice_command_type = 0;
  Command command;
  std::vector<Descriptor> descriptors;  // empty when encrypted (they are part of the encrypted data)
  std::size_t alignment_stuffing = 0;   // bytes
  std::uint32_t e_crc_32 = 0;           // encrypted sections only
  std::uint32_t crc_32 = 0;             // as carried
  bool crc_ok = false;                  // the CRC over the whole section checks

  // The splice time of a pts_time field of this section, in the stream's
  // PTS clock: (pts_time + pts_adjustment) mod 2^33.
  std::uint64_t adjusted_pts(std::uint64_t pts_time) const { return (pts_time + pts_adjustment) & kPtsMask; }
};

struct ParseResult {
  std::optional<SpliceInfoSection> section;  // set when the syntax could be read
  std::string error;                          // why not, or a warning about the content
};

// Parses one complete section. A CRC mismatch is not a parse failure (the
// section is returned with crc_ok = false); a section whose syntax cannot be
// read (truncated, lengths that overflow their containers) is.
ParseResult parse(const std::uint8_t* data, std::size_t size);
inline ParseResult parse(const std::vector<std::uint8_t>& s) { return parse(s.data(), s.size()); }

// The splice_command_type of a command (OpaqueCommand: the type it carries).
std::uint8_t command_type_of(const Command& c);

// Serialises a section: section_length, splice_command_length (unless it is
// 0xFFF, kept as the legacy "unspecified"), descriptor lengths and CRC_32 are
// computed, splice_command_type is the command's; the other header fields are
// written as given. Encrypted sections
// are written with their command as OpaqueCommand bytes.
std::vector<std::uint8_t> write(const SpliceInfoSection& s);

// Names as SCTE 35 gives them: "splice_insert", "Provider Placement
// Opportunity Start", "Ad-ID"...
const char* command_name(std::uint8_t type);
std::string segmentation_type_name(std::uint8_t type_id);
std::string upid_type_name(std::uint8_t upid_type);

// The decoded fields as JSON (for the scte35.cue event): raw 90 kHz values,
// and seconds where a person reads them.
nlohmann::json to_json(const SpliceInfoSection& s);

// Segmentation types that open or close a break/placement (SCTE 35 table 22).
bool segmentation_type_is_start(std::uint8_t type_id);
bool segmentation_type_is_end(std::uint8_t type_id);

}  // namespace avmon::scte35
