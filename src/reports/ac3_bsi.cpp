#include "reports/ac3_bsi.hpp"

#include <array>

namespace avmon::reports {

namespace {

constexpr std::size_t kHeaderBytes = 8;  // enough for every field read before dialnorm2

// Bits MSB first from a bounded buffer; a read past the end sets `overrun`
// and gives 0.
class Bits {
 public:
  Bits(const std::uint8_t* data, std::size_t size) : data_(data), size_bits_(size * 8) {}
  unsigned read(int n) {
    unsigned v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= size_bits_) {
        overrun = true;
        return 0;
      }
      v = (v << 1) | ((data_[pos_ / 8] >> (7 - pos_ % 8)) & 1u);
      ++pos_;
    }
    return v;
  }
  void skip(int n) { static_cast<void>(read(n)); }
  bool overrun = false;

 private:
  const std::uint8_t* data_;
  std::size_t size_bits_;
  std::size_t pos_ = 0;
};

// CRC-16 with the generator x^16 + x^15 + x^2 + 1, MSB first, initial 0:
// over a frame after its syncword it is 0 when the frame is intact (its
// crc2 word is chosen so).
std::uint16_t crc16(const std::uint8_t* data, std::size_t size) {
  static const std::array<std::uint16_t, 256> table = [] {
    std::array<std::uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
      unsigned c = i << 8;
      for (int k = 0; k < 8; ++k) c = (c & 0x8000u) ? ((c << 1) ^ 0x8005u) : (c << 1);
      t[i] = static_cast<std::uint16_t>(c & 0xFFFFu);
    }
    return t;
  }();
  unsigned crc = 0;
  for (std::size_t i = 0; i < size; ++i) crc = ((crc << 8) ^ table[((crc >> 8) ^ data[i]) & 0xFFu]) & 0xFFFFu;
  return static_cast<std::uint16_t>(crc);
}

constexpr int kRatesHz[3] = {48000, 44100, 32000};
// AC-3 bit rates (kbit/s) by frmsizecod / 2.
constexpr int kAc3RatesKbps[19] = {32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640};

int dialnorm_of(unsigned code) { return code == 0 ? -31 : -static_cast<int>(code); }

Ac3Parse fail(Ac3Error e) {
  Ac3Parse p;
  p.error = e;
  return p;
}

// AC-3 frame size in bytes (A/52 table 5.18): 1536 samples at the bit rate,
// in 16-bit words; 44.1 kHz frames alternate with one padding word (odd frmsizecod).
std::size_t ac3_frame_bytes(unsigned fscod, unsigned frmsizecod) {
  const long long kbps = kAc3RatesKbps[frmsizecod / 2];
  long long words = 0;
  if (fscod == 0) words = kbps * 2;
  else if (fscod == 2) words = kbps * 3;
  else words = kbps * 1000 * 1536 / (44100 * 16) + (frmsizecod & 1u);
  return static_cast<std::size_t>(words * 2);
}

}  // namespace

const char* ac3_error_name(Ac3Error e) {
  switch (e) {
    case Ac3Error::None: return "none";
    case Ac3Error::TooShort: return "shorter than a syncframe header";
    case Ac3Error::NoSync: return "no syncword";
    case Ac3Error::BadBsid: return "bsid neither AC-3 nor E-AC-3";
    case Ac3Error::ReservedRate: return "reserved sample rate or frame size code";
    case Ac3Error::BadFrameSize: return "frame smaller than its header";
    case Ac3Error::Truncated: return "frame longer than the bytes available";
    case Ac3Error::Crc: return "CRC mismatch";
  }
  return "?";
}

Ac3Parse parse_ac3_frame(const std::uint8_t* data, std::size_t size) {
  if (!data || size < kHeaderBytes) return fail(Ac3Error::TooShort);
  if (data[0] != 0x0B || data[1] != 0x77) return fail(Ac3Error::NoSync);
  const unsigned bsid = (data[5] >> 3) & 0x1Fu;
  if (bsid > 16) return fail(Ac3Error::BadBsid);
  Ac3Frame f;
  f.bsid = static_cast<int>(bsid);
  f.eac3 = bsid > 10;
  Bits b(data, size);
  b.skip(16);  // syncword
  if (!f.eac3) {
    b.skip(16);  // crc1
    const unsigned fscod = b.read(2), frmsizecod = b.read(6);
    if (fscod == 3 || frmsizecod >= 38) return fail(Ac3Error::ReservedRate);
    f.frame_bytes = ac3_frame_bytes(fscod, frmsizecod);
    // bsid 9 and 10: the same frames at half and a quarter of the rate.
    f.sample_rate_hz = kRatesHz[fscod] >> (bsid > 8 ? bsid - 8 : 0);
    b.skip(5);  // bsid
    b.skip(3);  // bsmod
    f.acmod = static_cast<int>(b.read(3));
    if ((f.acmod & 1) && f.acmod != 1) b.skip(2);  // cmixlev: three front channels
    if (f.acmod & 4) b.skip(2);                    // surmixlev: surround channels
    if (f.acmod == 2) b.skip(2);                   // dsurmod: stereo
    f.lfe = b.read(1) != 0;
    f.dialnorm_db = dialnorm_of(b.read(5));
    if (f.acmod == 0) {
      if (b.read(1)) b.skip(8);  // compre, compr
      if (b.read(1)) b.skip(8);  // langcode, langcod
      if (b.read(1)) b.skip(7);  // audprodie, mixlevel, roomtyp
      f.dialnorm2_db = dialnorm_of(b.read(5));
    }
  } else {
    f.stream_type = static_cast<int>(b.read(2));
    f.substream_id = static_cast<int>(b.read(3));
    f.frame_bytes = (static_cast<std::size_t>(b.read(11)) + 1) * 2;
    const unsigned fscod = b.read(2);
    if (fscod == 3) {
      const unsigned fscod2 = b.read(2);
      if (fscod2 == 3) return fail(Ac3Error::ReservedRate);
      f.sample_rate_hz = kRatesHz[fscod2] / 2;
      f.blocks = 6;
    } else {
      f.sample_rate_hz = kRatesHz[fscod];
      static constexpr int kBlocks[4] = {1, 2, 3, 6};
      f.blocks = kBlocks[b.read(2)];
    }
    if (f.stream_type == 3) return fail(Ac3Error::BadBsid);  // strmtyp 3 is reserved
    f.acmod = static_cast<int>(b.read(3));
    f.lfe = b.read(1) != 0;
    b.skip(5);  // bsid
    f.dialnorm_db = dialnorm_of(b.read(5));
    if (f.acmod == 0) {
      if (b.read(1)) b.skip(8);  // compre, compr
      f.dialnorm2_db = dialnorm_of(b.read(5));
    }
  }
  if (b.overrun) return fail(Ac3Error::TooShort);
  if (f.frame_bytes < kHeaderBytes) return fail(Ac3Error::BadFrameSize);
  if (f.frame_bytes > size) return fail(Ac3Error::Truncated);
  if (crc16(data + 2, f.frame_bytes - 2) != 0) return fail(Ac3Error::Crc);
  Ac3Parse p;
  p.frame = f;
  return p;
}

std::optional<int> packet_dialnorm_db(const std::uint8_t* data, std::size_t size) {
  if (!data) return std::nullopt;
  std::size_t pos = 0;
  while (pos + 1 < size) {
    if (data[pos] != 0x0B || data[pos + 1] != 0x77) {
      ++pos;  // not at a syncword: look for the next one
      continue;
    }
    const Ac3Parse p = parse_ac3_frame(data + pos, size - pos);
    if (!p.frame) {
      ++pos;
      continue;
    }
    // Dependent substreams (strmtyp 1) carry the extra channels of the
    // independent frame before them; other independent substreams are other
    // programmes. The programme is independent substream 0.
    if (p.frame->stream_type != 1 && p.frame->substream_id == 0) return p.frame->dialnorm_db;
    pos += p.frame->frame_bytes;
  }
  return std::nullopt;
}

}  // namespace avmon::reports
