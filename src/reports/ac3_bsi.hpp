// The start of an AC-3 or E-AC-3 syncframe (ATSC A/52): its size and the
// bit stream information up to `dialnorm`, the dialogue level the encoder
// declared (what a receiver normalises the programme to). FFmpeg's decoder
// applies nothing of it and exports none of it, so the compressed frames are
// read here.
//
// Both syntaxes put bsid at the same place (bits 40-44 from the syncword),
// which tells them apart: bsid 0-10 is AC-3 (9 and 10: the half- and
// quarter-rate variants), 11-16 E-AC-3. Plain bytes in, no dependencies, every
// read bounds-checked: the input is whatever the stream carried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace avmon::reports {

struct Ac3Frame {
  bool eac3 = false;
  int bsid = 0;
  int stream_type = 0;      // E-AC-3 strmtyp: 0 independent, 1 dependent, 2 AC-3-converted independent
  int substream_id = 0;     // E-AC-3 substreamid (0-7)
  std::size_t frame_bytes = 0;
  int sample_rate_hz = 0;
  int blocks = 6;           // audio blocks of 256 samples in the frame
  int acmod = 0;            // audio coding mode (channel layout): 0 is 1+1 dual mono
  bool lfe = false;
  // The declared dialogue level, -1 to -31 dB (dB below full scale, i.e.
  // LKFS); the reserved code 0 is read as -31, as decoders do.
  int dialnorm_db = -31;
  // acmod 0 (dual mono) has a second programme with its own level.
  std::optional<int> dialnorm2_db;
};

enum class Ac3Error { None, TooShort, NoSync, BadBsid, ReservedRate, BadFrameSize, Truncated, Crc };
const char* ac3_error_name(Ac3Error e);

struct Ac3Parse {
  std::optional<Ac3Frame> frame;  // set when error is None
  Ac3Error error = Ac3Error::None;
};

// One syncframe at `data` (size: the bytes available from there). The whole
// frame must be present and its CRC (over everything after the syncword)
// hold: a damaged frame's dialnorm is not believed.
Ac3Parse parse_ac3_frame(const std::uint8_t* data, std::size_t size);

// The programme's dialnorm in a packet of one or more syncframes (an
// E-AC-3 packet may carry dependent substreams after the independent one):
// that of the first intact independent frame of substream 0; none when no
// frame of the packet could be read.
std::optional<int> packet_dialnorm_db(const std::uint8_t* data, std::size_t size);

}  // namespace avmon::reports
