// A remote notifier: bounded queue + one worker thread + retry policy, and
// optionally an on-disk spool.
//
// Order is kept: the head of the queue is retried until it is delivered
// (or refused for good), so a receiver sees a defect's start before its end.
// With a spool, every event is written to disk when it is enqueued (written,
// fsynced, renamed into place, the directory fsynced: a power cut loses
// nothing that was enqueued) and removed once delivered, so what was pending
// at a crash or SIGKILL is sent after the restart with the same delivery id
// (at least once). When the memory queue is full the event stays on disk
// only, and the worker reloads from disk once the memory queue has drained,
// so order survives overflow. When the spool cannot be written (a full
// disk), the event is kept in memory only, if there is room and nothing is
// waiting on disk before it, and is lost otherwise; either way the failure
// is logged and counted (util/lost_output.hpp), and an event that was in
// memory only and not delivered by exit is lost.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "notify/notifier.hpp"
#include "util/lost_output.hpp"
#include "util/numbers.hpp"
#include "util/text.hpp"

namespace avmon {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string safe_name(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return s;
}

class QueuedNotifier final : public Notifier {
 public:
  QueuedNotifier(std::unique_ptr<Transport> t, const QueueOptions& o)
      : transport_(std::move(t)), opts_(o), name_(transport_->name()), counters_(std::make_shared<NotifierCounters>()),
        rng_(std::random_device{}()) {
    counters_->heartbeat_ms = steady_ms();
    if (!opts_.spool_dir.empty()) {
      spool_ = fs::path(opts_.spool_dir) / safe_name(name_);
      spool_output_ = "spool/" + name_;
      std::error_code ec;
      fs::create_directories(spool_, ec);
      if (ec) throw std::runtime_error("spool " + spool_.string() + ": " + ec.message());
      spool_fd_ = ::open(spool_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (spool_fd_ < 0) throw std::runtime_error("spool " + spool_.string() + ": " + std::strerror(errno));
      std::lock_guard lk(mu_);
      reload_locked();
      if (!queue_.empty())
        spdlog::info("notifier {}: {} undelivered event(s) from the spool", name_, counters_->depth.load());
    }
    worker_ = std::thread([this] { run(); });
  }
  ~QueuedNotifier() override {
    close();
    if (spool_fd_ >= 0) ::close(spool_fd_);
  }

  std::string name() const override { return name_; }
  std::shared_ptr<const NotifierCounters> counters() const override { return counters_; }

  void deliver(const nlohmann::json& event) override {
    Item item{{delivery_id(event), event, 1}, {}};
    std::lock_guard lk(mu_);
    if (counters_->disabled || closing_) {
      ++counters_->dropped;
      return;
    }
    if (!spool_.empty()) {
      std::string error;
      item.file = write_spool(item.delivery, &error);
      if (item.file.empty()) {
        // Kept in memory if it can go there without jumping the queue.
        bool kept = !spilled_ && queue_.size() < opts_.capacity;
        LostOutput::global().write_failed(spool_output_, error, kept ? 0 : 1);
        if (!kept) {
          ++counters_->dropped;
          return;
        }
      } else {
        ++counters_->spooled;
      }
      ++counters_->depth;
      // Behind events that are on disk only: wait for the reload, keeping order.
      if (!item.file.empty() && (spilled_ || queue_.size() >= opts_.capacity)) {
        spilled_ = true;
        return;
      }
    } else {
      if (queue_.size() >= opts_.capacity) {
        // The oldest is dropped: the newest tells the current state.
        if (counters_->dropped++ == 0) spdlog::warn("notifier {}: queue full ({}), dropping oldest", name_, opts_.capacity);
        queue_.pop_front();
        --counters_->depth;
        attempt_ = 1;
      }
      ++counters_->depth;
    }
    queue_.push_back(std::move(item));
    cv_.notify_all();
  }

  void begin_close() override {
    std::lock_guard lk(mu_);
    if (closing_) return;
    closing_ = true;
    close_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(opts_.drain_timeout_s));
    cv_.notify_all();
  }

  void close() override {
    begin_close();
    {
      std::lock_guard lk(mu_);
      if (closed_) return;
      closed_ = true;
    }
    // The worker delivers until the deadline; a send still in progress then
    // (a receiver that accepted and never answers) is cancelled, so that the
    // exit never waits for a transport's own, possibly long, timeout.
    {
      std::unique_lock lk(mu_);
      if (!done_cv_.wait_until(lk, close_deadline_, [&] { return worker_done_; })) {
        lk.unlock();
        transport_->cancel();
      }
    }
    if (worker_.joinable()) worker_.join();
  }

 private:
  struct Item {
    Delivery delivery;
    fs::path file;  // in the spool; empty without one
  };

  // Writes one spool file; its path, or empty with `*error` set. The data is
  // on disk before the file has its final name, and the name is on disk
  // before this returns.
  fs::path write_spool(const Delivery& d, std::string* error) {
    char name[64];
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
    std::snprintf(name, sizeof name, "%020lld-%08llu", static_cast<long long>(ns.count()),
                  static_cast<unsigned long long>(++spool_seq_));
    fs::path final_path = spool_ / (std::string(name) + ".json");
    fs::path tmp = spool_ / (std::string(name) + ".tmp");
    std::string text = to_json_text(nlohmann::json{{"id", d.id}, {"event", d.event}}) + "\n";
    auto fail = [&](const char* step) {
      *error = std::string(step) + " " + tmp.string() + ": " + std::strerror(errno);
      ::unlink(tmp.c_str());
      return fs::path();
    };
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot create");
    for (std::size_t done = 0; done < text.size();) {
      ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) errno = EIO;
        int err = errno;
        ::close(fd);
        errno = err;
        return fail("cannot write");
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      return fail("cannot fsync");
    }
    if (::close(fd) != 0) return fail("cannot close");
    // The rename makes a file appear whole or not at all after a crash; the
    // directory's fsync makes the new name survive a power cut.
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) return fail("cannot rename");
    if (::fsync(spool_fd_) != 0) {
      *error = "cannot fsync the spool directory " + spool_.string() + ": " + std::strerror(errno);
      ::unlink(final_path.c_str());
      return {};
    }
    return final_path;
  }

  // Loads spooled events in order, up to the queue's capacity. Only called
  // with an empty memory queue, so every file on disk is undelivered.
  void reload_locked() {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(spool_, ec)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
      else if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);  // torn write
    }
    std::sort(files.begin(), files.end());
    counters_->depth = files.size();
    spilled_ = files.size() > opts_.capacity;
    for (const auto& p : files) {
      if (queue_.size() >= opts_.capacity) break;
      try {
        std::ifstream f(p);
        auto j = nlohmann::json::parse(f);
        queue_.push_back({{j.at("id").get<std::string>(), j.at("event"), 1}, p});
      } catch (const std::exception& e) {
        spdlog::warn("notifier {}: unreadable spool file {} removed: {}", name_, p.string(), e.what());
        fs::remove(p, ec);
        --counters_->depth;
      }
    }
  }

  void finish_head_locked() {
    if (!queue_.front().file.empty()) {
      std::error_code ec;
      fs::remove(queue_.front().file, ec);
    }
    queue_.pop_front();
    --counters_->depth;
    attempt_ = 1;
  }

  double backoff_s() {
    // Exponential with "equal jitter": between half and all of the step, so
    // a fleet that lost one receiver does not retry in lock step.
    double step = std::min(opts_.max_backoff_s, opts_.initial_backoff_s * std::pow(2.0, std::min(attempt_ - 1, 30)));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return step * jitter(rng_);
  }

  void run() {
    std::unique_lock lk(mu_);
    auto next_idle = Clock::now();
    for (;;) {
      counters_->heartbeat_ms = steady_ms();
      auto now = Clock::now();
      if (queue_.empty() && spilled_) reload_locked();
      if (closing_ && (queue_.empty() || now >= close_deadline_ || counters_->disabled)) break;
      if (now >= next_idle) {
        next_idle = now + std::chrono::seconds(1);
        lk.unlock();
        busy_for_attempt();
        transport_->idle();
        lk.lock();
        continue;
      }
      if (queue_.empty() || counters_->disabled || now < retry_at_) {
        auto until = std::min(next_idle, queue_.empty() ? next_idle : std::max(retry_at_, now));
        if (closing_) until = std::min(until, close_deadline_);
        cv_.wait_until(lk, until);
        continue;
      }
      Delivery d = queue_.front().delivery;
      d.attempt = attempt_;
      lk.unlock();
      SendResult r;
      busy_for_attempt();
      try {
        r = transport_->send(d);
      } catch (const std::exception& e) {
        r = SendResult::retry(e.what());
      } catch (...) {
        r = SendResult::retry("unknown exception");
      }
      lk.lock();
      switch (r.outcome) {
        case SendResult::Outcome::Delivered:
          ++counters_->delivered;
          if (attempt_ > 1) spdlog::info("notifier {}: {} delivered after {} attempts", name_, d.id, attempt_);
          finish_head_locked();
          break;
        case SendResult::Outcome::Reject:
          ++counters_->rejected;
          spdlog::error("notifier {}: {} refused: {}", name_, d.id, r.detail);
          finish_head_locked();
          break;
        case SendResult::Outcome::Disable:
          counters_->disabled = true;
          spdlog::error("notifier {}: disabled: {} ({} event(s) not delivered)", name_, r.detail, queue_.size());
          counters_->dropped += queue_.size();
          counters_->depth = 0;
          queue_.clear();  // spool files stay: a later configuration may want them
          break;
        case SendResult::Outcome::Retry: {
          ++counters_->retries;
          double wait_s = r.retry_after_s >= 0 ? std::min(r.retry_after_s, 3600.0) : backoff_s();
          if ((attempt_ == 1 || attempt_ % 10 == 0) && !(closing_ && Clock::now() >= close_deadline_))
            spdlog::warn("notifier {}: attempt {} for {} failed ({}); retrying in {} s", name_, attempt_, d.id,
                         r.detail, human_number(wait_s, 1));
          ++attempt_;
          retry_at_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s));
          break;
        }
      }
    }
    std::size_t left = queue_.size();
    if (left > 0 || spilled_) {
      if (!spool_.empty()) {
        // Only what is on disk waits for the next start; what the spool
        // could not take was in memory only.
        std::uint64_t unspooled = static_cast<std::uint64_t>(
            std::count_if(queue_.begin(), queue_.end(), [](const Item& i) { return i.file.empty(); }));
        std::uint64_t on_disk = counters_->depth.load() - unspooled;
        if (on_disk > 0)
          spdlog::warn("notifier {}: {} event(s) left in the spool {} for the next start", name_, on_disk,
                       spool_.string());
        if (unspooled > 0) {
          counters_->dropped += unspooled;
          LostOutput::global().events_lost(spool_output_, unspooled,
                                           "not delivered before exit, and the spool could not keep them");
        }
      } else {
        spdlog::error("notifier {}: {} event(s) not delivered before exit", name_, left);
        counters_->dropped += left;
      }
    }
    lk.unlock();
    busy_for_attempt();
    transport_->stop();
    lk.lock();
    worker_done_ = true;
    done_cv_.notify_all();
  }

  // Liveness while the worker waits inside the transport: alive until the
  // transport's own bound for the call (plus a margin) has passed.
  void busy_for_attempt() {
    counters_->heartbeat_ms = steady_ms() + static_cast<std::int64_t>((opts_.attempt_timeout_s + 5) * 1000);
  }

  std::unique_ptr<Transport> transport_;
  QueueOptions opts_;
  std::string name_;
  std::shared_ptr<NotifierCounters> counters_;
  fs::path spool_;
  std::string spool_output_;  // "spool/<notifier>", for LostOutput
  int spool_fd_ = -1;         // the spool directory, for fsync
  std::uint64_t spool_seq_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool spilled_ = false;
  bool closing_ = false;
  Clock::time_point close_deadline_{};
  bool closed_ = false;      // close() ran (or runs)
  bool worker_done_ = false;
  std::condition_variable done_cv_;
  Clock::time_point retry_at_{};
  int attempt_ = 1;
  std::mt19937_64 rng_;
  std::thread worker_;
};

}  // namespace

std::unique_ptr<Notifier> make_queued_notifier(std::unique_ptr<Transport> transport, const QueueOptions& opts) {
  return std::make_unique<QueuedNotifier>(std::move(transport), opts);
}

}  // namespace avmon
