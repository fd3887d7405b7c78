// The AC-3 / E-AC-3 syncframe header parser (dialnorm for the loudness
// log) on arbitrary bytes: a frame or an error, never a read out of bounds.
// What it accepts must be consistent: the frame lies within the bytes
// given, the dialogue level is one the 5-bit field can say, and a packet's
// dialnorm is that of a frame that parses on its own.
#include <cstdint>
#include <cstdlib>

#include "reports/ac3_bsi.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avmon::reports;
  const Ac3Parse p = parse_ac3_frame(data, size);
  if (p.frame) {
    const Ac3Frame& f = *p.frame;
    if (p.error != Ac3Error::None || f.frame_bytes > size || f.frame_bytes < 8 || f.dialnorm_db > -1 ||
        f.dialnorm_db < -31 || f.sample_rate_hz <= 0 || (f.eac3 != (f.bsid > 10)))
      std::abort();
  } else if (p.error == Ac3Error::None) {
    std::abort();
  }
  if (const auto d = packet_dialnorm_db(data, size); d && (*d > -1 || *d < -31)) std::abort();
  return 0;
}
