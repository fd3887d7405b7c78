// Extensions of the transport layer: code that watches the selected
// service's tables and elementary streams at the packet tap, before the
// demuxer (SCTE-35 cue monitoring, teletext and DVB subtitle activity, ...),
// and reports through the same ordered path as TR 101 290: its defects go
// through the event engine (debouncing, severity, suppression, summary
// counts) in media-time order with the pictures' and sounds', so a file
// gives the same events on every run.
//
// Writing one:
//   class CueWatch : public TsExtension {
//     void on_service(const ts::Service& s, TsHost& host) override {
//       for (const auto& es : s.pmt->streams)       // stream_type, PID, descriptors
//         if (ts::stream_kind(es) == ts::StreamKind::Scte35) host.subscribe_sections(es.pid);
//     }
//     // Teletext or subtitle PIDs: host.subscribe_whole_pes(es.pid), then on_pes().
//     void on_section(const ts::Section& s, const TapTime& t, TsHost& host) override {
//       // s.crc says whether its CRC_32 held; t.media_time_s, t.service_pts_90k, t.arrival_s
//       host.observe({.type = "scte35_missing", .media_time_s = t.media_time_s, .active = true});
//     }
//   };
//   AVMON_REGISTER_TS_EXTENSION(cue_watch, {"scte35_missing"}, {}, make_cue_watch);
// Register from a file of an object library (detectors/<name>/): a static
// archive would drop an unreferenced registrar.
//
// Everything runs on the demuxing thread, packet by packet: keep it cheap,
// never block. Subscriptions are per PID; several extensions may share one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "avmon/detector.hpp"
#include "ts/pes.hpp"
#include "ts/sections.hpp"
#include "ts/services.hpp"

namespace avmon {

struct Config;

// When something was seen in the transport stream.
struct TapTime {
  std::uint64_t packet = 0;                     // index of the packet in the input (from 0)
  double clock_s = 0;                           // the multiplex clock (PCR-interpolated)
  // Seconds since the selected service's first timestamp: the media_time of
  // events, on the same scale as the pictures'.
  double media_time_s = 0;
  std::optional<double> arrival_s;              // live inputs: when the bytes arrived (steady clock, s)
  std::optional<std::int64_t> service_pts_90k;  // the selected service's latest video (else audio) PTS
  // The timestamp media time counts from (90 kHz): the media time of a PTS p
  // is (p - origin_pts_90k) / 90 kHz, on the pictures' own timeline.
  std::optional<std::int64_t> origin_pts_90k;
};

class TsHost {
 public:
  virtual ~TsHost() = default;
  // Complete sections of `pid` (any table, CRC status in Section::crc) to on_section.
  virtual void subscribe_sections(std::uint16_t pid) = 0;
  // The start of every PES packet of `pid` (with its PTS) to on_pes_start:
  // the first TS packet's payload only (enough for a PES header, a picture
  // type, a random-access check), at no cost beyond the call.
  virtual void subscribe_pes(std::uint16_t pid) = 0;
  // Every whole PES packet of `pid` to on_pes (teletext and DVB subtitle
  // pages, which span many TS packets), reassembled from its TS packets
  // (legal duplicates skipped); one with a packet missing or scrambled is
  // not handed over (counted in the summary's transport.pes).
  virtual void subscribe_whole_pes(std::uint16_t pid) = 0;
  virtual void unsubscribe(std::uint16_t pid) = 0;
  // A defect condition of one of the extension's declared types; its
  // media_time_s should be a TapTime's. Ordered with everything else.
  virtual void observe(Observation obs) = 0;
  // A non-defect event line (set "kind", "media_time" and "details"; stream
  // and wall_time are added). Ordered with everything else.
  virtual void emit(nlohmann::json line) = 0;
  // The whole multiplex's services (PAT order), with PMTs and SDT names.
  virtual const ts::ServiceModel& services() const = 0;
};

class TsExtension {
 public:
  virtual ~TsExtension() = default;
  // The selected service is known, or its PMT changed (stream_type, PIDs and
  // descriptors of each elementary stream in service.pmt; registration 'CUEI'
  // via ts::registration()). Subscribe here.
  virtual void on_service(const ts::Service& /*service*/, TsHost& /*host*/) {}
  virtual void on_section(const ts::Section& /*section*/, const TapTime& /*at*/, TsHost& /*host*/) {}
  virtual void on_pes_start(std::uint16_t /*pid*/, std::optional<std::int64_t> /*pts_90k*/,
                            const std::uint8_t* /*payload*/, std::size_t /*size*/, const TapTime& /*at*/,
                            TsHost& /*host*/) {}
  // A whole PES packet (subscribe_whole_pes): pes.data/data_size are its
  // bytes after the PES header (e.g. teletext's data_identifier first),
  // pes.pts its PTS; `at` is the time of its first TS packet. Valid during
  // the call only.
  virtual void on_pes(const ts::Pes& /*pes*/, const TapTime& /*at*/, TsHost& /*host*/) {}
  // End of a finite input, at its last media time.
  virtual void on_end(double /*end_media_time_s*/, TsHost& /*host*/) {}
  // Figures merged into stream.summary at the top level (e.g. {"scte35": {...}}).
  virtual nlohmann::json summary() const { return nullptr; }
};

struct TsExtensionInfo {
  std::string name;                     // the "detector" of its events
  std::vector<std::string> types;       // defect types it raises
  std::vector<std::string> suppresses;  // types its incidents suppress (as a detector's)
  double min_duration_s = 0, hold_off_s = 0;
  std::string severity = "major";
  // Created for each MPEG-TS input; null when the configuration turns it off.
  std::function<std::unique_ptr<TsExtension>(const Config&)> create;
};

void register_ts_extension(TsExtensionInfo info);
const std::vector<TsExtensionInfo>& ts_extensions();

struct TsExtensionRegistrar {
  explicit TsExtensionRegistrar(TsExtensionInfo info) { register_ts_extension(std::move(info)); }
};

}  // namespace avmon

#define AVMON_TS_CONCAT2(a, b) a##b
#define AVMON_TS_CONCAT(a, b) AVMON_TS_CONCAT2(a, b)
// AVMON_REGISTER_TS_EXTENSION(name, {types...}, {suppresses...}, factory)
#define AVMON_REGISTER_TS_EXTENSION(NAME, TYPES, SUPPRESSES, FACTORY)                                          \
  static const ::avmon::TsExtensionRegistrar AVMON_TS_CONCAT(avmon_ts_extension_, NAME){                      \
      ::avmon::TsExtensionInfo{#NAME, std::vector<std::string> TYPES, std::vector<std::string> SUPPRESSES, 0, 0, \
                               "major", FACTORY}}
