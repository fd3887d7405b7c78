#include "pipeline/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "util/time.hpp"

namespace avmon {

namespace {

// Static TLS of the executable: readable from a signal handler.
constinit thread_local const char* t_detector = nullptr;

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct VectorSink final : ObservationSink {
  std::vector<Observation> seen;
  void observe(Observation obs) override { seen.push_back(std::move(obs)); }
};

int pool_threads(int configured, bool live) {
  int n = configured > 0 ? configured : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // A live input adds threads to the pool when a detector is isolated; Asio
  // runs a one-thread pool without the locking that would need.
  return live ? std::max(2, n) : n;
}

// What a detector threw, for the log and the event.
std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace

const char* detector_on_this_thread() noexcept { return t_detector; }

const char* detector_state_name(DetectorState s) {
  switch (s) {
    case DetectorState::Ok: return "ok";
    case DetectorState::Lagging: return "lagging";
    case DetectorState::Isolated: return "isolated";
    case DetectorState::Disabled: return "disabled";
    case DetectorState::Stuck: return "stuck";
  }
  return "?";
}

Dispatcher::Dispatcher(std::vector<DetectorSlot> slots, EventEngine& engine, Mode mode, int threads,
                       int queue_frames, DispatchLimits limits)
    : slots_(std::move(slots)), engine_(engine), mode_(mode), queue_frames_(std::max(1, queue_frames)),
      limits_(limits), pool_(static_cast<size_t>(pool_threads(threads, mode == Mode::DropWhenBehind))) {
  // The host's own reports: a lagging detector's defect is one episode even
  // if it catches up and falls behind again within the hold-off.
  engine_.add_host_type(kLaggingType, {0.0, 10.0, "warning"});
  engine_.add_host_type(kFailedType, {0.0, 0.0, "major"});
  for (size_t i = 0; i < slots_.size(); ++i) {
    stats_.push_back(std::make_unique<SlotStats>());
    rt_.push_back(std::make_unique<Runtime>());
    published_.push_back(std::make_unique<Published>());
    strands_.push_back(boost::asio::make_strand(pool_.get_executor()));
    if (live()) engine_.use_detector_clock(slots_[i].name);
  }
  // A suppressor's detector a little behind (less than a lagging one) is
  // waited for: one incident stays one alarm despite the skew.
  if (live()) engine_.set_suppressor_wait(limits_.lag_warn_s);
}

Dispatcher::~Dispatcher() {
  drain();
  pool_.join();
  for (auto& t : spare_threads_) t.join();
}

bool Dispatcher::idle_locked() const {
  if (!live()) return batches_.empty();
  return std::all_of(rt_.begin(), rt_.end(), [](const auto& r) { return r->inflight == 0; });
}

void Dispatcher::submit(double media_time_s, double end_s, unsigned media, Call call, bool droppable, int units) {
  auto shared_call = std::make_shared<Call>(std::move(call));
  if (live()) submit_live(media_time_s, end_s, media, shared_call, droppable, units);
  else submit_lossless(media_time_s, media, shared_call, units);
}

void Dispatcher::submit_lossless(double media_time_s, unsigned media, const std::shared_ptr<Call>& call, int units) {
  std::vector<size_t> targets;
  std::uint64_t seq;
  {
    std::unique_lock lk(mu_);
    seq = next_seq_++;
    batches_.push_back({media_time_s, 0, false, std::vector<std::vector<Observation>>(slots_.size()), {}});
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!(slots_[i].media & media) || rt_[i]->disabled) continue;
      cv_.wait(lk, [&] { return rt_[i]->inflight < queue_frames_; });
      rt_[i]->inflight += queue_weight(media, units);
      ++batch(seq).remaining;
      targets.push_back(i);
    }
    batch(seq).sealed = true;
    flush_locked();
  }
  for (size_t i : targets) post(i, seq, media_time_s, media, call, false, units, 0);
}

void Dispatcher::post(size_t slot, std::uint64_t seq, double media_time_s, unsigned media, std::shared_ptr<Call> call,
                      bool droppable, int units, std::uint64_t epoch) {
  boost::asio::post(strands_[slot],
                    [this, slot, seq, media_time_s, media, call = std::move(call), droppable, units, epoch] {
                      run_call(slot, seq, media_time_s, media, *call, droppable, units, epoch);
                    });
}

void Dispatcher::count_dropped(size_t slot, unsigned media, int units) {
  stats_[slot]->dropped += static_cast<std::uint64_t>(units);
  if (media & kVideo) stats_[slot]->dropped_video += static_cast<std::uint64_t>(units);
}

void Dispatcher::run_call(size_t i, std::uint64_t seq, double media_time_s, unsigned media, const Call& call,
                          bool droppable, int units, std::uint64_t epoch) {
  Runtime& rt = *rt_[i];
  SlotStats& st = *stats_[i];
  VectorSink sink;
  // Skipped: the detector was disabled, or isolated after this was queued.
  if (rt.disabled || (droppable && epoch != rt.epoch.load())) {
    if (droppable && !rt.disabled) count_dropped(i, media, units);
    complete(i, seq, media_time_s, {}, queue_weight(media, units), droppable);
    return;
  }
  // Wall time for the latency histogram; the thread's CPU clock for
  // cpu_s, which must not count time the thread spent preempted.
  const std::int64_t t0_ns = steady_ns();
  const std::int64_t cpu0_ns = thread_cpu_ns();
  st.call_started_ns = t0_ns;
  t_detector = slots_[i].name.c_str();
  call(i, sink);
  t_detector = nullptr;
  const std::int64_t t1_ns = steady_ns();
  st.call_started_ns = 0;
  const auto busy_ns = static_cast<std::uint64_t>(std::max<std::int64_t>(0, t1_ns - t0_ns));
  st.busy_ns += busy_ns;
  st.cpu_ns += static_cast<std::uint64_t>(std::max<std::int64_t>(0, thread_cpu_ns() - cpu0_ns));
  size_t bucket = 0;
  while (bucket < kProcessingBucketsS.size() && static_cast<double>(busy_ns) > kProcessingBucketsS[bucket] * 1e9)
    ++bucket;
  ++st.time_buckets[bucket];
  st.processed += static_cast<std::uint64_t>(units);
  if (media & kVideo) st.processed_video += static_cast<std::uint64_t>(units);
  if (const std::int64_t every_ns = levels_every_ns_.load(); every_ns > 0 && !rt.disabled) {
    // Between frames, on the detector's own strand: the only place its
    // state may be read.
    Published& p = *published_[i];
    if (t1_ns >= p.next_ns) {
      p.next_ns = t1_ns + every_ns;
      nlohmann::json fresh;
      guarded(i, "levels", media_time_s, sink, [&] { fresh = slots_[i].detector->levels(); }, false);
      std::lock_guard lk(p.mu);
      p.levels = std::move(fresh);
    }
  }
  complete(i, seq, media_time_s, std::move(sink.seen), queue_weight(media, units), droppable);
}

bool Dispatcher::guarded(size_t i, const char* what, double media_time_s, ObservationSink& sink,
                         const std::function<void()>& fn, bool success_counts) {
  Runtime& rt = *rt_[i];
  if (rt.disabled) return false;
  std::string error;
  try {
    fn();
    if (success_counts) rt.failures_in_a_row = 0;
    return true;
  } catch (...) {
    error = describe_current_exception();
  }
  const std::uint64_t n = ++stats_[i]->errors;
  if (n == 1) spdlog::error("detector {} failed in {}: {}", slots_[i].name, what, error);
  if (++rt.failures_in_a_row < limits_.max_failures) return true;
  rt.disabled = true;
  stats_[i]->state = DetectorState::Disabled;
  spdlog::error("detector {} disabled after {} failed calls in a row (last in {}: {})", slots_[i].name,
                rt.failures_in_a_row, what, error);
  Observation o;
  o.type = kFailedType;
  o.media_time_s = media_time_s;
  o.active = true;
  o.score = static_cast<double>(rt.failures_in_a_row);
  o.details = {{"failures", rt.failures_in_a_row}, {"call", what}, {"error", error}};
  sink.observe(std::move(o));
  return false;
}

void Dispatcher::complete(size_t slot, std::uint64_t seq, double media_time_s, std::vector<Observation> obs,
                          int weight, bool droppable) {
  std::lock_guard lk(mu_);
  Runtime& rt = *rt_[slot];
  rt.inflight -= weight;
  if (!live()) {
    Batch& b = batch(seq);
    b.observations[slot] = std::move(obs);
    --b.remaining;
    flush_locked();
  } else {
    if (droppable && !rt.pending.empty()) rt.pending.pop_front();
    if (!closed_) {
      for (const auto& o : obs) engine_.observe(slots_[slot].name, o);
      engine_.advance_detector(slots_[slot].name, media_time_s);
    }
    update_lag_locked(slot);
  }
  cv_.notify_all();
}

void Dispatcher::flush_locked() {
  bool popped = false;
  while (!batches_.empty() && batches_.front().sealed && batches_.front().remaining == 0) {
    Batch& b = batches_.front();
    if (b.external) b.external(engine_);
    for (size_t i = 0; i < slots_.size(); ++i)
      for (const auto& o : b.observations[i]) engine_.observe(slots_[i].name, o);
    engine_.advance(b.media_time_s);
    batches_.pop_front();
    ++base_seq_;
    popped = true;
  }
  if (popped) cv_.notify_all();
}

void Dispatcher::configure(const StreamInfo& info) {
  flush_pending();
  const double t = engine_.clock_s();
  submit(t, t, kVideo | kAudio, [this, info, t](size_t i, ObservationSink& s) {
    guarded(i, "configure", t, s, [&] { slots_[i].detector->configure(info); });
  }, false);
  // A live input never waits for a detector; the strand's order puts the
  // configuration before the frames that follow it.
  if (!live()) drain();
}

void Dispatcher::video(std::shared_ptr<const VideoFrame> frame) {
  pending_video_.push_back(std::move(frame));
  const VideoFrame& first = *pending_video_.front();
  const VideoFrame& last = *pending_video_.back();
  if (last.media_time_s() + last.duration_s() - first.media_time_s() >= kVideoBatchS - 1e-6) flush_video();
}

template <class Item>
void Dispatcher::submit_batch(std::vector<std::shared_ptr<const Item>>& pending, unsigned media, const char* what,
                              void (Detector::*on_item)(const Item&, ObservationSink&)) {
  if (pending.empty()) return;
  auto items = std::make_shared<std::vector<std::shared_ptr<const Item>>>(std::move(pending));
  pending.clear();
  const double t = items->front()->media_time_s();
  const Item& last = *items->back();
  double end_s = last.media_time_s();
  if constexpr (std::is_same_v<Item, VideoFrame>) end_s += last.duration_s();
  else end_s += last.sample_rate() > 0 ? last.samples() / static_cast<double>(last.sample_rate()) : 0;
  const int n = static_cast<int>(items->size());
  submit(t, end_s, media, [this, items, on_item, what](size_t i, ObservationSink& s) {
    Detector& d = *slots_[i].detector;
    // One by one: a frame that makes the detector throw costs that frame only.
    for (const auto& item : *items)
      if (!guarded(i, what, item->media_time_s(), s, [&] { (d.*on_item)(*item, s); })) break;
  }, true, n);
}

void Dispatcher::flush_video() { submit_batch(pending_video_, kVideo, "on_video", &Detector::on_video); }

void Dispatcher::audio(std::shared_ptr<const AudioBlock> block) {
  pending_audio_.push_back(std::move(block));
  const AudioBlock& first = *pending_audio_.front();
  const AudioBlock& last = *pending_audio_.back();
  double end_s = last.media_time_s() + (last.sample_rate() > 0 ? last.samples() / double(last.sample_rate()) : 0);
  if (end_s - first.media_time_s() >= kAudioBatchS) flush_audio();
}

void Dispatcher::flush_audio() { submit_batch(pending_audio_, kAudio, "on_audio", &Detector::on_audio); }

void Dispatcher::discontinuity(double media_time_s) {
  flush_pending();
  submit(media_time_s, media_time_s, kVideo | kAudio, [this, media_time_s](size_t i, ObservationSink& s) {
    guarded(i, "on_discontinuity", media_time_s, s, [&] { slots_[i].detector->on_discontinuity(media_time_s); });
  }, false);
}

void Dispatcher::drain() {
  flush_pending();
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return idle_locked(); });
}

void Dispatcher::finish(double end_media_time_s) {
  flush_pending();
  if (live()) return finish_live(end_media_time_s);
  submit(end_media_time_s, end_media_time_s, kVideo | kAudio, [this, end_media_time_s](size_t i, ObservationSink& s) {
    guarded(i, "finish", end_media_time_s, s, [&] { slots_[i].detector->finish(end_media_time_s, s); });
  }, false);
  drain();
  std::lock_guard lk(mu_);
  engine_.finish(end_media_time_s);
  closed_ = true;
}

nlohmann::json Dispatcher::summaries() {
  if (!live()) drain();
  // Every strand left is idle (or abandoned, and skipped); the mutex orders
  // their writes before these reads.
  std::lock_guard lk(mu_);
  nlohmann::json all = nlohmann::json::object();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (rt_[i]->inflight > 0) continue;
    try {
      nlohmann::json j = slots_[i].detector->summary();
      if (j.is_object()) all.update(j, true);
    } catch (...) {
      ++stats_[i]->errors;
      spdlog::error("detector {} failed in summary: {}", slots_[i].name, describe_current_exception());
    }
  }
  return all;
}

void Dispatcher::publish_levels(double every_s) {
  levels_every_ns_ = static_cast<std::int64_t>(every_s * 1e9);
}

nlohmann::json Dispatcher::levels(size_t slot) const {
  const Published& p = *published_[slot];
  std::lock_guard lk(p.mu);
  return p.levels;
}

void Dispatcher::submit_external(double media_time_s, std::function<void(EventEngine&)> apply) {
  flush_pending();
  std::lock_guard lk(mu_);
  ++next_seq_;
  batches_.push_back({media_time_s, 0, true, std::vector<std::vector<Observation>>(slots_.size()), std::move(apply)});
  flush_locked();
}

void Dispatcher::with_engine(const std::function<void(EventEngine&)>& fn) {
  std::lock_guard lk(mu_);
  fn(engine_);
}

}  // namespace avmon
