// DVB teletext subtitles against TSDuck: the subtitle pages of test-012.ts
// (teletext PID 0x042C) are the 9 subtitles of TSDuck's test-012.srt, with
// the same text and the same start times (relative to the first).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ancillary/teletext.hpp"
#include "support/ts_sections.hpp"

namespace avmon {
namespace {

using test::read_srt;

TEST(Teletext, SubtitlesOfTest012MatchTsducksReference) {
  const std::string dir = std::string(AVMON_SOURCE_DIR) + "/tests/data/tsduck/";
  auto reference = read_srt(dir + "test-012.srt");
  ASSERT_EQ(reference.size(), 9u);

  auto pes = test::pes_of_pid(test::read_file_bytes(dir + "test-012.ts"), 0x042C);
  ancillary::TeletextDecoder d;
  for (const auto& p : pes) d.feed(p.payload.data(), p.payload.size(), p.pts);
  d.flush(*pes.back().pts);
  const auto& cues = d.cues();
  ASSERT_EQ(cues.size(), reference.size());
  EXPECT_EQ(d.hamming_errors(), 0u);
  for (size_t i = 0; i < cues.size(); ++i) {
    EXPECT_EQ(cues[i].page, 889);
    EXPECT_EQ(cues[i].rows, reference[i].lines) << "subtitle " << i + 1;
    // Start times relative to the first subtitle, to the millisecond (the
    // two clocks' origins differ: TSDuck counts from elsewhere in the file).
    const double start = (cues[i].show_pts - cues[0].show_pts) / 90000.0;
    EXPECT_NEAR(start, reference[i].start_s - reference[0].start_s, 0.0005) << "subtitle " << i + 1;
    // A subtitle ends at the header that erases it; TSDuck ends it one
    // frame (40 ms) earlier, except the last, which lasts to the end.
    const double duration = (cues[i].hide_pts - cues[i].show_pts) / 90000.0;
    const double frame = i + 1 < cues.size() ? 0.040 : 0.0;
    EXPECT_NEAR(duration, reference[i].end_s - reference[i].start_s + frame, 0.0005) << "subtitle " << i + 1;
  }
}

}  // namespace
}  // namespace avmon
