// Reconnect pacing: exponential backoff with jitter. Doubling spaces attempts
// out while an input stays down; jitter keeps a fleet of monitors that lost
// the same source from reconnecting in lockstep.
#pragma once

#include <cstdint>
#include <random>

namespace avmon {

class Backoff {
 public:
  Backoff(double initial_delay_s, double max_delay_s, std::uint64_t seed = std::random_device{}())
      : initial_s_(initial_delay_s), max_s_(max_delay_s < initial_delay_s ? initial_delay_s : max_delay_s),
        rng_(seed) {}

  // Delay before the next attempt: initial * 2^failures capped at the
  // maximum, then drawn uniformly from its upper half, so it never falls
  // below half the nominal delay nor exceeds the maximum.
  double next_delay_s() {
    double nominal = initial_s_;
    for (int i = 0; i < failures_ && nominal < max_s_; ++i) nominal *= 2;
    if (nominal > max_s_) nominal = max_s_;
    ++failures_;
    return std::uniform_real_distribution<double>(nominal / 2, nominal)(rng_);
  }
  // The input worked again: the next outage starts from the initial delay.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  double initial_s_, max_s_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace avmon
