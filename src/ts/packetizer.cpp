#include "ts/packetizer.hpp"

#include <algorithm>

#include "ts/packet.hpp"

namespace avmon::ts {

namespace {
constexpr int kGoodToAcquire = 5;
constexpr int kBadToLose = 2;
constexpr std::size_t kStrides[] = {188, 204, 192};
constexpr std::size_t kSearchLimit = 64 * 1024;
}  // namespace

void Packetizer::reset() {
  in_sync_ = false;
  bad_run_ = 0;
  trailer_skip_ = 0;
  carry_.clear();
}

void Packetizer::unit(const std::uint8_t* p, PacketSink& sink) {
  trailer_skip_ = stride_ - kPacketSize;
  if (p[0] == kSyncByte) {
    bad_run_ = 0;
    sink.on_packet(p);
    return;
  }
  sink.on_sync_byte_error();
  if (++bad_run_ >= kBadToLose) {
    in_sync_ = false;
    sink.on_sync_lost();
  }
}

void Packetizer::feed(const std::uint8_t* data, std::size_t n, PacketSink& sink) {
  std::size_t used = in_sync_ ? consume(data, n, sink) : 0;
  if (used == n) return;
  carry_.insert(carry_.end(), data + used, data + n);
  // Searching: find sync in what is held, replay from there, and search
  // again if it is lost again (a loop, not recursion: garbage may alternate
  // with short runs of packets).
  for (;;) {
    search(sink);
    if (!in_sync_) return;
    std::vector<std::uint8_t> replay;
    replay.swap(carry_);
    std::size_t u = consume(replay.data(), replay.size(), sink);
    if (u == replay.size()) return;
    carry_.assign(replay.begin() + static_cast<std::ptrdiff_t>(u), replay.end());
  }
}

std::size_t Packetizer::consume(const std::uint8_t* data, std::size_t n, PacketSink& sink) {
  std::size_t i = 0;
  while (i < n && in_sync_) {
    if (trailer_skip_ > 0) {
      std::size_t k = std::min(trailer_skip_, n - i);
      trailer_skip_ -= k;
      i += k;
      continue;
    }
    if (!carry_.empty()) {
      std::size_t k = std::min(kPacketSize - carry_.size(), n - i);
      carry_.insert(carry_.end(), data + i, data + i + k);
      i += k;
      if (carry_.size() < kPacketSize) return n;
      std::uint8_t pkt[kPacketSize];
      std::copy(carry_.begin(), carry_.end(), pkt);
      carry_.clear();
      unit(pkt, sink);
      if (!in_sync_) skipped_ += kPacketSize;  // the bad unit is dropped
      continue;
    }
    if (n - i < kPacketSize) {
      carry_.assign(data + i, data + n);
      return n;
    }
    unit(data + i, sink);
    if (!in_sync_) skipped_ += kPacketSize;
    i += kPacketSize;
  }
  return i;
}

void Packetizer::search(PacketSink& sink) {
  const std::size_t n = carry_.size();
  for (std::size_t off = 0; off < n; ++off) {
    if (carry_[off] != kSyncByte) continue;
    for (std::size_t stride : kStrides) {
      if (off + (kGoodToAcquire - 1) * stride >= n) continue;
      bool ok = true;
      for (int k = 1; k < kGoodToAcquire && ok; ++k) ok = carry_[off + k * stride] == kSyncByte;
      if (!ok) continue;
      skipped_ += off;
      carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(off));
      stride_ = stride;
      in_sync_ = true;
      ever_synced_ = true;
      bad_run_ = 0;
      trailer_skip_ = 0;
      sink.on_sync_acquired();
      return;
    }
    // Not enough bytes yet to judge this offset with the longest stride.
    if (off + (kGoodToAcquire - 1) * kStrides[1] >= n) {
      skipped_ += off;
      carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(off));
      return;
    }
  }
  skipped_ += n;
  carry_.clear();
  if (carry_.capacity() > kSearchLimit) carry_.shrink_to_fit();
}

void Packetizer::flush(PacketSink& sink) {
  // Only a whole input of a few packets, nothing skipped: garbage whose tail
  // happens to start with 0x47 is not a packet.
  if (in_sync_ || ever_synced_ || skipped_ > 0 || carry_.size() < kPacketSize || carry_.size() % kPacketSize != 0)
    return;
  // Fewer than five packets left: take them if they all look like packets.
  std::size_t count = carry_.size() / kPacketSize;
  for (std::size_t k = 0; k < count; ++k)
    if (carry_[k * kPacketSize] != kSyncByte) return;
  std::vector<std::uint8_t> tail;
  tail.swap(carry_);
  sink.on_sync_acquired();
  ever_synced_ = true;
  for (std::size_t k = 0; k < count; ++k) sink.on_packet(tail.data() + k * kPacketSize);
}

}  // namespace avmon::ts
