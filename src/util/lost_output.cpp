#include "util/lost_output.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

namespace avmon {

namespace {

constexpr std::int64_t kLogEveryMs = 10'000;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LostOutput& LostOutput::global() {
  static LostOutput ledger;
  return ledger;
}

void LostOutput::write_failed(const std::string& output, const std::string& error, std::uint64_t events_lost) {
  std::lock_guard lk(mu_);
  Entry& e = outputs_[output];
  ++e.f.write_errors;
  e.f.events_lost += events_lost;
  e.f.last_error = error;
  std::int64_t now = steady_ms();
  // A full disk fails every write: the first is logged at once, the rest
  // summed up every 10 s so that the log does not fill what is left.
  if (e.f.write_errors == 1 || now - e.logged_ms >= kLogEveryMs) {
    std::string more = e.unlogged > 0 ? " (and " + std::to_string(e.unlogged) + " more failed writes)" : "";
    spdlog::error("{}: write failed: {}{}; {} event(s) lost so far", output, error, more, e.f.events_lost);
    e.logged_ms = now;
    e.unlogged = 0;
  } else {
    ++e.unlogged;
  }
}

void LostOutput::events_lost(const std::string& output, std::uint64_t n, const std::string& why) {
  if (n == 0) return;
  std::lock_guard lk(mu_);
  Entry& e = outputs_[output];
  e.f.events_lost += n;
  spdlog::error("{}: {} event(s) lost: {}", output, n, why);
}

std::map<std::string, OutputFailures> LostOutput::snapshot() const {
  std::lock_guard lk(mu_);
  std::map<std::string, OutputFailures> out;
  for (const auto& [name, e] : outputs_) out[name] = e.f;
  return out;
}

std::uint64_t LostOutput::total_events_lost() const {
  std::lock_guard lk(mu_);
  std::uint64_t n = 0;
  for (const auto& [name, e] : outputs_) n += e.f.events_lost;
  return n;
}

std::vector<std::pair<std::string, OutputFailures>> LostOutput::take_new_failures() {
  std::lock_guard lk(mu_);
  std::vector<std::pair<std::string, OutputFailures>> out;
  for (auto& [name, e] : outputs_)
    if (!e.announced && e.f.write_errors > 0) {
      e.announced = true;
      out.emplace_back(name, e.f);
    }
  return out;
}

void LostOutput::reset() {
  std::lock_guard lk(mu_);
  outputs_.clear();
}

}  // namespace avmon
