// Display light from coded values, for the flash detector: 8-bit luma codes to
// cd/m² through the transfer the picture declares (SDR gamma 2.4 with a
// configurable peak white, PQ, HLG), and a cell's colour to the saturated-red
// measure of flash guidance.
#pragma once

#include <array>

namespace avmon::video {

enum class Transfer { Sdr, Pq, Hlg };

// Transfer of a picture from its AVColorTransferCharacteristic: PQ for
// SMPTE ST 2084, HLG for ARIB STD-B67, SDR for everything else (unspecified included).
Transfer transfer_of(int av_color_trc);

struct DisplayModel {
  Transfer transfer = Transfer::Sdr;
  bool full_range = false;        // codes 0..255 rather than 16..235 (luma) / 16..240 (chroma)
  double sdr_peak_cd_m2 = 200;    // SDR: display light of reference white
  double hlg_peak_cd_m2 = 1000;   // HLG: nominal peak of the display (system gamma follows BT.2100)
  // Luma/colour-difference weights of the picture's matrix (BT.709 unless told).
  double kr = 0.2126, kb = 0.0722;
  bool operator==(const DisplayModel&) const = default;
};

// Display light of a normalised non-linear signal (0..1) in cd/m².
double display_cd_m2(const DisplayModel& m, double signal);

// cd/m² for a block's mean luma code in quarter steps: index = 4 * code
// (0..1023), so a sum of 32 codes shifted right by 3 indexes it directly.
using LuminanceTable = std::array<float, 1024>;
LuminanceTable luminance_table(const DisplayModel& m);

// Linear light relative to SDR reference white for a normalised non-linear
// signal in 1/1023 steps, for the colour path.
using LinearTable = std::array<float, 1024>;
LinearTable linear_table(const DisplayModel& m);

// Saturated red (flash guidance: a state whose linear R / (R + G + B) is at
// least 0.8) and its amount, (R - G - B) * 320 with R, G, B relative to
// reference white (0 when not saturated red). `y`, `cb`, `cr` are 8-bit codes
// (means over a cell).
float red_level(const DisplayModel& m, const LinearTable& lin, float y, float cb, float cr);

}  // namespace avmon::video
