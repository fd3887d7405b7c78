#include "ts/continuity.hpp"

#include <cstring>

namespace avmon::ts {

CcResult ContinuityState::check(const PacketView& pkt) {
  const PacketView last(last_.data());
  const bool first = !seen_;
  const unsigned last_cc = last.cc();
  // A duplicate repeats the counter: only then are the bytes compared.
  const bool dup = !first && pkt.cc() == last_cc && !pkt.discontinuity() && is_duplicate(pkt, last);
  std::memcpy(last_.data(), pkt.data(), kPacketSize);
  seen_ = true;
  if (first) return {};
  if (pkt.discontinuity()) {
    dup_count_ = 0;
    return {};
  }
  if (dup) {
    if (++dup_count_ >= 2) return {CcResult::Duplicate, dup_count_ + 1};
    return {CcResult::Ok, 0, true};
  }
  dup_count_ = 0;
  const unsigned expected = pkt.has_payload() ? (last_cc + 1) & 0x0F : last_cc;
  if (pkt.cc() == expected) return {};
  if (!pkt.has_payload() && pkt.cc() == ((last_cc + 1) & 0x0F)) return {CcResult::IncrementWithoutPayload, 0};
  int missing = static_cast<int>(pkt.cc()) - static_cast<int>(last_cc) - 1;
  if (static_cast<int>(pkt.cc()) <= static_cast<int>(last_cc)) missing += 16;
  return {CcResult::Missing, missing};
}

}  // namespace avmon::ts
