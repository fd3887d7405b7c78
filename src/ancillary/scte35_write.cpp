// SCTE 35 section writer: the inverse of the parser, for injecting cues at
// known times (tests, tools). Lengths and CRC_32 are computed here.
#include "ancillary/bits.hpp"
#include "ts/crc32.hpp"
#include "ancillary/scte35.hpp"

namespace avmon::scte35 {

namespace {

using ancillary::BitWriter;

void put_splice_time(BitWriter& w, const SpliceTime& t) {
  w.flag(t.specified);
  if (t.specified) {
    w.bits(6, 0x3F);
    w.bits(33, t.pts & kPtsMask);
  } else {
    w.bits(7, 0x7F);
  }
}

void put_break_duration(BitWriter& w, const BreakDuration& d) {
  w.flag(d.auto_return);
  w.bits(6, 0x3F);
  w.bits(33, d.duration & kPtsMask);
}

struct CommandWriter {
  BitWriter& w;
  void operator()(const SpliceNull&) const {}
  void operator()(const BandwidthReservation&) const {}
  void operator()(const TimeSignal& t) const { put_splice_time(w, t.time); }
  void operator()(const PrivateCommand& p) const {
    w.u32(p.identifier);
    w.bytes(p.data);
  }
  void operator()(const OpaqueCommand& o) const { w.bytes(o.data); }
  void operator()(const SpliceInsert& s) const {
    w.u32(s.event_id);
    w.flag(s.cancel);
    w.bits(7, 0x7F);
    if (s.cancel) return;
    w.flag(s.out_of_network);
    w.flag(s.program_splice);
    w.flag(s.duration_flag);
    w.flag(s.immediate);
    w.flag(s.event_id_compliance);
    w.bits(3, 0x7);
    if (s.program_splice && !s.immediate) put_splice_time(w, s.time);
    if (!s.program_splice) {
      w.u8(s.components.size());
      for (const auto& c : s.components) {
        w.u8(c.tag);
        if (!s.immediate) put_splice_time(w, c.time);
      }
    }
    if (s.duration_flag) put_break_duration(w, s.duration.value_or(BreakDuration{}));
    w.u16(s.unique_program_id);
    w.u8(s.avail_num);
    w.u8(s.avails_expected);
  }
  void operator()(const SpliceSchedule& sched) const {
    w.u8(sched.events.size());
    for (const auto& e : sched.events) {
      w.u32(e.event_id);
      w.flag(e.cancel);
      w.flag(e.event_id_compliance);
      w.bits(6, 0x3F);
      if (e.cancel) continue;
      w.flag(e.out_of_network);
      w.flag(e.program_splice);
      w.flag(e.duration_flag);
      w.bits(5, 0x1F);
      if (e.program_splice) {
        w.u32(e.utc_splice_time);
      } else {
        w.u8(e.components.size());
        for (const auto& c : e.components) {
          w.u8(c.tag);
          w.u32(c.utc_splice_time);
        }
      }
      if (e.duration_flag) put_break_duration(w, e.duration.value_or(BreakDuration{}));
      w.u16(e.unique_program_id);
      w.u8(e.avail_num);
      w.u8(e.avails_expected);
    }
  }
};

struct DescriptorWriter {
  BitWriter& w;
  void operator()(const AvailDescriptor& a) const { w.u32(a.provider_avail_id); }
  void operator()(const DtmfDescriptor& d) const {
    w.u8(d.preroll);
    w.bits(3, d.chars.size());
    w.bits(5, 0x1F);
    for (char c : d.chars) w.u8(static_cast<unsigned char>(c));
  }
  void operator()(const SegmentationDescriptor& d) const {
    w.u32(d.event_id);
    w.flag(d.cancel);
    w.flag(d.event_id_compliance);
    w.bits(6, 0x3F);
    if (d.cancel) return;
    w.flag(d.program_segmentation);
    w.flag(d.duration_flag);
    w.flag(d.delivery_not_restricted);
    if (!d.delivery_not_restricted) {
      w.flag(d.web_delivery_allowed);
      w.flag(d.no_regional_blackout);
      w.flag(d.archive_allowed);
      w.bits(2, d.device_restrictions);
    } else {
      w.bits(5, 0x1F);
    }
    if (!d.program_segmentation) {
      w.u8(d.components.size());
      for (const auto& c : d.components) {
        w.u8(c.tag);
        w.bits(7, 0x7F);
        w.bits(33, c.pts_offset & kPtsMask);
      }
    }
    if (d.duration_flag) w.bits(40, d.duration);
    w.u8(d.upid_type);
    w.u8(d.upid.size());
    w.bytes(d.upid);
    w.u8(d.type_id);
    w.u8(d.segment_num);
    w.u8(d.segments_expected);
    if (d.has_sub_segments) {
      w.u8(d.sub_segment_num);
      w.u8(d.sub_segments_expected);
    }
  }
  void operator()(const TimeDescriptor& t) const {
    w.bits(48, t.tai_seconds);
    w.u32(t.tai_ns);
    w.u16(t.utc_offset);
  }
  void operator()(const AudioDescriptor& a) const {
    w.bits(4, a.components.size());
    w.bits(4, 0xF);
    for (const auto& c : a.components) {
      w.u8(c.tag);
      for (int i = 0; i < 3; ++i) w.u8(i < static_cast<int>(c.iso_code.size()) ? static_cast<unsigned char>(c.iso_code[static_cast<size_t>(i)]) : ' ');
      w.bits(3, c.bit_stream_mode);
      w.bits(4, c.num_channels);
      w.flag(c.full_srvc_audio);
    }
  }
  void operator()(const OtherDescriptor& o) const { w.bytes(o.data); }
};

}  // namespace

std::vector<std::uint8_t> write(const SpliceInfoSection& s) {
  BitWriter cmd;
  std::visit(CommandWriter{cmd}, s.command);
  BitWriter loop;
  if (!s.encrypted_packet) {
    for (const auto& d : s.descriptors) {
      BitWriter body;
      body.u32(d.identifier);
      std::visit(DescriptorWriter{body}, d.body);
      loop.u8(d.tag);
      loop.u8(body.size());
      loop.bytes(body.data());
    }
  }

  BitWriter w;
  w.u8(s.table_id);
  w.flag(s.section_syntax_indicator);
  w.flag(s.private_indicator);
  w.bits(2, s.sap_type);
  w.bits(12, 0);  // section_length, patched below
  w.u8(s.protocol_version);
  w.flag(s.encrypted_packet);
  w.bits(6, s.encryption_algorithm);
  w.bits(33, s.pts_adjustment & kPtsMask);
  w.u8(s.cw_index);
  w.bits(12, s.tier);
  w.bits(12, s.splice_command_length == 0xFFF ? 0xFFF : cmd.size());
  w.u8(command_type_of(s.command));
  w.bytes(cmd.data());
  if (s.encrypted_packet) {
    w.u32(s.e_crc_32);
  } else {
    w.u16(loop.size());
    w.bytes(loop.data());
    for (std::size_t i = 0; i < s.alignment_stuffing; ++i) w.u8(0xFF);
  }
  auto& out = w.data();
  std::size_t section_length = out.size() + 4 - 3;
  out[1] = static_cast<std::uint8_t>((out[1] & 0xF0) | ((section_length >> 8) & 0x0F));
  out[2] = static_cast<std::uint8_t>(section_length & 0xFF);
  std::uint32_t crc = ts::crc32_mpeg(out.data(), out.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
  return out;
}

}  // namespace avmon::scte35
