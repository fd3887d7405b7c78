// Dispatch: every decoded frame goes, by reference, to each detector that
// wants its medium; each detector runs on its own strand of an Asio thread
// pool with a bounded number of frames in flight.
//
// A file is analysed losslessly and deterministically: a full queue makes
// the decoder wait, and a reorder buffer hands the observations to the event
// engine in frame order, detectors in name order, so the events of a file are
// the same on every run.
//
// A live input must never wait for a detector: a full queue drops the frame
// for that detector alone (counted), and each detector's observations reach
// the engine as soon as it has made them, in its own order, timed on its own
// clock (EventEngine::use_detector_clock). A detector that falls behind is
// reported (detector_lagging) and, past a bound, isolated: its backlog is
// skipped and it gets no frames until it has caught up, while the others go
// on. At the end, the detectors get a bounded time to finish; one still busy
// is abandoned and reported.
//
// Whatever a detector throws is caught at this boundary; after
// DispatchLimits::max_failures failed calls in a row it is disabled
// (detector_failed) and called no more.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "avmon/detector.hpp"
#include "avmon/registry.hpp"
#include "pipeline/engine.hpp"

namespace avmon {

struct DetectorSlot {
  std::string name;
  unsigned media = 0;  // kVideo | kAudio
  std::unique_ptr<Detector> detector;
};

// Upper bounds of the per-call processing-time buckets (metrics histogram).
// A call is a batch of up to 0.1 s of media (2-3 pictures, a few audio
// blocks); a cheap detector spends tens of microseconds on it, so the
// buckets start at 10 us.
inline constexpr std::array<double, 16> kProcessingBucketsS = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                               0.001,   0.0025,   0.005,   0.01,   0.025,   0.05,
                                                               0.1,     0.25,     0.5,     1.0};

enum class DetectorState : int {
  Ok,
  Lagging,   // live: more than lag_warn_s behind
  Isolated,  // live: more than max_lag_s behind; skipped until it catches up
  Disabled,  // failed max_failures calls in a row; called no more
  Stuck,     // live: still busy when the input ended; abandoned
};
const char* detector_state_name(DetectorState s);

struct SlotStats {
  std::atomic<std::uint64_t> processed{0};      // pictures and audio blocks
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> processed_video{0};  // of which pictures (the rest are audio blocks)
  std::atomic<std::uint64_t> dropped_video{0};
  std::atomic<std::uint64_t> errors{0};   // calls that threw (anything)
  std::atomic<std::uint64_t> busy_ns{0};  // wall time of the calls (the histogram's sum)
  std::atomic<std::uint64_t> cpu_ns{0};   // CPU time of the calls (the strand thread's clock)
  // Calls per processing-time bucket (kProcessingBucketsS, then +Inf); not cumulative.
  std::array<std::atomic<std::uint64_t>, kProcessingBucketsS.size() + 1> time_buckets{};
  std::atomic<DetectorState> state{DetectorState::Ok};
  std::atomic<double> lag_s{0};           // live: media time between the newest frame and its oldest in flight
  std::atomic<std::int64_t> call_started_ns{0};  // steady clock of the call in progress; 0: none
};

struct DispatchLimits {
  int max_failures = 10;        // failed calls in a row after which a detector is disabled
  double lag_warn_s = 2;        // live: detector_lagging beyond this much media time behind
  double max_lag_s = 10;        // live: isolated beyond this
  double drain_timeout_s = 2;   // live: at the end, wait at most this long for the detectors
};

// The detector whose code runs on this thread (null: none); read by the
// fatal-signal report, so a crash names the detector that caused it.
const char* detector_on_this_thread() noexcept;

class Dispatcher {
 public:
  enum class Mode { Lossless, DropWhenBehind };
  // Defect types the dispatcher reports about a detector (detector = its name).
  static constexpr const char* kLaggingType = "detector_lagging";
  static constexpr const char* kFailedType = "detector_failed";

  Dispatcher(std::vector<DetectorSlot> slots, EventEngine& engine, Mode mode, int threads, int queue_frames,
             DispatchLimits limits = {});
  // Waits for the calls in progress (see abandoned()).
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void configure(const StreamInfo& info);
  void video(std::shared_ptr<const VideoFrame> frame);
  void audio(std::shared_ptr<const AudioBlock> block);
  void discontinuity(double media_time_s);
  // The next picture may be seconds away (decode.mode adaptive, keyframes
  // only): hand the pictures held for a batch to the detectors now, or a
  // live input's video detectors would wait a GOP for each.
  void flush_video_batch() { flush_video(); }
  // Waits until every frame handed over so far has been analysed (or
  // skipped) and its observations passed to the engine. Unbounded.
  void drain();
  // End of input: detectors' finish(), then the engine closes open defects.
  // A file waits for every detector; a live input at most drain_timeout_s,
  // after which a detector still busy is Stuck and its late results ignored.
  void finish(double end_media_time_s);
  // A detector was still in a call at finish(): this object (and the
  // detector) must stay alive until that call returns, which may be never;
  // the owner then leaks it and the process ends without unloading plugins.
  bool abandoned() const { return abandoned_.load(); }
  // Detectors' summary() figures merged into one object (after finish());
  // abandoned detectors are left out.
  nlohmann::json summaries();
  // Live figures (Detector::levels()) for the status page and metrics. Off
  // by default; once on, each detector's strand refreshes its figures after a
  // call at most every `every_s`, so readers never wait for a detector.
  void publish_levels(double every_s);
  // The latest published figures, keyed by detector name (null: none).
  nlohmann::json levels(size_t slot) const;

  // Runs `fn` with the engine under the dispatcher's lock (status, metrics).
  void with_engine(const std::function<void(EventEngine&)>& fn);

  // Observations from outside the detectors (the transport stream layer):
  // `apply` reaches the engine in order, after everything handed over before
  // this call and before anything after it, so a file's events stay the same
  // from run to run. Producer thread only.
  void submit_external(double media_time_s, std::function<void(EventEngine&)> apply);

  const std::vector<DetectorSlot>& slots() const { return slots_; }
  const SlotStats& stats(size_t slot) const { return *stats_[slot]; }
  // One detector's figures for stream.summary: counts, cpu_s, state (and
  // for a live input lag_s; for an abandoned detector in_call_s).
  nlohmann::json report(size_t slot) const;
  bool live() const { return mode_ == Mode::DropWhenBehind; }

 private:
  // One detector's work: runs on its strand; reports through the sink.
  using Call = std::function<void(size_t slot, ObservationSink& sink)>;
  struct Batch {
    double media_time_s = 0;
    int remaining = 0;
    bool sealed = false;  // every target has been counted in `remaining`
    std::vector<std::vector<Observation>> observations;  // per slot
    std::function<void(EventEngine&)> external;          // submit_external()
  };
  // Per-slot dispatch state; under mu_ unless marked.
  struct Runtime {
    int inflight = 0;                         // queue weight (queue_weight()) posted, not done
    std::deque<double> pending;               // live: media time of each droppable call not done
    std::atomic<std::uint64_t> epoch{0};      // droppable calls of an older epoch are skipped
    std::atomic<bool> disabled{false};
    int failures_in_a_row = 0;                // strand only
    double reported_lag_s = 0;                // lag carried by the latest detector_lagging observation
  };

  // `units`: frames or blocks in the call, for the processed/dropped counts
  // and the in-flight bound. `droppable`: frames (a live input may drop or
  // skip them), as opposed to configure/discontinuity/finish.
  void submit(double media_time_s, double end_s, unsigned media, Call call, bool droppable, int units = 1);
  void submit_lossless(double media_time_s, unsigned media, const std::shared_ptr<Call>& call, int units);
  void submit_live(double media_time_s, double end_s, unsigned media, const std::shared_ptr<Call>& call,
                   bool droppable, int units);
  void post(size_t slot, std::uint64_t seq, double media_time_s, unsigned media, std::shared_ptr<Call> call,
            bool droppable, int units, std::uint64_t epoch);
  void run_call(size_t slot, std::uint64_t seq, double media_time_s, unsigned media, const Call& call,
                bool droppable, int units, std::uint64_t epoch);
  // Counts `units` frames or blocks of `media` as dropped for `slot`.
  void count_dropped(size_t slot, unsigned media, int units);
  // Runs one detector call, catching anything it throws; false once the
  // detector is disabled (then a detector_failed observation is in `sink`).
  // `success_counts`: a success ends a run of failures (not so for levels(),
  // which is called too rarely to vouch for the analysis).
  bool guarded(size_t slot, const char* what, double media_time_s, ObservationSink& sink,
               const std::function<void()>& fn, bool success_counts = true);
  // Hands the pending frames or blocks to their detectors as one call.
  template <class Item>
  void submit_batch(std::vector<std::shared_ptr<const Item>>& pending, unsigned media, const char* what,
                    void (Detector::*on_item)(const Item&, ObservationSink&));
  // What a call weighs against queue_frames: a picture is big (megabytes
  // of decoder buffers held while in flight), so each counts; audio is not,
  // so a batch of blocks (kAudioBatchS) counts once. Counting 21 ms AAC
  // blocks one by one bounded a detector to a third of a second of audio,
  // and a live input's first read (what probing the stream buffered: a GOP
  // of packets, handed over at once when keyframes-only decoding skips the
  // pictures) overflowed it and lost audio with the machine idle.
  static int queue_weight(unsigned media, int units) { return media == kAudio ? 1 : units; }
  void flush_audio();
  void flush_video();
  void flush_pending() {
    flush_video();
    flush_audio();
  }
  void complete(size_t slot, std::uint64_t seq, double media_time_s, std::vector<Observation> obs, int weight,
                bool droppable);
  void flush_locked();
  Batch& batch(std::uint64_t seq) { return batches_[static_cast<size_t>(seq - base_seq_)]; }
  bool idle_locked() const;

  // Live: lag accounting (dispatcher_live.cpp).
  void update_lag_locked(size_t slot);
  void report_lag_locked(size_t slot, bool active, double lag_s, bool isolated);
  void isolate_locked(size_t slot, double lag_s);
  void rejoin_locked(size_t slot);
  void finish_live(double end_media_time_s);

  std::vector<DetectorSlot> slots_;
  std::vector<std::unique_ptr<SlotStats>> stats_;
  std::vector<std::unique_ptr<Runtime>> rt_;
  struct Published {
    mutable std::mutex mu;
    nlohmann::json levels;
    std::int64_t next_ns = 0;  // steady clock; strand only
  };
  std::vector<std::unique_ptr<Published>> published_;
  std::atomic<std::int64_t> levels_every_ns_{0};
  EventEngine& engine_;
  const Mode mode_;
  int queue_frames_;
  DispatchLimits limits_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> batches_;  // lossless: the reorder buffer
  std::uint64_t base_seq_ = 0, next_seq_ = 0;
  double newest_s_ = 0;        // live: end of the newest frame or block handed over
  bool closed_ = false;        // the engine is finished: late results are ignored
  std::atomic<bool> abandoned_{false};
  std::size_t isolated_ = 0;   // live: detectors isolated now

  // Audio comes in small blocks (AAC: 21 ms); handing each to every audio
  // detector separately costs more in wake-ups than the analysis itself, so
  // blocks travel in batches of about kAudioBatchS. Producer thread only.
  static constexpr double kAudioBatchS = 0.1;
  std::vector<std::shared_ptr<const AudioBlock>> pending_audio_;
  // Pictures travel in batches too: each hand-off to a detector thread is a
  // wake-up and a context switch, which at 25 fps and four video detectors
  // cost about as much as a detector. kVideoBatchS of media time (2-3
  // pictures at 25 fps) is far below any defect's minimum duration.
  static constexpr double kVideoBatchS = 0.1;
  std::vector<std::shared_ptr<const VideoFrame>> pending_video_;

  boost::asio::thread_pool pool_;
  // Live: a thread added to the pool for each isolated detector, whose
  // strand may hold a pool thread for as long as its call lasts.
  std::vector<std::thread> spare_threads_;
  std::vector<boost::asio::strand<boost::asio::thread_pool::executor_type>> strands_;
};

}  // namespace avmon
