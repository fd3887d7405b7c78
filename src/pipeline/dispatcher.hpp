// Dispatch: every decoded frame goes, by reference, to each detector that
// wants its medium; each detector runs on its own strand of an Asio thread
// pool with a bounded number of frames in flight. A file waits for a full
// queue (lossless, back-pressure); a live input drops the frame for that
// detector and counts the drop.
//
// Observations come back out of order across detectors; a reorder buffer
// hands them to the event engine in frame order, detectors in name order, so
// the events of a file are the same on every run.
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

struct SlotStats {
  std::atomic<std::uint64_t> processed{0};      // pictures and audio blocks
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> processed_video{0};  // of which pictures (the rest are audio blocks)
  std::atomic<std::uint64_t> dropped_video{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> busy_ns{0};  // wall time of the calls (the histogram's sum)
  std::atomic<std::uint64_t> cpu_ns{0};   // CPU time of the calls (the strand thread's clock)
  // Calls per processing-time bucket (kProcessingBucketsS, then +Inf); not cumulative.
  std::array<std::atomic<std::uint64_t>, kProcessingBucketsS.size() + 1> time_buckets{};
};

class Dispatcher {
 public:
  enum class Mode { Lossless, DropWhenBehind };

  Dispatcher(std::vector<DetectorSlot> slots, EventEngine& engine, Mode mode, int threads, int queue_frames);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void configure(const StreamInfo& info);
  void video(std::shared_ptr<const VideoFrame> frame);
  void audio(std::shared_ptr<const AudioBlock> block);
  void discontinuity(double media_time_s);
  // Waits until every frame handed over so far has been analysed and its
  // observations passed to the engine.
  void drain();
  // End of input: detectors' finish(), then the engine closes open defects.
  void finish(double end_media_time_s);
  // Detectors' summary() figures merged into one object (after finish()).
  nlohmann::json summaries();
  // Live figures (Detector::levels()) for the status page and metrics. Off
  // by default; once on, each detector's strand refreshes its figures after a
  // call at most every `every_s`, so readers never wait for a detector.
  void publish_levels(double every_s);
  // The latest published figures, keyed by detector name (null: none).
  nlohmann::json levels(size_t slot) const;

  // Runs `fn` with the engine under the dispatcher's lock (status, metrics).
  void with_engine(const std::function<void(EventEngine&)>& fn);

  const std::vector<DetectorSlot>& slots() const { return slots_; }
  const SlotStats& stats(size_t slot) const { return *stats_[slot]; }
  void set_mode(Mode m) { mode_ = m; }

 private:
  using Call = std::function<void(Detector&, ObservationSink&)>;
  struct Batch {
    double media_time_s = 0;
    int remaining = 0;
    bool sealed = false;  // every target has been counted in `remaining`
    std::vector<std::vector<Observation>> observations;  // per slot
  };

  // `units`: frames or blocks in the call, for the processed/dropped counts
  // and the in-flight bound.
  void submit(double media_time_s, unsigned media, Call call, bool may_drop, int units = 1);
  // Hands the pending frames or blocks to their detectors as one call.
  template <class Item>
  void submit_batch(std::vector<std::shared_ptr<const Item>>& pending, unsigned media,
                    void (Detector::*on_item)(const Item&, ObservationSink&));
  void flush_audio();
  void flush_video();
  void flush_pending() {
    flush_video();
    flush_audio();
  }
  void complete(size_t slot, std::uint64_t seq, std::vector<Observation> obs, int units);
  void flush_locked();
  Batch& batch(std::uint64_t seq) { return batches_[static_cast<size_t>(seq - base_seq_)]; }

  std::vector<DetectorSlot> slots_;
  std::vector<std::unique_ptr<SlotStats>> stats_;
  struct Published {
    mutable std::mutex mu;
    nlohmann::json levels;
    std::int64_t next_ns = 0;  // steady clock; strand only
  };
  std::vector<std::unique_ptr<Published>> published_;
  std::atomic<std::int64_t> levels_every_ns_{0};
  EventEngine& engine_;
  std::atomic<Mode> mode_;
  int queue_frames_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> batches_;
  std::uint64_t base_seq_ = 0, next_seq_ = 0;
  std::vector<int> inflight_;

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
  std::vector<boost::asio::strand<boost::asio::thread_pool::executor_type>> strands_;
};

}  // namespace avmon
