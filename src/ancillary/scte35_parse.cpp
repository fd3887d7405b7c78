// SCTE 35 (2022) splice_info_section parser. Every length field is checked
// against its container before it is trusted; the bit reader itself never
// reads past the section, so damaged input ends in an error message, never
// in a read out of bounds.
#include <cstdio>

#include "ancillary/bits.hpp"
#include "ts/crc32.hpp"
#include "ancillary/scte35.hpp"

namespace avmon::scte35 {

namespace {

using ancillary::BitReader;

struct Failure {
  std::string message;
};

std::string hex(unsigned v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*X", digits, v);
  return buf;
}

SpliceTime read_splice_time(BitReader& r) {
  SpliceTime t;
  t.specified = r.flag();
  if (t.specified) {
    r.skip(6);
    t.pts = r.bits(33);
  } else {
    r.skip(7);
  }
  return t;
}

BreakDuration read_break_duration(BitReader& r) {
  BreakDuration d;
  d.auto_return = r.flag();
  r.skip(6);
  d.duration = r.bits(33);
  return d;
}

SpliceInsert read_insert(BitReader& r) {
  SpliceInsert s;
  s.event_id = r.u32();
  s.cancel = r.flag();
  r.skip(7);
  if (s.cancel) return s;
  s.out_of_network = r.flag();
  s.program_splice = r.flag();
  s.duration_flag = r.flag();
  s.immediate = r.flag();
  s.event_id_compliance = r.flag();
  r.skip(3);
  if (s.program_splice && !s.immediate) s.time = read_splice_time(r);
  if (!s.program_splice) {
    unsigned count = r.u8();
    for (unsigned i = 0; i < count && !r.overrun(); ++i) {
      InsertComponent c;
      c.tag = r.u8();
      if (!s.immediate) c.time = read_splice_time(r);
      s.components.push_back(c);
    }
  }
  if (s.duration_flag) s.duration = read_break_duration(r);
  s.unique_program_id = r.u16();
  s.avail_num = r.u8();
  s.avails_expected = r.u8();
  return s;
}

SpliceSchedule read_schedule(BitReader& r) {
  SpliceSchedule sched;
  unsigned count = r.u8();
  for (unsigned i = 0; i < count && !r.overrun(); ++i) {
    ScheduleEvent e;
    e.event_id = r.u32();
    e.cancel = r.flag();
    e.event_id_compliance = r.flag();
    r.skip(6);
    if (!e.cancel) {
      e.out_of_network = r.flag();
      e.program_splice = r.flag();
      e.duration_flag = r.flag();
      r.skip(5);
      if (e.program_splice) {
        e.utc_splice_time = r.u32();
      } else {
        unsigned n = r.u8();
        for (unsigned k = 0; k < n && !r.overrun(); ++k) e.components.push_back({r.u8(), r.u32()});
      }
      if (e.duration_flag) e.duration = read_break_duration(r);
      e.unique_program_id = r.u16();
      e.avail_num = r.u8();
      e.avails_expected = r.u8();
    }
    sched.events.push_back(std::move(e));
  }
  return sched;
}

// Reads the command of `type`. `known_length`: the bytes it occupies, or -1
// when splice_command_length is the legacy "unspecified".
Command read_command(std::uint8_t type, BitReader& r, long known_length) {
  switch (static_cast<CommandType>(type)) {
    case CommandType::SpliceNull: return SpliceNull{};
    case CommandType::SpliceSchedule: return read_schedule(r);
    case CommandType::SpliceInsert: return read_insert(r);
    case CommandType::TimeSignal: return TimeSignal{read_splice_time(r)};
    case CommandType::BandwidthReservation: return BandwidthReservation{};
    case CommandType::PrivateCommand: {
      if (known_length < 0) throw Failure{"private_command with an unspecified splice_command_length"};
      if (known_length < 4) throw Failure{"private_command shorter than its identifier"};
      PrivateCommand p;
      p.identifier = r.u32();
      p.data = r.bytes(static_cast<std::size_t>(known_length - 4));
      return p;
    }
  }
  if (known_length < 0) throw Failure{"unknown splice_command_type " + hex(type, 2) + " with an unspecified length"};
  return OpaqueCommand{type, r.bytes(static_cast<std::size_t>(known_length))};
}

bool has_sub_segments(std::uint8_t type_id) {
  switch (type_id) {
    case 0x34: case 0x36: case 0x38: case 0x3A: case 0x44: case 0x46: return true;
    default: return false;
  }
}

SegmentationDescriptor read_segmentation(BitReader& r) {
  SegmentationDescriptor d;
  d.event_id = r.u32();
  d.cancel = r.flag();
  d.event_id_compliance = r.flag();
  r.skip(6);
  if (d.cancel) return d;
  d.program_segmentation = r.flag();
  d.duration_flag = r.flag();
  d.delivery_not_restricted = r.flag();
  if (!d.delivery_not_restricted) {
    d.web_delivery_allowed = r.flag();
    d.no_regional_blackout = r.flag();
    d.archive_allowed = r.flag();
    d.device_restrictions = static_cast<std::uint8_t>(r.bits(2));
  } else {
    r.skip(5);
  }
  if (!d.program_segmentation) {
    unsigned n = r.u8();
    for (unsigned i = 0; i < n && !r.overrun(); ++i) {
      SegmentationComponent c;
      c.tag = r.u8();
      r.skip(7);
      c.pts_offset = r.bits(33);
      d.components.push_back(c);
    }
  }
  if (d.duration_flag) d.duration = r.bits(40);
  d.upid_type = r.u8();
  unsigned upid_length = r.u8();
  d.upid = r.bytes(upid_length);
  d.type_id = r.u8();
  d.segment_num = r.u8();
  d.segments_expected = r.u8();
  // Encoders older than SCTE 35 2016 leave the sub-segment fields out.
  if (has_sub_segments(d.type_id) && r.remaining_bytes() >= 2) {
    d.has_sub_segments = true;
    d.sub_segment_num = r.u8();
    d.sub_segments_expected = r.u8();
  }
  return d;
}

Descriptor read_descriptor(BitReader& loop, std::size_t index) {
  Descriptor d;
  d.tag = loop.u8();
  d.length = loop.u8();
  auto body = loop.bytes(d.length);
  if (loop.overrun())
    throw Failure{"splice descriptor " + std::to_string(index) + " (tag " + hex(d.tag, 2) +
                  ") is longer than the descriptor loop"};
  if (d.length < 4)
    throw Failure{"splice descriptor " + std::to_string(index) + " (tag " + hex(d.tag, 2) +
                  ") is shorter than its identifier"};
  BitReader r(body.data(), body.size());
  d.identifier = r.u32();
  if (d.identifier != kCuei || d.tag > 4) {
    d.body = OtherDescriptor{r.bytes(r.remaining_bytes())};
    return d;
  }
  switch (d.tag) {
    case 0: d.body = AvailDescriptor{r.u32()}; break;
    case 1: {
      DtmfDescriptor t;
      t.preroll = r.u8();
      unsigned n = static_cast<unsigned>(r.bits(3));
      r.skip(5);
      auto chars = r.bytes(n);
      t.chars.assign(chars.begin(), chars.end());
      d.body = std::move(t);
      break;
    }
    case 2: d.body = read_segmentation(r); break;
    case 3: {
      TimeDescriptor t;
      t.tai_seconds = r.bits(48);
      t.tai_ns = r.u32();
      t.utc_offset = r.u16();
      d.body = t;
      break;
    }
    case 4: {
      AudioDescriptor a;
      unsigned n = static_cast<unsigned>(r.bits(4));
      r.skip(4);
      for (unsigned i = 0; i < n && !r.overrun(); ++i) {
        AudioComponent c;
        c.tag = r.u8();
        auto iso = r.bytes(3);
        c.iso_code.assign(iso.begin(), iso.end());
        c.bit_stream_mode = static_cast<std::uint8_t>(r.bits(3));
        c.num_channels = static_cast<std::uint8_t>(r.bits(4));
        c.full_srvc_audio = r.flag();
        a.components.push_back(std::move(c));
      }
      d.body = std::move(a);
      break;
    }
  }
  if (r.overrun())
    throw Failure{"splice descriptor " + std::to_string(index) + " (tag " + hex(d.tag, 2) +
                  ") is shorter than its fields"};
  return d;
}

}  // namespace

ParseResult parse(const std::uint8_t* data, std::size_t size) {
  ParseResult out;
  // table_id .. splice_command_type, descriptor_loop_length and CRC_32.
  constexpr std::size_t kMinSection = 20;
  if (!data || size < 3) {
    out.error = "section shorter than its header";
    return out;
  }
  if (data[0] != 0xFC) {
    out.error = "table_id " + hex(data[0], 2) + " is not a splice_info_section (0xFC)";
    return out;
  }
  std::size_t section_length = (static_cast<std::size_t>(data[1] & 0x0F) << 8) | data[2];
  std::size_t total = section_length + 3;
  if (total > size) {
    out.error = "section_length " + std::to_string(section_length) + " exceeds the " + std::to_string(size - 3) +
                " bytes that follow it";
    return out;
  }
  if (total < kMinSection) {
    out.error = "section_length " + std::to_string(section_length) + " is shorter than the fixed fields (17)";
    return out;
  }

  SpliceInfoSection s;
  s.crc_32 = (static_cast<std::uint32_t>(data[total - 4]) << 24) | (static_cast<std::uint32_t>(data[total - 3]) << 16) |
             (static_cast<std::uint32_t>(data[total - 2]) << 8) | data[total - 1];
  s.crc_ok = ts::crc32_mpeg(data, total) == 0;
  try {
    BitReader r(data, total - 4);
    s.table_id = r.u8();
    s.section_syntax_indicator = r.flag();
    s.private_indicator = r.flag();
    s.sap_type = static_cast<std::uint8_t>(r.bits(2));
    s.section_length = static_cast<std::uint16_t>(r.bits(12));
    s.protocol_version = r.u8();
    s.encrypted_packet = r.flag();
    s.encryption_algorithm = static_cast<std::uint8_t>(r.bits(6));
    s.pts_adjustment = r.bits(33);
    s.cw_index = r.u8();
    s.tier = static_cast<std::uint16_t>(r.bits(12));
    s.splice_command_length = static_cast<std::uint16_t>(r.bits(12));
    s.splice_command_type = r.u8();

    if (s.encrypted_packet) {
      // From splice_command_type through E_CRC_32 the section is encrypted:
      // nothing in it can be read without the key.
      if (r.remaining_bytes() < 4) throw Failure{"encrypted section too short for its E_CRC_32"};
      std::size_t n = r.remaining_bytes() - 4;
      s.command = OpaqueCommand{s.splice_command_type, r.bytes(n)};
      s.e_crc_32 = r.u32();
      out.section = std::move(s);
      return out;
    }

    const bool unspecified = s.splice_command_length == 0xFFF;
    if (!unspecified) {
      if (s.splice_command_length > r.remaining_bytes())
        throw Failure{"splice_command_length " + std::to_string(s.splice_command_length) +
                      " exceeds the section"};
      auto body = r.bytes(s.splice_command_length);
      BitReader c(body.data(), body.size());
      s.command = read_command(s.splice_command_type, c, s.splice_command_length);
      if (c.overrun())
        throw Failure{std::string(command_name(s.splice_command_type)) + " is longer than splice_command_length " +
                      std::to_string(s.splice_command_length)};
      if (c.remaining_bytes() > 0)
        out.error = std::string(command_name(s.splice_command_type)) + " leaves " +
                    std::to_string(c.remaining_bytes()) + " bytes of splice_command_length unused";
    } else {
      s.command = read_command(s.splice_command_type, r, -1);
      if (r.overrun()) throw Failure{std::string(command_name(s.splice_command_type)) + " runs past the section"};
    }

    std::size_t loop_length = r.u16();
    if (r.overrun() || loop_length > r.remaining_bytes())
      throw Failure{"descriptor_loop_length " + std::to_string(loop_length) + " exceeds the section"};
    auto loop_bytes = r.bytes(loop_length);
    BitReader loop(loop_bytes.data(), loop_bytes.size());
    for (std::size_t i = 0; loop.remaining_bytes() > 0; ++i) {
      if (loop.remaining_bytes() < 2) throw Failure{"descriptor loop ends inside a descriptor header"};
      s.descriptors.push_back(read_descriptor(loop, i));
    }
    s.alignment_stuffing = r.remaining_bytes();
  } catch (const Failure& f) {
    out.error = f.message;
    return out;
  }
  out.section = std::move(s);
  return out;
}

}  // namespace avmon::scte35
