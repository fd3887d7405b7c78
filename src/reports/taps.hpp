// What the loudness log learns besides the decoded audio: the dialnorm of
// AC-3 / E-AC-3 frames (from the compressed packets, before decoding) and
// the splice points of SCTE-35 cues (from the cue monitor's scte35.cue
// lines, as the transport layer emits them). Both come on the demuxing
// thread, the one that also feeds the log its audio.
#pragma once

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "input/source.hpp"
#include "reports/loudness_segments.hpp"

namespace avmon::reports {

// The loudness log's options from the reports: section (and the preset).
SegmenterOptions segmenter_options(const Config& cfg, bool live);
// reports.segment_on names scte35: the log wants the cue lines.
bool segments_on_splices();

// A packet of the programme's audio: its dialnorm when it is AC-3 or
// E-AC-3 (an unreadable frame leaves the last value), none for any other codec.
void feed_dialnorm(const InputPacket& p, LoudnessSegmenter& log);
// An event line of the transport layer: a scte35.cue whose break goes out,
// returns (explicitly, or implied by break_duration with auto_return) or is
// cancelled becomes a splice of the log. Other lines are ignored.
void feed_cue(const nlohmann::json& line, LoudnessSegmenter& log);

}  // namespace avmon::reports
