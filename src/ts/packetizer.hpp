// Bytes as they are read (any chunking) to aligned 188-byte packets, with
// the TR 101 290 sync hysteresis: sync is acquired after five consecutive
// sync bytes at a packet stride (188, 204 with Reed-Solomon bytes, or 192 for
// M2TS time-stamped packets) and lost after two consecutive corrupted ones.
// Packets inside one read are handed over in place; only a packet split
// across two reads, or bytes searched for sync, are copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace avmon::ts {

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void on_packet(const std::uint8_t* packet) = 0;
  virtual void on_sync_byte_error() = 0;  // in sync, a packet without 0x47
  virtual void on_sync_lost() = 0;        // second corrupted sync byte in a row
  virtual void on_sync_acquired() = 0;    // five good ones (first time or again)
};

class Packetizer {
 public:
  void feed(const std::uint8_t* data, std::size_t n, PacketSink& sink);
  // End of input: an input too short to prove sync (fewer than five
  // packets, nothing else) is accepted when every packet starts with 0x47.
  void flush(PacketSink& sink);
  // A new session: forget any partial packet and search for sync again.
  void reset();

  bool in_sync() const { return in_sync_; }
  std::size_t stride() const { return stride_; }
  std::uint64_t bytes_skipped() const { return skipped_; }
  bool ever_synced() const { return ever_synced_; }

 private:
  void search(PacketSink& sink);
  // In sync: packets from data; returns the bytes used (all of them unless
  // sync was lost, then up to the end of the unit that lost it).
  std::size_t consume(const std::uint8_t* data, std::size_t n, PacketSink& sink);
  // In sync: one unit starting at p (at least 188 bytes available).
  void unit(const std::uint8_t* p, PacketSink& sink);

  bool in_sync_ = false;
  bool ever_synced_ = false;
  std::size_t stride_ = 188;
  int bad_run_ = 0;
  std::size_t trailer_skip_ = 0;     // bytes after a packet before the next sync (204/192)
  std::vector<std::uint8_t> carry_;  // in sync: a partial packet; searching: bytes to search
  std::uint64_t skipped_ = 0;
};

}  // namespace avmon::ts
