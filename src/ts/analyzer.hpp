// The transport stream analyser: every packet of the input passes through it
// once, before the demuxer sees it. It checks ETSI TR 101 290 priorities 1-3,
// keeps the service model and per-PID figures, and queues what it finds as
// TsEvents for the host to time and report. It knows nothing of libav or of
// the event engine, so unit tests drive it with synthetic packets, as
// TSDuck's plugins are thin shells over its analysers.
//
// Timing: intervals (table repetition, PID presence, PCR and PTS spacing) are
// measured on the multiplex's own clock (clock.hpp), so a file and the same
// stream received live give the same counts. Counting rules:
//  - a missing table or PID counts one error per period elapsed without it
//    (PAT absent for 1.2 s with a 0.5 s period: 2 errors), and is a condition
//    that lasts until it comes back;
//  - a PCR interval longer than the repetition limit counts one error, and a
//    PCR PID silent for longer counts one more per second until PCRs return;
//  - everything else counts once per packet or section at fault.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ts/clock.hpp"
#include "ts/continuity.hpp"
#include "ts/indicators.hpp"
#include "ts/packetizer.hpp"
#include "ts/pes.hpp"
#include "ts/sections.hpp"
#include "ts/services.hpp"

namespace avmon::ts {

struct AnalyzerOptions {
  PerIndicator<bool> enabled = all_on();
  double pat_period_s = 0.5;           // 1.3.a
  double pmt_period_s = 0.5;           // 1.5.a
  double pid_period_s = 5.0;           // 1.6, for audio and video PIDs
  double pcr_repetition_s = 0.1;       // 2.3/2.3a (0.04 in the dvb_legacy profile)
  double pcr_discontinuity_s = 0.1;    // 2.3b
  double pcr_accuracy_ns = 500;        // 2.4
  enum class PcrAccuracy { Auto, On, Off } pcr_accuracy = PcrAccuracy::Auto;  // Auto: live, constant bit rate
  double pts_period_s = 0.7;           // 2.5
  double cat_period_s = 1.0;           // 2.6, while scrambled packets arrive without a CAT
  // Priority 3: with false, a table's absence counts only once it has been
  // seen (its repetition failed); with true, from the start of the stream.
  bool si_required = false;
  double unreferenced_s = 0.5;         // 3.4.a
  double si_min_interval_s = 0.025;    // 3.2: one section repeated faster than this
  bool live = false;
  ServiceChoice service;               // which service to monitor

  static PerIndicator<bool> all_on() {
    PerIndicator<bool> a{};
    a.fill(true);
    return a;
  }
};

// Something the analyser found, timed on the multiplex clock.
struct TsEvent {
  enum class State {
    Error,   // one occurrence (counted)
    Begin,   // a condition began (counted once; more errors may follow while it lasts)
    End,     // the condition is over
    Info,    // not a defect: e.g. the service's PIDs changed
  };
  std::string type;                      // "tr101290.pat_error", "scrambled", "service_missing", "service_change"
  State state = State::Error;
  std::optional<Indicator> indicator;
  std::uint16_t pid = kPidNull;          // kPidNull when not about one PID
  std::uint64_t packet = 0;              // index (from 0) of the packet where it was found
  double clock_s = 0;                    // multiplex clock at that packet
  std::string what;                      // a short human-readable reason
};

// Figures of one PID for /status, /metrics and the summary.
struct PidFigures {
  std::uint16_t pid = 0;
  std::string role;                      // "pat", "pmt", "video", "audio", "sdt", "null", "unreferenced", ...
  std::string codec;                     // for elementary streams
  std::uint16_t program = 0;             // 0: not in a service (or shared)
  std::uint64_t packets = 0, cc_errors = 0, transport_errors = 0, scrambled_packets = 0, pcrs = 0;
  bool scrambled = false;                // the latest payload packet was scrambled
  double bitrate_bps = 0;                // over the latest second of the multiplex clock
};

class SectionListener {
 public:
  virtual ~SectionListener() = default;
  virtual void on_section(const Section& s, std::uint64_t packet, double clock_s) = 0;
};
class PesListener {
 public:
  virtual ~PesListener() = default;
  // A PES packet starts in this TS packet; `payload` is its first bytes.
  virtual void on_pes_start(std::uint16_t pid, std::optional<std::int64_t> pts_90k, const std::uint8_t* payload,
                            std::size_t size, std::uint64_t packet, double clock_s) = 0;
  // A whole PES packet of a PID whose PES are assembled (assemble_pes),
  // once complete: at its end, or at the next start when its length is
  // unbounded. Independent of on_pes_start: do not rely on their order.
  virtual void on_pes(const Pes& /*pes*/) {}
};

class Analyzer final : private PacketSink {
 public:
  explicit Analyzer(AnalyzerOptions opts = {});
  ~Analyzer() override;
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Bytes of the input as read; `arrival_s`: when they were received (live
  // inputs), on any steady clock.
  void feed(const std::uint8_t* data, std::size_t size, std::optional<double> arrival_s = std::nullopt);
  // End of input: the last partial checks (tables due by the end).
  void finish();
  // A new session of a live input after `gap_s` of wall time: continuity,
  // sections and timers start afresh; the clock goes on after the gap.
  void new_session(double gap_s);

  // Events found since the last call, in packet order.
  std::vector<TsEvent> take_events();
  bool has_events() const { return !events_.empty(); }

  // Errors per indicator (TR 101 290 counts).
  const PerIndicator<std::uint64_t>& counts() const { return counts_; }
  // Indicators checked on this input (enabled and applicable: 2.4 needs a
  // live constant-rate stream in auto mode).
  bool checked(Indicator i) const;
  const AnalyzerOptions& options() const { return opts_; }

  // Service model and selection.
  const ServiceModel& services() const { return services_; }
  // The service being monitored, once chosen; `now` decides with what is known.
  std::optional<std::uint16_t> selected() const { return selected_; }
  // Decides with what is known (end of probing).
  void decide_selection();
  // The host chose (e.g. from the demuxer's programs when the SDT is late).
  void select(std::uint16_t program_number);
  // Called inside feed() when the selected service is chosen or its PMT
  // arrives or changes, so that PIDs it announces can be subscribed before
  // their next packet (the demuxer reads far ahead while probing).
  void set_service_listener(std::function<void()> f) { service_listener_ = std::move(f); }
  // How many times the selected service's audio or video streams changed
  // (a PMT with other PIDs or stream types for them: e.g. an encoder that
  // restarted with another codec on the same PIDs). A demuxer that chose
  // its decoders before must probe again.
  std::uint64_t av_layout_changes() const { return av_layout_changes_; }
  // The selected service's audio/video PIDs are scrambled now.
  bool service_scrambled() const { return service_scrambled_; }
  // The input's elementary streams' figures.
  std::vector<PidFigures> pid_figures() const;
  std::uint64_t packets() const { return packet_index_; }
  bool synced() const { return packetizer_.ever_synced(); }
  std::uint64_t bytes_skipped() const { return packetizer_.bytes_skipped(); }
  std::size_t packet_stride() const { return packetizer_.stride(); }

  // Multiplex clock now, and the media time of a clock reading once the
  // origin is known (seconds since the selected service's first timestamp).
  double clock_s() const { return now_s_; }
  // The selected service's first timestamp (90 kHz, as the demuxer saw it).
  void set_origin_pts(std::int64_t pts_90k);
  // Without a decoded stream (scrambled, nothing decodable): the origin is
  // the selected service's first PCR (else the first packet).
  void set_origin_from_transport();
  // That origin as a 90 kHz timestamp of the service's clock, for the
  // frames' timeline (nullopt without a PCR of the service).
  std::optional<std::int64_t> transport_origin_pts() const { return selected_first_pcr_90k_; }
  bool has_origin() const { return origin_clock_s_.has_value(); }
  // The origin as a timestamp of the service's clock (the decoded streams'
  // first, else the transport's), once known: media time of a PTS p is
  // (p - origin) / 90 kHz.
  std::optional<std::int64_t> origin_pts() const {
    if (origin_pts_) return origin_pts_;
    return origin_clock_s_ ? selected_first_pcr_90k_ : std::nullopt;
  }
  double media_time(double clock_s) const { return clock_s - origin_clock_s_.value_or(0.0); }
  // The selected service's latest video (else audio) PTS, 90 kHz.
  std::optional<std::int64_t> service_pts() const { return service_pts_; }
  // The same as it was when packet `packet` was analysed (the last few
  // thousand changes are kept; older: nullopt).
  std::optional<std::int64_t> service_pts_at(std::uint64_t packet) const;
  // Until stop_retaining(), the packets of PIDs that are neither PSI/SI nor
  // audio/video (SCTE-35, teletext, subtitles, data, unreferenced) are kept
  // (bounded), and a subscription made later is first given that PID's kept
  // packets, in order, with their packet index and time: the demuxer's
  // probing reads seconds of input before anyone can subscribe.
  void stop_retaining();
  std::optional<double> arrival_s() const { return arrival_s_; }
  // PCR figures of the selected service: mean/max deviation from the
  // constant-rate fit (2.4) and against arrival times (live), in ns.
  struct PcrFigures {
    std::uint64_t pcrs = 0;
    double max_accuracy_ns = 0;          // |PCR - fitted clock by byte position|, while checked
    double max_arrival_jitter_ns = 0;    // live: PCR against arrival time, after removing drift
    bool constant_rate = false;
  };
  PcrFigures pcr_figures() const;

  // Extensions: sections of `pid` (with CRC status) and PES starts of `pid`.
  void subscribe_sections(std::uint16_t pid, SectionListener* l);
  void subscribe_pes(std::uint16_t pid, PesListener* l);
  // Whole PES packets of `pid` to its PES listener's on_pes (on: from the
  // next PES start; off: the one in progress is forgotten).
  void assemble_pes(std::uint16_t pid, bool on);
  // PES packets of `pid` handed over whole, and the ones left out (a packet
  // lost or scrambled, too large, malformed).
  std::uint64_t pes_delivered(std::uint16_t pid) const;
  std::uint64_t pes_dropped(std::uint16_t pid) const;
  void unsubscribe(std::uint16_t pid, const void* listener);

  struct PidState;  // per-PID state (analyzer_state.hpp)

 private:
  // PacketSink: a packet as it arrives. Packets wait (copied) for the next
  // reading of the multiplex clock, so that each is timed by interpolation
  // between the readings around it rather than by extrapolation: captures
  // and multiplexes are rarely at a constant rate between two PCRs.
  void on_packet(const std::uint8_t* p) override;
  // A clock reading in this packet (taken now): true when it is one.
  bool take_reading(const PacketView& pkt);
  // Analyses the waiting packets; timed by interpolation up to the latest
  // reading, or by extrapolation when there is none.
  void flush_pending(bool interpolate);
  // Everything but the clock, for one packet at packet index at_packet_ and time now_s_.
  void analyse(const std::uint8_t* p);
  void on_sync_byte_error() override;
  void on_sync_lost() override;
  void on_sync_acquired() override;

  PidState& pid_state(std::uint16_t pid);
  void emit(TsEvent::State st, std::optional<Indicator> ind, std::uint16_t pid, std::string what,
            std::string type = {});
  void error(Indicator i, std::uint16_t pid, std::string what) { emit(TsEvent::State::Error, i, pid, std::move(what)); }
  // Counts `n` occurrences of a lasting condition (Begin on its first).
  // `what` is a string or a callable that makes one: these run for every
  // packet and every timer check, and the reason is built only when there
  // is something to report.
  template <class What>
  void condition_errors(Indicator i, std::uint16_t pid, int n, bool& failing, What&& what) {
    if (n <= 0) return;
    const std::string reason = text_of(what);
    for (int k = 0; k < n; ++k) {
      emit(failing ? TsEvent::State::Error : TsEvent::State::Begin, i, pid, reason);
      failing = true;
    }
  }
  template <class What>
  void condition_end(Indicator i, std::uint16_t pid, bool& failing, What&& what) {
    if (!failing) return;
    failing = false;
    emit(TsEvent::State::End, i, pid, text_of(what));
  }
  template <class What>
  static std::string text_of(What& what) {
    if constexpr (std::is_invocable_v<What&>) return std::string(what());
    else return std::string(what);
  }

  // analyzer_psi.cpp
  void on_section(const Section& s);
  void on_pat(const Section& s);
  void on_pmt(const Section& s);
  void on_si(const Section& s);
  void refresh_references();
  void try_select();
  void check_tables(double now);
  void check_unreferenced(double now);
  void note_service_presence();
  // analyzer_timing.cpp
  void on_pcr(PidState& st, const PacketView& pkt);
  void on_pes_start(PidState& st, const PacketView& pkt);
  void check_timers(double now);
  void update_clock_reference();
  void update_scrambling(PidState& st, bool scrambled);

  AnalyzerOptions opts_;
  Packetizer packetizer_;
  std::array<std::unique_ptr<PidState>, kPidCount> pids_;
  std::vector<std::uint16_t> seen_pids_;  // in order of first appearance
  PerIndicator<std::uint64_t> counts_{};
  std::vector<TsEvent> events_;
  std::uint64_t packet_index_ = 0;   // packets arrived (the latest's index, from 1)
  std::uint64_t at_packet_ = 0;      // the packet being analysed
  double now_s_ = 0;                 // and its time
  // Packets waiting for a clock reading. Most are analysed within the read
  // that brought them, so they point into the caller's bytes; only those
  // still waiting when feed() returns (or that never were in the caller's
  // buffer: a packet across two reads) are copied, into pending_store_.
  struct Pending {
    const std::uint8_t* bytes;
    std::uint64_t index;
  };
  std::vector<Pending> pending_;
  std::unique_ptr<std::uint8_t[]> pending_store_;  // room for kMaxPending packets, made on first use
  std::size_t pending_stored_ = 0;
  std::uintptr_t feed_begin_ = 0, feed_end_ = 0;  // the bytes of the feed() in progress
  const std::uint8_t* keep(const std::uint8_t* p);
  std::uint64_t reading_packet_ = 0; // the latest clock reading: packet and value
  double reading_s_ = 0;
  std::optional<double> read_arrival_s_;  // arrival time of the latest read already used
  std::optional<double> arrival_s_, first_arrival_s_;
  StreamClock clock_;
  double last_timer_check_s_ = -1;
  double window_start_s_ = -1;       // of the bit rates' current one-second window
  double session_start_s_ = 0;

  // Priority 1/2 state (analyzer.cpp / analyzer_psi.cpp)
  bool sync_lost_ = false;
  std::uint64_t skipped_mark_ = 0;  // bytes skipped when sync was last found
  struct Deadline {
    double since_s = 0;       // last occurrence, or when watching began
    double next_s = 0;        // when the next error is due
    bool armed = false, failing = false;
    void arm(double now, double period) {
      since_s = now;
      next_s = now + period;
      armed = true;
    }
    // Errors due at `now` (one per period elapsed).
    int due(double now, double period) {
      if (!armed || period <= 0) return 0;
      int n = 0;
      while (now > next_s && n < 1000000) {
        ++n;
        next_s += period;
      }
      return n;
    }
  };
  Deadline pat_deadline_;
  Deadline cat_deadline_;          // armed while scrambled packets arrive without a CAT
  bool cat_seen_ = false;
  double last_scrambled_s_ = -1;
  struct SiTable {
    Deadline deadline;
    bool seen = false;
  };
  SiTable nit_, sdt_, eit_, tdt_, bat_, sdt_other_, eit_other_, tot_;
  // Latest time each SI section (pid, table_id, extension, section_number) was seen, for 3.2.
  std::vector<std::pair<std::uint64_t, double>> si_last_;

  // Services
  ServiceModel services_;
  std::optional<std::uint16_t> selected_;
  bool selection_final_ = false;
  bool service_missing_ = false;
  bool service_scrambled_ = false;
  std::optional<double> psi_complete_s_;  // when the PAT and all its PMTs were first known
  std::optional<std::int64_t> origin_pts_;
  std::function<void()> service_listener_;
  struct Retained {
    std::uint64_t packet = 0;
    double clock_s = 0;
    std::array<std::uint8_t, 188> bytes{};
  };
  bool retaining_ = true;
  std::deque<Retained> retained_;
  std::deque<std::pair<std::uint64_t, std::int64_t>> service_pts_history_;  // (packet, PTS)
  void retain(const PidState& st, const std::uint8_t* p);
  void replay(PidState& st);
  std::optional<double> origin_clock_s_;
  std::optional<std::int64_t> service_pts_;
  std::uint16_t selected_pcr_pid_ = kPidNull;   // the selected service's PCR PID
  std::uint16_t service_pts_pid_ = kPidNull;    // its video PID (else first audio)
  std::optional<double> selected_first_pcr_s_;  // clock at its first PCR
  std::optional<std::int64_t> selected_first_pcr_90k_;  // and its value
  std::vector<std::uint16_t> watched_;          // audio/video and PCR PIDs (periodic checks)
  std::uint64_t av_layout_changes_ = 0;
};

}  // namespace avmon::ts
