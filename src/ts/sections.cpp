#include "ts/sections.hpp"

#include <algorithm>

#include "ts/crc32.hpp"

namespace avmon::ts {

namespace {
constexpr std::size_t kMaxSection = 4096;  // 3 + 4093, the private-section maximum
}

bool section_has_crc(const std::uint8_t* s) { return (s[1] & 0x80) || s[0] == 0x73 || s[0] == 0xFC; }

void SectionAssembler::deliver(const std::uint8_t* p, std::size_t n, const Handler& on_section) {
  Section s;
  s.pid = pid_;
  s.data = p;
  s.size = n;
  if (section_has_crc(p)) s.crc = n >= 7 && crc32_mpeg(p, n) == 0 ? CrcStatus::Ok : CrcStatus::Bad;
  on_section(s);
}

std::size_t SectionAssembler::start_sections(const std::uint8_t* p, std::size_t n, const Handler& on_section) {
  std::size_t used = 0;
  while (used < n) {
    const std::uint8_t* s = p + used;
    std::size_t left = n - used;
    if (s[0] == 0xFF) return n;  // stuffing to the end of the packet
    if (left < 3) {
      buf_.assign(s, s + left);  // the length is in the next packet
      need_ = 0;
      return n;
    }
    std::size_t size = 3 + (((s[1] & 0x0F) << 8) | s[2]);
    if (size > kMaxSection) {
      ++malformed_;
      return n;
    }
    if (size <= left) {
      deliver(s, size, on_section);
      used += size;
      continue;
    }
    buf_.assign(s, s + left);
    need_ = size;
    return n;
  }
  return used;
}

void SectionAssembler::feed(const PacketView& pkt, const Handler& on_section) {
  const std::uint8_t* p = pkt.payload();
  std::size_t n = pkt.payload_size();
  if (n == 0) return;
  if (pkt.payload_unit_start()) {
    std::size_t pointer = p[0];
    ++p;
    --n;
    if (pointer > n) {
      ++malformed_;
      reset();
      return;
    }
    // The pointer_field's bytes end the section in progress, if any.
    if (!buf_.empty()) {
      buf_.insert(buf_.end(), p, p + pointer);
      if (need_ == 0 && buf_.size() >= 3) need_ = 3 + (((buf_[1] & 0x0F) << 8) | buf_[2]);
      if (need_ > 0 && buf_.size() >= need_) deliver(buf_.data(), need_, on_section);
      else if (pointer > 0) ++malformed_;  // the section ended short
    }
    reset();
    start_sections(p + pointer, n - pointer, on_section);
    return;
  }
  if (buf_.empty()) return;  // middle of a section whose start we did not see
  if (need_ == 0) {
    std::size_t take = std::min<std::size_t>(3 - buf_.size(), n);
    buf_.insert(buf_.end(), p, p + take);
    p += take;
    n -= take;
    if (buf_.size() < 3) return;
    need_ = 3 + (((buf_[1] & 0x0F) << 8) | buf_[2]);
    if (need_ > kMaxSection) {
      ++malformed_;
      reset();
      return;
    }
  }
  std::size_t take = std::min(need_ - buf_.size(), n);
  buf_.insert(buf_.end(), p, p + take);
  if (buf_.size() < need_) return;
  deliver(buf_.data(), need_, on_section);
  // A new section may start in this packet only after a pointer_field
  // (payload_unit_start); without one the rest of it is stuffing.
  reset();
}

}  // namespace avmon::ts
