#include "ts/pes.hpp"

namespace avmon::ts {

namespace {
// Streams without the optional PES header (ISO/IEC 13818-1 table 2-21).
bool has_pes_header(int sid) {
  return !(sid == 0xBC || sid == 0xBE || sid == 0xBF || sid == 0xF0 || sid == 0xF1 || sid == 0xFF || sid == 0xF2 ||
           sid == 0xF8);
}
}  // namespace

void PesAssembler::drop() {
  if (active_) ++dropped_;
  active_ = false;
  buf_.clear();
  expected_ = 0;
}

void PesAssembler::lost() { drop(); }

void PesAssembler::feed(const PacketView& pkt, std::uint64_t index, double clock_s, const Handler& on_pes) {
  const std::uint8_t* p = pkt.payload();
  const std::size_t n = pkt.payload_size();
  if (n == 0) return;
  if (pkt.payload_unit_start()) {
    // The previous PES ends here: complete when unbounded, cut short when
    // its length said more.
    if (active_ && expected_ == 0) deliver(on_pes);
    else drop();
    active_ = true;
    first_packet_ = index;
    clock_s_ = clock_s;
  } else if (!active_) {
    return;  // the middle of a PES whose start was not seen
  }
  if (buf_.size() + n > kMaxSize) {
    drop();
    return;
  }
  buf_.insert(buf_.end(), p, p + n);
  if (expected_ == 0 && buf_.size() >= 6) {
    if (buf_[0] != 0 || buf_[1] != 0 || buf_[2] != 1) {
      drop();  // not a PES
      return;
    }
    const std::size_t length = static_cast<std::size_t>(buf_[4] << 8 | buf_[5]);
    if (length) expected_ = 6 + length;
  }
  if (expected_ && buf_.size() >= expected_) {
    buf_.resize(expected_);  // stuffing after the PES
    deliver(on_pes);
  }
}

void PesAssembler::finish(const Handler& on_pes) {
  if (active_ && expected_ == 0) deliver(on_pes);
  else drop();
}

void PesAssembler::deliver(const Handler& on_pes) {
  Pes pes;
  pes.pid = pid_;
  pes.first_packet = first_packet_;
  pes.clock_s = clock_s_;
  const std::size_t n = buf_.size();
  const std::uint8_t* b = buf_.data();
  std::size_t data_at = 6;
  if (n >= 6 && b[0] == 0 && b[1] == 0 && b[2] == 1) {
    pes.stream_id = b[3];
    if (has_pes_header(pes.stream_id)) {
      if (n < 9 || (b[6] & 0xC0) != 0x80 || 9u + b[8] > n) {
        drop();  // a header that does not fit: malformed
        return;
      }
      data_at = 9u + b[8];
      pes.pts = pes_pts(b, n);
      if ((b[7] >> 6) == 3) pes.dts = pes_dts(b, n);
    }
  } else {
    drop();
    return;
  }
  pes.packet = b;
  pes.packet_size = n;
  pes.data = b + data_at;
  pes.data_size = n - data_at;
  ++delivered_;
  on_pes(pes);
  active_ = false;
  buf_.clear();
  expected_ = 0;
}

}  // namespace avmon::ts
