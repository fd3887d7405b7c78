// signal_loss for live inputs: a wall-clock watchdog thread (SignalWatchdog)
// that raises the defect when no decoded media has arrived for
// input.signal_loss_timeout_s, and ends it on the next decoded frame or block.
// It is produced by the core, not by a frame detector, but flows through the
// same EventEngine as a pseudo-detector "signal_loss" whose incidents
// suppress every other type: the gap is not also a freeze or a silence.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "input/source.hpp"
#include "input/watchdog.hpp"
#include "pipeline/dispatcher.hpp"

namespace avmon {

class SignalLossWatch {
 public:
  static constexpr const char* kDetector = "signal_loss";

  // Registers the pseudo-detector with the engine: no minimum duration and
  // no hold-off (the timeout is the debounce), suppressing the types of every
  // enabled detector.
  static void declare(EventEngine& engine, const Config& cfg);

  // `grace_s`: the start-up grace begun again when a loss ends (alarms.startup_grace_s).
  SignalLossWatch(const InputConfig& cfg, MediaSource& source, Dispatcher& dispatcher, double grace_s = 0);
  ~SignalLossWatch();
  SignalLossWatch(const SignalLossWatch&) = delete;
  SignalLossWatch& operator=(const SignalLossWatch&) = delete;

  // Starts the watchdog thread (the input is considered silent from now).
  void start();
  // From the source thread, before a decoded frame or block is dispatched:
  // ends a loss at `media_time_s` and resets the detectors' history.
  void on_media(double media_time_s, double duration_s);
  // Stops the thread. Returns the media time at which the stream ends: an
  // outage still open lasts, in media time, as long as it did on the wall clock.
  double stop(double end_media_time_s);
  // Figures for stream.summary.
  nlohmann::json summary() const;

 private:
  void run();
  Liveness liveness() const;
  double now_s() const;
  nlohmann::json details(double now_s) const;
  void observe(double media_time_s, bool active, const nlohmann::json& details);

  const InputConfig& cfg_;
  MediaSource& source_;
  Dispatcher& dispatcher_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  SignalWatchdog watchdog_;
  double last_media_end_s_ = 0;     // media time just past the last frame or block
  double loss_media_s_ = 0;         // where the current loss began
  double loss_since_wall_s_ = 0;    // wall time of the last media before it
  std::uint64_t attempts_at_loss_ = 0;
  std::uint64_t resumes_at_loss_ = 0;
  std::uint64_t losses_ = 0;
  double grace_s_ = 0;
};

}  // namespace avmon
