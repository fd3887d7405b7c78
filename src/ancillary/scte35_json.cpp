// SCTE 35 names and the JSON form of a decoded section (the details of a
// scte35.cue event). Byte strings from the section (UPIDs, DTMF, language
// codes) are rendered as hex or escaped, so the JSON is valid UTF-8 whatever
// the section carries.
#include <cstdio>

#include "ancillary/scte35.hpp"

namespace avmon::scte35 {

namespace {

std::string hex_bytes(const std::vector<std::uint8_t>& b) {
  std::string s;
  char buf[4];
  for (auto x : b) {
    std::snprintf(buf, sizeof buf, "%02X", x);
    s += buf;
  }
  return s;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// Printable ASCII as is, anything else as \xNN.
std::string ascii(const std::string& in) {
  std::string s;
  char buf[8];
  for (unsigned char c : in) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      s += static_cast<char>(c);
    } else {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      s += buf;
    }
  }
  return s;
}

double seconds(std::uint64_t ticks_90k) { return static_cast<double>(ticks_90k) / 90000.0; }

nlohmann::json splice_time(const SpliceTime& t, const SpliceInfoSection& s) {
  if (!t.specified) return nullptr;
  return {{"pts_time", t.pts}, {"adjusted_pts", s.adjusted_pts(t.pts)}};
}

nlohmann::json break_duration(const BreakDuration& d) {
  return {{"auto_return", d.auto_return}, {"duration", d.duration}, {"duration_s", seconds(d.duration)}};
}

struct CommandJson {
  const SpliceInfoSection& s;
  nlohmann::json operator()(const SpliceNull&) const { return nlohmann::json::object(); }
  nlohmann::json operator()(const BandwidthReservation&) const { return nlohmann::json::object(); }
  nlohmann::json operator()(const TimeSignal& t) const { return {{"splice_time", splice_time(t.time, s)}}; }
  nlohmann::json operator()(const PrivateCommand& p) const {
    return {{"identifier", hex32(p.identifier)}, {"private_bytes", hex_bytes(p.data)}};
  }
  nlohmann::json operator()(const OpaqueCommand& o) const { return {{"bytes", o.data.size()}}; }
  nlohmann::json operator()(const SpliceInsert& i) const {
    nlohmann::json j = {{"splice_event_id", i.event_id}, {"splice_event_cancel_indicator", i.cancel}};
    if (i.cancel) return j;
    j["out_of_network_indicator"] = i.out_of_network;
    j["program_splice_flag"] = i.program_splice;
    j["duration_flag"] = i.duration_flag;
    j["splice_immediate_flag"] = i.immediate;
    j["event_id_compliance_flag"] = i.event_id_compliance;
    if (i.program_splice && !i.immediate) j["splice_time"] = splice_time(i.time, s);
    if (!i.program_splice) {
      nlohmann::json comps = nlohmann::json::array();
      for (const auto& c : i.components) {
        nlohmann::json cj = {{"component_tag", c.tag}};
        if (!i.immediate) cj["splice_time"] = splice_time(c.time, s);
        comps.push_back(cj);
      }
      j["components"] = comps;
    }
    if (i.duration) j["break_duration"] = break_duration(*i.duration);
    j["unique_program_id"] = i.unique_program_id;
    j["avail_num"] = i.avail_num;
    j["avails_expected"] = i.avails_expected;
    return j;
  }
  nlohmann::json operator()(const SpliceSchedule& sched) const {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : sched.events) {
      nlohmann::json j = {{"splice_event_id", e.event_id}, {"splice_event_cancel_indicator", e.cancel}};
      if (!e.cancel) {
        j["out_of_network_indicator"] = e.out_of_network;
        j["program_splice_flag"] = e.program_splice;
        j["duration_flag"] = e.duration_flag;
        if (e.program_splice) {
          j["utc_splice_time"] = e.utc_splice_time;
        } else {
          nlohmann::json comps = nlohmann::json::array();
          for (const auto& c : e.components) comps.push_back({{"component_tag", c.tag}, {"utc_splice_time", c.utc_splice_time}});
          j["components"] = comps;
        }
        if (e.duration) j["break_duration"] = break_duration(*e.duration);
        j["unique_program_id"] = e.unique_program_id;
        j["avail_num"] = e.avail_num;
        j["avails_expected"] = e.avails_expected;
      }
      events.push_back(j);
    }
    return {{"events", events}};
  }
};

struct DescriptorJson {
  nlohmann::json& j;
  void operator()(const AvailDescriptor& a) const { j["provider_avail_id"] = hex32(a.provider_avail_id); }
  void operator()(const DtmfDescriptor& d) const {
    j["preroll_s"] = d.preroll / 10.0;
    j["dtmf"] = ascii(d.chars);
  }
  void operator()(const TimeDescriptor& t) const {
    j["tai_seconds"] = t.tai_seconds;
    j["tai_ns"] = t.tai_ns;
    j["utc_offset"] = t.utc_offset;
  }
  void operator()(const AudioDescriptor& a) const {
    nlohmann::json comps = nlohmann::json::array();
    for (const auto& c : a.components)
      comps.push_back({{"component_tag", c.tag}, {"iso_code", ascii(c.iso_code)}, {"bit_stream_mode", c.bit_stream_mode},
                       {"num_channels", c.num_channels}, {"full_srvc_audio", c.full_srvc_audio}});
    j["components"] = comps;
  }
  void operator()(const OtherDescriptor& o) const { j["data"] = hex_bytes(o.data); }
  void operator()(const SegmentationDescriptor& d) const {
    j["segmentation_event_id"] = d.event_id;
    j["segmentation_event_cancel_indicator"] = d.cancel;
    if (d.cancel) return;
    j["program_segmentation_flag"] = d.program_segmentation;
    j["delivery_not_restricted_flag"] = d.delivery_not_restricted;
    if (!d.delivery_not_restricted) {
      j["web_delivery_allowed_flag"] = d.web_delivery_allowed;
      j["no_regional_blackout_flag"] = d.no_regional_blackout;
      j["archive_allowed_flag"] = d.archive_allowed;
      j["device_restrictions"] = d.device_restrictions;
    }
    if (!d.program_segmentation) {
      nlohmann::json comps = nlohmann::json::array();
      for (const auto& c : d.components) comps.push_back({{"component_tag", c.tag}, {"pts_offset", c.pts_offset}});
      j["components"] = comps;
    }
    if (d.duration_flag) {
      j["segmentation_duration"] = d.duration;
      j["segmentation_duration_s"] = seconds(d.duration);
    }
    j["segmentation_upid_type"] = d.upid_type;
    j["segmentation_upid_type_name"] = upid_type_name(d.upid_type);
    j["segmentation_upid"] = hex_bytes(d.upid);
    j["segmentation_type_id"] = d.type_id;
    j["segmentation_type"] = segmentation_type_name(d.type_id);
    j["segment_num"] = d.segment_num;
    j["segments_expected"] = d.segments_expected;
    if (d.has_sub_segments) {
      j["sub_segment_num"] = d.sub_segment_num;
      j["sub_segments_expected"] = d.sub_segments_expected;
    }
  }
};

const char* descriptor_name(std::uint8_t tag) {
  switch (tag) {
    case 0: return "avail_descriptor";
    case 1: return "DTMF_descriptor";
    case 2: return "segmentation_descriptor";
    case 3: return "time_descriptor";
    case 4: return "audio_descriptor";
    default: return "unknown";
  }
}

}  // namespace

std::uint8_t command_type_of(const Command& c) {
  if (auto* o = std::get_if<OpaqueCommand>(&c)) return o->type;
  static constexpr CommandType kByIndex[] = {CommandType::SpliceNull,   CommandType::SpliceSchedule,
                                             CommandType::SpliceInsert, CommandType::TimeSignal,
                                             CommandType::BandwidthReservation, CommandType::PrivateCommand};
  return static_cast<std::uint8_t>(kByIndex[c.index()]);
}

const char* command_name(std::uint8_t type) {
  switch (static_cast<CommandType>(type)) {
    case CommandType::SpliceNull: return "splice_null";
    case CommandType::SpliceSchedule: return "splice_schedule";
    case CommandType::SpliceInsert: return "splice_insert";
    case CommandType::TimeSignal: return "time_signal";
    case CommandType::BandwidthReservation: return "bandwidth_reservation";
    case CommandType::PrivateCommand: return "private_command";
  }
  return "reserved";
}

std::string segmentation_type_name(std::uint8_t id) {
  switch (id) {
    case 0x00: return "Not Indicated";
    case 0x01: return "Content Identification";
    case 0x02: return "Call Ad Server";
    case 0x10: return "Program Start";
    case 0x11: return "Program End";
    case 0x12: return "Program Early Termination";
    case 0x13: return "Program Breakaway";
    case 0x14: return "Program Resumption";
    case 0x15: return "Program Runover Planned";
    case 0x16: return "Program Runover Unplanned";
    case 0x17: return "Program Overlap Start";
    case 0x18: return "Program Blackout Override";
    case 0x19: return "Program Join";
    case 0x20: return "Chapter Start";
    case 0x21: return "Chapter End";
    case 0x22: return "Break Start";
    case 0x23: return "Break End";
    case 0x24: return "Opening Credit Start";
    case 0x25: return "Opening Credit End";
    case 0x26: return "Closing Credit Start";
    case 0x27: return "Closing Credit End";
    case 0x30: return "Provider Advertisement Start";
    case 0x31: return "Provider Advertisement End";
    case 0x32: return "Distributor Advertisement Start";
    case 0x33: return "Distributor Advertisement End";
    case 0x34: return "Provider Placement Opportunity Start";
    case 0x35: return "Provider Placement Opportunity End";
    case 0x36: return "Distributor Placement Opportunity Start";
    case 0x37: return "Distributor Placement Opportunity End";
    case 0x38: return "Provider Overlay Placement Opportunity Start";
    case 0x39: return "Provider Overlay Placement Opportunity End";
    case 0x3A: return "Distributor Overlay Placement Opportunity Start";
    case 0x3B: return "Distributor Overlay Placement Opportunity End";
    case 0x3C: return "Provider Promo Start";
    case 0x3D: return "Provider Promo End";
    case 0x3E: return "Distributor Promo Start";
    case 0x3F: return "Distributor Promo End";
    case 0x40: return "Unscheduled Event Start";
    case 0x41: return "Unscheduled Event End";
    case 0x42: return "Alternate Content Opportunity Start";
    case 0x43: return "Alternate Content Opportunity End";
    case 0x44: return "Provider Ad Block Start";
    case 0x45: return "Provider Ad Block End";
    case 0x46: return "Distributor Ad Block Start";
    case 0x47: return "Distributor Ad Block End";
    case 0x50: return "Network Start";
    case 0x51: return "Network End";
    default: return "Reserved";
  }
}

std::string upid_type_name(std::uint8_t t) {
  switch (t) {
    case 0x00: return "Not Used";
    case 0x01: return "User Defined";
    case 0x02: return "ISCI";
    case 0x03: return "Ad-ID";
    case 0x04: return "UMID";
    case 0x05: return "ISAN (deprecated)";
    case 0x06: return "ISAN";
    case 0x07: return "TID";
    case 0x08: return "TI";
    case 0x09: return "ADI";
    case 0x0A: return "EIDR";
    case 0x0B: return "ATSC Content Identifier";
    case 0x0C: return "MPU";
    case 0x0D: return "MID";
    case 0x0E: return "ADS Information";
    case 0x0F: return "URI";
    case 0x10: return "UUID";
    case 0x11: return "SCR";
    default: return "Reserved";
  }
}

bool segmentation_type_is_start(std::uint8_t id) {
  switch (id) {
    case 0x22: case 0x30: case 0x32: case 0x34: case 0x36: case 0x38: case 0x3A: case 0x44: case 0x46: return true;
    default: return false;
  }
}

bool segmentation_type_is_end(std::uint8_t id) {
  switch (id) {
    case 0x23: case 0x31: case 0x33: case 0x35: case 0x37: case 0x39: case 0x3B: case 0x45: case 0x47: return true;
    default: return false;
  }
}

nlohmann::json to_json(const SpliceInfoSection& s) {
  nlohmann::json j;
  j["protocol_version"] = s.protocol_version;
  j["sap_type"] = s.sap_type;
  j["encrypted_packet"] = s.encrypted_packet;
  if (s.encrypted_packet) j["encryption_algorithm"] = s.encryption_algorithm;
  j["pts_adjustment"] = s.pts_adjustment;
  j["cw_index"] = s.cw_index;
  j["tier"] = s.tier;
  j["splice_command_length"] = s.splice_command_length;
  j["splice_command_type"] = s.splice_command_type;
  j["command"] = s.encrypted_packet ? "encrypted" : command_name(s.splice_command_type);
  if (!s.encrypted_packet) j[command_name(s.splice_command_type)] = std::visit(CommandJson{s}, s.command);
  nlohmann::json descs = nlohmann::json::array();
  for (const auto& d : s.descriptors) {
    nlohmann::json dj = {{"tag", d.tag}, {"name", d.identifier == kCuei ? descriptor_name(d.tag) : "private"},
                         {"identifier", hex32(d.identifier)}};
    std::visit(DescriptorJson{dj}, d.body);
    descs.push_back(dj);
  }
  j["descriptors"] = descs;
  j["crc_32"] = hex32(s.crc_32);
  j["crc_ok"] = s.crc_ok;
  return j;
}

}  // namespace avmon::scte35
