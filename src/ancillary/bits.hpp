// Big-endian bit reading and writing for MPEG/SCTE syntax (fields of 1 to 64
// bits, most significant first). The reader never reads past its end: a
// read beyond it returns 0 and marks the reader as overrun, so a parser checks
// once, after a whole structure, instead of before every field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace avmon::ancillary {

class BitReader {
 public:
  BitReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint64_t bits(unsigned n) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      if (pos_ >= size_ * 8) {
        overrun_ = true;
        pos_ += n - i;
        return 0;
      }
      v = (v << 1) | ((data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u);
      ++pos_;
    }
    return v;
  }
  bool flag() { return bits(1) != 0; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bits(8)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(bits(16)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(bits(32)); }
  void skip(unsigned n) { bits(n); }
  // Copies `n` whole bytes (the reader must be byte-aligned).
  std::vector<std::uint8_t> bytes(std::size_t n) {
    std::vector<std::uint8_t> out;
    if (n > remaining_bytes()) {
      overrun_ = true;
      pos_ = size_ * 8;
      return out;
    }
    out.assign(data_ + pos_ / 8, data_ + pos_ / 8 + n);
    pos_ += n * 8;
    return out;
  }

  std::size_t byte_pos() const { return pos_ / 8; }
  std::size_t remaining_bytes() const { return pos_ >= size_ * 8 ? 0 : size_ - (pos_ + 7) / 8; }
  bool overrun() const { return overrun_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;  // in bits
  bool overrun_ = false;
};

class BitWriter {
 public:
  void bits(unsigned n, std::uint64_t v) {
    for (unsigned i = n; i-- > 0;) {
      if (pos_ % 8 == 0) out_.push_back(0);
      if ((v >> i) & 1u) out_.back() |= static_cast<std::uint8_t>(0x80u >> (pos_ % 8));
      ++pos_;
    }
  }
  void flag(bool b) { bits(1, b ? 1 : 0); }
  void u8(std::uint64_t v) { bits(8, v); }
  void u16(std::uint64_t v) { bits(16, v); }
  void u32(std::uint64_t v) { bits(32, v); }
  void bytes(const std::vector<std::uint8_t>& b) {
    for (auto x : b) u8(x);
  }
  std::size_t size() const { return out_.size(); }
  std::vector<std::uint8_t>& data() { return out_; }

 private:
  std::vector<std::uint8_t> out_;
  std::size_t pos_ = 0;
};

}  // namespace avmon::ancillary
