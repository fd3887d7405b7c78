// Evidence clips: the compressed input of the last buffer_s seconds is kept
// (Ring); when an alarm is raised (defect.start), a clip from pre_s before
// its onset to post_s after it is remuxed to MPEG-TS (Matroska when a
// stream's codec cannot go in TS), with thumbnails of the pictures at its
// raise and at its clear. Writing happens on a worker thread with a bounded
// queue: decoding never waits for the disk, and a write that fails (a full
// disk, no permission) is an `evidence.error` line and a counter, never a
// lost alarm.
//
// The recorder sits between the event engine and the notifier hub: it sees
// every line, adds details.evidence to the defect lines and passes them on.
// Its own lines (`evidence`, `evidence.error`) go through the engine like
// any other (the emitter): as they are done on a live input; for a file, at
// its end, in the order of the alarms, so that a file gives the same lines on
// every run.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "avmon/frame.hpp"
#include "evidence/clip_writer.hpp"
#include "evidence/options.hpp"
#include "evidence/ring.hpp"
#include "input/source.hpp"
#include "pipeline/event_sink.hpp"

namespace avmon::evidence {

class Recorder final : public EventSink {
 public:
  Recorder(Settings settings, EventSink& out, std::string stream, bool live);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Where the recorder's own lines go (the engine's emit_line, under its lock).
  void set_emitter(std::function<void(nlohmann::json)> emit) { emit_ = std::move(emit); }

  // EventSink (the engine, one thread at a time).
  void emit(const nlohmann::json& event) override;

  // Decode thread.
  void on_stream_info(const StreamInfo& info);
  void on_packet(const InputPacket& p);
  // End of the input, after the detectors finished (every defect ended):
  // clips still waiting for their post-roll are written with what there is,
  // the writer finishes its queue, and a file's lines are emitted.
  void finish();
  // Without writing anything more (the monitor is going away).
  void stop();

  // For stream.summary: clips written and failed, bytes, the buffer's figures.
  nlohmann::json summary() const;

 private:
  enum class Part { Clip, Clear };
  struct Alarm {
    std::string id, type, detector;
    double raise_s = 0;
    std::string clip_path, container, raise_jpg, clear_jpg;
    bool clip_queued = false;
    std::optional<double> clear_s;  // the defect's end, once known
    bool clear_queued = false;
  };
  struct Job {
    Part part = Part::Clip;
    Alarm alarm;
    ClipMaterial material;
    std::string note;     // why the clip is shorter than asked, if it is
    bool complete = true; // the post-roll is all there
  };
  struct Result {
    double media_s = 0;
    std::string id;
    int order = 0;
    nlohmann::json line;
  };

  void queue_due(bool all, const std::string& note);
  void enqueue(Job job);
  void work();
  void run(Job& job);
  void retain(const std::string& keep_prefix);
  void deliver(Result r);
  double keep_from_s() const;
  std::string base_path(const std::string& id) const;

  Settings settings_;
  EventSink& out_;
  std::string stream_, file_stem_;
  bool live_;
  std::function<void(nlohmann::json)> emit_;

  // Decode thread.
  Ring ring_;
  std::uint64_t session_ = 0;
  bool has_video_ = false;

  std::string container_seen_;

  mutable std::mutex mu_;  // what the engine's thread and the decode thread share
  std::map<std::string, Alarm> alarms_;  // by id: raised, something still to write
  std::string container_;                 // of the clips of this session (Ring::container)

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  bool stopping_ = false, abandon_ = false;
  std::thread worker_;
  std::set<std::string> failed_clips_;  // worker only: ids whose clip could not be written

  mutable std::mutex results_mu_;
  std::vector<Result> held_;  // a file's lines, emitted at the end
  struct Counters {
    std::uint64_t clips = 0, clips_failed = 0, thumbnails = 0, thumbnails_failed = 0, bytes = 0, deleted = 0,
                  dropped = 0;
    std::string last_error;
  } counters_;
  // Written by the demuxing thread, read by summary() from any (the HTTP server's telemetry).
  std::atomic<std::int64_t> peak_buffer_bytes_{0};
};

}  // namespace avmon::evidence
