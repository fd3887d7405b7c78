// SCTE-35 decoding checked field by field against TSDuck: every section of
// TSDuck's own test captures is parsed, rendered in the layout of TSDuck's
// `tstables --text`, and compared with TSDuck's reference output line by
// line. Any field decoded differently shows up as a differing line.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "ancillary/scte35.hpp"
#include "support/ts_sections.hpp"

namespace avmon {
namespace {

using namespace scte35;

const std::string kData = std::string(AVMON_SOURCE_DIR) + "/tests/data/tsduck/";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// 1234567 -> "1,234,567"
std::string grouped(std::uint64_t v) {
  std::string d = std::to_string(v), out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

std::string fmt(const char* f, std::uint64_t v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// TSDuck's rendering of a 33-bit PTS value: hex, then decimal and
// milliseconds unless it is zero.
std::string pts(std::uint64_t v) {
  std::string s = fmt("0x%09" PRIX64, v);
  if (v) s += " (" + grouped(v) + ", " + grouped(v / 90) + " ms)";
  return s;
}

std::string yes(bool b) { return b ? "yes" : "no"; }

std::string date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &tm);
  return buf;
}

// utc_splice_time counts seconds from the GPS epoch, 1980-01-06T00:00:00Z,
// leap seconds included (SCTE 35 9.3.2); TSDuck prints the UTC date, 18 leap
// seconds earlier for dates after 2017.
std::string utc(std::uint32_t v) {
  return fmt("0x%08" PRIX64, v) + " (" + date(static_cast<std::time_t>(v) + 315964800 - 18) +
         ", leap seconds included)";
}

std::string hex_list(const std::vector<std::uint8_t>& b) {
  std::string s;
  for (auto x : b) s += (s.empty() ? "" : " ") + fmt("%02" PRIX64, x);
  return s;
}

const char* tsduck_command_name(std::uint8_t t) {
  switch (t) {
    case 0x00: return "SpliceNull";
    case 0x04: return "SpliceSchedule";
    case 0x05: return "SpliceInsert";
    case 0x06: return "TimeSignal";
    case 0x07: return "BandwidthReservation";
    case 0xFF: return "PrivateCommand";
  }
  return "?";
}

struct Renderer {
  std::ostringstream o;

  void line(int indent, const std::string& s) { o << std::string(static_cast<size_t>(indent), ' ') << s << "\n"; }

  void insert(const SpliceInsert& i) {
    line(4, "Splice event id: " + fmt("0x%08" PRIX64, i.event_id) + " (" + std::to_string(i.event_id) +
                "), cancel: " + (i.cancel ? "1" : "0"));
    if (i.cancel) return;
    line(4, "Out of network: " + yes(i.out_of_network) + ", program splice: " + yes(i.program_splice) +
                ", duration set: " + yes(i.duration_flag) + ", immediate: " + yes(i.immediate));
    if (i.program_splice && !i.immediate) line(4, "Time PTS: " + (i.time.specified ? pts(i.time.pts) : "unset"));
    if (!i.program_splice) {
      line(4, "Number of components: " + std::to_string(i.components.size()));
      for (const auto& c : i.components) {
        std::string s = "Component tag: " + fmt("0x%02" PRIX64, c.tag) + " (" + std::to_string(c.tag) + ")";
        if (!i.immediate) s += ", time PTS: " + (c.time.specified ? pts(c.time.pts) : "unset");
        line(6, s);
      }
    }
    if (i.duration)
      line(4, "Duration PTS: " + pts(i.duration->duration) + ", auto return: " + yes(i.duration->auto_return));
    line(4, "Unique program id: " + fmt("0x%04" PRIX64, i.unique_program_id) + " (" +
                std::to_string(i.unique_program_id) + "), avail: " + fmt("0x%02" PRIX64, i.avail_num) + " (" +
                std::to_string(i.avail_num) + "), avails expected: " + std::to_string(i.avails_expected));
  }

  void schedule(const SpliceSchedule& sched) {
    for (const auto& e : sched.events) {
      line(4, "- Splice event id: " + fmt("0x%08" PRIX64, e.event_id) + " (" + std::to_string(e.event_id) +
                  "), cancel: " + (e.cancel ? "1" : "0"));
      if (e.cancel) continue;
      line(6, "Out of network: " + yes(e.out_of_network) + ", program splice: " + yes(e.program_splice) +
                  ", duration set: " + yes(e.duration_flag));
      if (e.program_splice) {
        line(6, "UTC: " + utc(e.utc_splice_time));
      } else {
        line(6, "Number of components: " + std::to_string(e.components.size()));
        for (const auto& c : e.components)
          line(8, "Component tag: " + fmt("0x%02" PRIX64, c.tag) + " (" + std::to_string(c.tag) +
                      "), UTC: " + utc(c.utc_splice_time));
      }
      if (e.duration)
        line(6, "Duration PTS: " + pts(e.duration->duration) + ", auto return: " + yes(e.duration->auto_return));
      line(6, "Unique program id: " + fmt("0x%04" PRIX64, e.unique_program_id) + " (" +
                  std::to_string(e.unique_program_id) + "), avail: " + fmt("0x%02" PRIX64, e.avail_num) + " (" +
                  std::to_string(e.avail_num) + "), avails expected: " + std::to_string(e.avails_expected));
    }
  }

  void descriptor(std::size_t index, const Descriptor& d) {
    static const char* names[] = {"Avail", "DTMF", "Segmentation", "Time", "Audio"};
    line(4, "- Descriptor " + std::to_string(index) + ": SCTE 35 " + (d.tag <= 4 ? names[d.tag] : "?") + " (" +
                fmt("0x%02" PRIX64, d.tag) + ", " + std::to_string(d.tag) + "), " + std::to_string(d.length) +
                " bytes");
    line(6, "Identifier: " + fmt("0x%08" PRIX64, d.identifier) + " (\"CUEI\")");
    if (auto* a = std::get_if<AvailDescriptor>(&d.body)) {
      line(6, "Provider id: " + fmt("0x%08" PRIX64, a->provider_avail_id));
    } else if (auto* t = std::get_if<DtmfDescriptor>(&d.body)) {
      line(6, "Pre-roll: " + std::to_string(t->preroll) + " x 1/10 second");
      line(6, "DTMF: \"" + t->chars + "\"");
    } else if (auto* td = std::get_if<TimeDescriptor>(&d.body)) {
      line(6, "TAI: " + grouped(td->tai_seconds) + " seconds (" + date(static_cast<std::time_t>(td->tai_seconds)) +
                  ") + " + grouped(td->tai_ns) + " ns, UTC offset: " + std::to_string(td->utc_offset));
    } else if (auto* s = std::get_if<SegmentationDescriptor>(&d.body)) {
      line(6, "Segmentation event id: " + fmt("0x%08" PRIX64, s->event_id) + ", cancel: " + (s->cancel ? "1" : "0"));
      if (s->cancel) return;
      line(6, "Program segmentation: " + std::to_string(s->program_segmentation) + ", has duration: " +
                  std::to_string(s->duration_flag) + ", not restricted: " + std::to_string(s->delivery_not_restricted));
      if (!s->delivery_not_restricted) {
        line(6, "Web delivery allowed: " + std::to_string(s->web_delivery_allowed) +
                    ", no regional blackout: " + std::to_string(s->no_regional_blackout));
        line(6, "Archive allowed: " + std::to_string(s->archive_allowed) +
                    ", device restrictions: " + std::to_string(s->device_restrictions));
      }
      if (!s->program_segmentation) {
        line(6, "Component count: " + std::to_string(s->components.size()));
        for (const auto& c : s->components)
          line(6, "Component tag: " + std::to_string(c.tag) + ", PTS offset: " + std::to_string(c.pts_offset));
      }
      if (s->duration_flag) line(6, "Segment duration: " + std::to_string(s->duration));
      line(6, "Segmentation upid type: " + fmt("0x%02" PRIX64, s->upid_type) + " (" + upid_type_name(s->upid_type) + ")");
      line(6, "Upid data (" + std::to_string(s->upid.size()) + " bytes): " + hex_list(s->upid));
      line(6, "Segmentation type id: " + fmt("0x%02" PRIX64, s->type_id) + " (" + segmentation_type_name(s->type_id) + ")");
      line(6, "Segment number: " + std::to_string(s->segment_num) +
                  ", expected segments: " + std::to_string(s->segments_expected));
      if (s->has_sub_segments)
        line(6, "Sub-segment number: " + std::to_string(s->sub_segment_num) +
                    ", expected sub-segments: " + std::to_string(s->sub_segments_expected));
    } else if (auto* au = std::get_if<AudioDescriptor>(&d.body)) {
      line(6, "Audio count: " + std::to_string(au->components.size()));
      for (const auto& c : au->components) {
        line(6, "- Component tag: " + fmt("0x%02" PRIX64, c.tag) + " (" + std::to_string(c.tag) +
                    "), language: " + c.iso_code);
        line(8, "Bit stream mode: " + fmt("0x%02" PRIX64, c.bit_stream_mode) + " (" +
                    std::to_string(c.bit_stream_mode) + "), num channels: " + std::to_string(c.num_channels) +
                    ", full service: " + (c.full_srvc_audio ? "true" : "false"));
      }
    }
  }

  void section(const SpliceInfoSection& s, int pid) {
    o << "\n";
    line(0, "* SCTE 35 Splice Information, TID 0xFC (252), PID " + fmt("0x%04" PRIX64, static_cast<unsigned>(pid)) +
                " (" + std::to_string(pid) + ")");
    line(2, "Short section, total size: " + std::to_string(s.section_length + 3) + " bytes");
    line(2, "- Section 0:");
    line(4, "Protocol version: " + std::to_string(s.protocol_version));
    line(4, std::string("Encryption: ") + (s.encrypted_packet ? std::to_string(s.encryption_algorithm) : "none"));
    line(4, "PTS adjustment: " + pts(s.pts_adjustment));
    line(4, "CW index: " + fmt("0x%02" PRIX64, s.cw_index) + " (" + std::to_string(s.cw_index) +
                "), tier: " + fmt("0x%03" PRIX64, s.tier) + " (" + std::to_string(s.tier) + ")");
    line(4, "Command type: " + fmt("0x%02" PRIX64, s.splice_command_type) + " (" +
                tsduck_command_name(s.splice_command_type) + "), size: " +
                (s.splice_command_length == 0xFFF ? "unspecified"
                                                  : std::to_string(s.splice_command_length) + " bytes"));
    if (auto* i = std::get_if<SpliceInsert>(&s.command)) insert(*i);
    if (auto* sc = std::get_if<SpliceSchedule>(&s.command)) schedule(*sc);
    if (auto* t = std::get_if<TimeSignal>(&s.command)) line(4, "Time: " + (t->time.specified ? pts(t->time.pts) : "unset"));
    if (auto* p = std::get_if<PrivateCommand>(&s.command)) {
      line(4, "Command identifier: " + fmt("0x%08" PRIX64, p->identifier) + " (" + grouped(p->identifier) + ")");
      if (!p->data.empty())
        line(4, "Remaining command content (" + std::to_string(p->data.size()) + " bytes): " + hex_list(p->data));
    }
    for (std::size_t i = 0; i < s.descriptors.size(); ++i) descriptor(i, s.descriptors[i]);
    line(4, "CRC32: " + fmt("0x%08" PRIX64, s.crc_32) + (s.crc_ok ? " (OK)" : " (WRONG)"));
  }
};

// Decodes every section on `pid` of `ts_file` and renders them as TSDuck does.
std::string render_file(const std::string& ts_file, int pid, std::size_t* sections = nullptr) {
  auto ts = test::read_file_bytes(kData + ts_file);
  auto secs = test::sections_of_pid(ts, pid);
  if (sections) *sections = secs.size();
  Renderer r;
  for (const auto& bytes : secs) {
    auto parsed = parse(bytes);
    EXPECT_TRUE(parsed.section.has_value()) << parsed.error;
    EXPECT_EQ(parsed.error, "");
    if (parsed.section) r.section(*parsed.section, pid);
  }
  r.o << "\n";
  return r.o.str();
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The reference and ours must agree line by line.
void expect_same_text(const std::string& ours, const std::string& reference) {
  auto a = lines_of(ours), b = lines_of(reference);
  ASSERT_EQ(a.size(), b.size()) << "ours:\n" << ours << "\nreference:\n" << reference;
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "line " << i + 1;
}

TEST(Scte35Tsduck, SpliceInsertWithUnspecifiedCommandLength) {
  // test-091: splice_command_length 0xFFF (legacy), pts_adjustment set.
  std::size_t n = 0;
  expect_same_text(render_file("test-091.ts", 0x13, &n), read_text(kData + "test-091.txt"));
  EXPECT_EQ(n, 1u);
}

TEST(Scte35Tsduck, EveryCommandTypeAndDescriptor) {
  // test-027: splice_null, bandwidth_reservation, time_signal (set and
  // unset), private_command, splice_insert in every form, splice_schedule,
  // and the avail, DTMF, time, segmentation and audio descriptors.
  std::size_t n = 0;
  expect_same_text(render_file("test-027.pack.ts", 200, &n), read_text(kData + "test-027.tstables.txt"));
  EXPECT_EQ(n, 15u);
}

TEST(Scte35Tsduck, ProgramSpliceFlag) {
  std::size_t n = 0;
  expect_same_text(render_file("test-160.pack.ts", 200, &n), read_text(kData + "test-160.tstables.txt"));
  EXPECT_EQ(n, 1u);
}

TEST(Scte35Tsduck, EverySectionSurvivesTheWriter) {
  // The writer is the parser's inverse on real sections, byte for byte.
  for (auto [file, pid] : {std::pair{"test-091.ts", 0x13}, {"test-027.pack.ts", 200}, {"test-160.pack.ts", 200}}) {
    auto secs = test::sections_of_pid(test::read_file_bytes(kData + file), pid);
    for (const auto& bytes : secs) {
      auto parsed = parse(bytes);
      ASSERT_TRUE(parsed.section);
      auto again = write(*parsed.section);
      EXPECT_EQ(again, bytes) << file;
    }
  }
}

}  // namespace
}  // namespace avmon
