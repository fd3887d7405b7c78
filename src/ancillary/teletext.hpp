// DVB teletext (EN 300 472 / ETS 300 706) subtitle activity: from the PES
// packets of a teletext PID, the subtitle pages that were shown with text,
// each from the page header that began it to the header that replaced or
// erased it (as a teletext decoder displays them). Only what presence
// monitoring needs is decoded: packet addresses, page headers and whether
// rows carry visible characters; characters are kept as 7-bit text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace avmon::ancillary {

struct TeletextCue {
  int page = 0;                   // e.g. 888 (magazine 8, page 0x88 read as decimal digits)
  std::int64_t show_pts = 0;      // 90 kHz, as carried (33 bits)
  std::int64_t hide_pts = 0;
  std::vector<std::string> rows;  // the rows with visible characters, trimmed, in UTF-8
};

class TeletextDecoder {
 public:
  // One PES packet's payload (after the PES header: data_identifier first)
  // and its PTS.
  void feed(const std::uint8_t* payload, std::size_t size, std::optional<std::int64_t> pts);
  // End of input: a page still shown ends at `pts`.
  void flush(std::int64_t pts);

  const std::vector<TeletextCue>& cues() const { return cues_; }
  std::uint64_t packets() const { return packets_; }            // teletext packets (lines) seen
  std::uint64_t hamming_errors() const { return hamming_errors_; }
  std::uint64_t subtitle_headers() const { return headers_; }   // page headers of subtitle pages

 private:
  void line(const std::uint8_t* d, std::int64_t pts);  // 42 bytes: address + data, bit order fixed
  void end_page(int page, std::int64_t pts);

  struct Shown {
    bool subtitle = false;
    int national = 0;                 // national option subset (C12-C14)
    std::int64_t since = 0;
    std::map<int, std::string> rows;  // row number -> visible text
  };
  std::map<int, Shown> pages_;        // by page number (e.g. 888)
  std::map<int, int> sending_;        // by magazine: the page being transmitted (-1 none)
  std::vector<TeletextCue> cues_;
  std::int64_t last_pts_ = 0;
  std::uint64_t packets_ = 0, hamming_errors_ = 0, headers_ = 0;
};

}  // namespace avmon::ancillary
