// Whether a video PES packet starts a random-access picture, from the first
// bytes of its payload (what a packet tap sees of a PES start): an MPEG-2
// sequence header or I picture, an H.264 IDR slice or sequence parameter set,
// an HEVC IRAP picture or parameter set. Encoders put the parameter sets in
// front of every random-access picture, so seeing one in the first packet
// is the usual sign; a picture whose first slice starts beyond the bytes
// given and carries no parameter set in them is not recognised.
#pragma once

#include <cstddef>
#include <cstdint>

namespace avmon::ancillary {

enum class VideoCodec { Mpeg2, H264, Hevc, Other };

// `payload`: the PES packet's bytes after its header.
bool starts_random_access(VideoCodec codec, const std::uint8_t* payload, std::size_t size);

// The codec of an MPEG-TS stream_type (0x02 MPEG-2, 0x1B H.264, 0x24 HEVC).
VideoCodec codec_of_stream_type(unsigned stream_type);

}  // namespace avmon::ancillary
