#include "pipeline/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace avmon {

namespace {

std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct VectorSink final : ObservationSink {
  std::vector<Observation> seen;
  void observe(Observation obs) override { seen.push_back(std::move(obs)); }
};

int pool_threads(int configured) {
  if (configured > 0) return configured;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

Dispatcher::Dispatcher(std::vector<DetectorSlot> slots, EventEngine& engine, Mode mode, int threads,
                       int queue_frames)
    : slots_(std::move(slots)), engine_(engine), mode_(mode), queue_frames_(std::max(1, queue_frames)),
      inflight_(slots_.size(), 0), pool_(static_cast<size_t>(pool_threads(threads))) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    stats_.push_back(std::make_unique<SlotStats>());
    published_.push_back(std::make_unique<Published>());
    strands_.push_back(boost::asio::make_strand(pool_.get_executor()));
  }
}

Dispatcher::~Dispatcher() {
  drain();
  pool_.join();
}

void Dispatcher::submit(double media_time_s, unsigned media, Call call, bool may_drop, int units) {
  std::vector<size_t> targets;
  std::uint64_t seq;
  {
    std::unique_lock lk(mu_);
    seq = next_seq_++;
    batches_.push_back({media_time_s, 0, false, std::vector<std::vector<Observation>>(slots_.size())});
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!(slots_[i].media & media)) continue;
      if (inflight_[i] >= queue_frames_) {
        if (may_drop && mode_ == Mode::DropWhenBehind) {
          stats_[i]->dropped += static_cast<std::uint64_t>(units);
          if (media & kVideo) stats_[i]->dropped_video += static_cast<std::uint64_t>(units);
          continue;
        }
        cv_.wait(lk, [&] { return inflight_[i] < queue_frames_; });
      }
      inflight_[i] += units;
      ++batch(seq).remaining;
      targets.push_back(i);
    }
    batch(seq).sealed = true;
    flush_locked();
  }
  auto shared_call = std::make_shared<Call>(std::move(call));
  for (size_t i : targets) {
    boost::asio::post(strands_[i], [this, i, seq, shared_call, units, media] {
      VectorSink sink;
      // Wall time for the latency histogram; the thread's CPU clock for
      // cpu_s, which must not count time the thread spent preempted.
      auto t0 = std::chrono::steady_clock::now();
      const std::int64_t cpu0_ns = thread_cpu_ns();
      try {
        (*shared_call)(*slots_[i].detector, sink);
      } catch (const std::exception& e) {
        if (stats_[i]->errors++ == 0) spdlog::error("detector {} failed: {}", slots_[i].name, e.what());
      }
      auto busy_ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
      stats_[i]->busy_ns += busy_ns;
      stats_[i]->cpu_ns += static_cast<std::uint64_t>(std::max<std::int64_t>(0, thread_cpu_ns() - cpu0_ns));
      size_t bucket = 0;
      while (bucket < kProcessingBucketsS.size() && static_cast<double>(busy_ns) > kProcessingBucketsS[bucket] * 1e9)
        ++bucket;
      ++stats_[i]->time_buckets[bucket];
      stats_[i]->processed += static_cast<std::uint64_t>(units);
      if (media & kVideo) stats_[i]->processed_video += static_cast<std::uint64_t>(units);
      if (const std::int64_t every_ns = levels_every_ns_.load(); every_ns > 0) {
        // Between frames, on the detector's own strand: the only place its
        // state may be read.
        Published& p = *published_[i];
        const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch()).count();
        if (now_ns >= p.next_ns) {
          p.next_ns = now_ns + every_ns;
          nlohmann::json fresh;
          try {
            fresh = slots_[i].detector->levels();
          } catch (const std::exception& e) {
            if (stats_[i]->errors++ == 0) spdlog::error("detector {} levels() failed: {}", slots_[i].name, e.what());
          }
          std::lock_guard lk(p.mu);
          p.levels = std::move(fresh);
        }
      }
      complete(i, seq, std::move(sink.seen), units);
    });
  }
}

void Dispatcher::complete(size_t slot, std::uint64_t seq, std::vector<Observation> obs, int units) {
  std::lock_guard lk(mu_);
  Batch& b = batch(seq);
  b.observations[slot] = std::move(obs);
  --b.remaining;
  inflight_[slot] -= units;
  flush_locked();
  cv_.notify_all();
}

void Dispatcher::flush_locked() {
  bool popped = false;
  while (!batches_.empty() && batches_.front().sealed && batches_.front().remaining == 0) {
    Batch& b = batches_.front();
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
  submit(engine_.clock_s(), kVideo | kAudio, [info](Detector& d, ObservationSink&) { d.configure(info); }, false);
  drain();
}

void Dispatcher::video(std::shared_ptr<const VideoFrame> frame) {
  pending_video_.push_back(std::move(frame));
  const VideoFrame& first = *pending_video_.front();
  const VideoFrame& last = *pending_video_.back();
  if (last.media_time_s() + last.duration_s() - first.media_time_s() >= kVideoBatchS - 1e-6) flush_video();
}

template <class Item>
void Dispatcher::submit_batch(std::vector<std::shared_ptr<const Item>>& pending, unsigned media,
                              void (Detector::*on_item)(const Item&, ObservationSink&)) {
  if (pending.empty()) return;
  auto items = std::make_shared<std::vector<std::shared_ptr<const Item>>>(std::move(pending));
  pending.clear();
  const double t = items->front()->media_time_s();
  const int n = static_cast<int>(items->size());
  submit(t, media, [items, on_item](Detector& d, ObservationSink& s) {
    for (const auto& item : *items) (d.*on_item)(*item, s);
  }, true, n);
}

void Dispatcher::flush_video() { submit_batch(pending_video_, kVideo, &Detector::on_video); }

void Dispatcher::audio(std::shared_ptr<const AudioBlock> block) {
  pending_audio_.push_back(std::move(block));
  const AudioBlock& first = *pending_audio_.front();
  const AudioBlock& last = *pending_audio_.back();
  double end_s = last.media_time_s() + (last.sample_rate() > 0 ? last.samples() / double(last.sample_rate()) : 0);
  if (end_s - first.media_time_s() >= kAudioBatchS) flush_audio();
}

void Dispatcher::flush_audio() { submit_batch(pending_audio_, kAudio, &Detector::on_audio); }

void Dispatcher::discontinuity(double media_time_s) {
  flush_pending();
  submit(media_time_s, kVideo | kAudio,
         [media_time_s](Detector& d, ObservationSink&) { d.on_discontinuity(media_time_s); }, false);
}

void Dispatcher::drain() {
  flush_pending();
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return batches_.empty(); });
}

void Dispatcher::finish(double end_media_time_s) {
  flush_pending();
  submit(end_media_time_s, kVideo | kAudio,
         [end_media_time_s](Detector& d, ObservationSink& s) { d.finish(end_media_time_s, s); }, false);
  drain();
  std::lock_guard lk(mu_);
  engine_.finish(end_media_time_s);
}

nlohmann::json Dispatcher::summaries() {
  drain();
  // Every strand is idle after drain(); the mutex orders their writes before these reads.
  std::lock_guard lk(mu_);
  nlohmann::json all = nlohmann::json::object();
  for (const auto& s : slots_) {
    nlohmann::json j = s.detector->summary();
    if (j.is_object()) all.update(j, true);
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

void Dispatcher::with_engine(const std::function<void(EventEngine&)>& fn) {
  std::lock_guard lk(mu_);
  fn(engine_);
}

}  // namespace avmon
