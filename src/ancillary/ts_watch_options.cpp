#include "ancillary/ts_watch_options.hpp"

#include <cctype>

namespace avmon::ancillary {

const std::vector<OptionSpec>& scte35_options() {
  static const std::vector<OptionSpec> specs = {
      {"enabled", OptionType::Bool, true, {}, {}, "",
       "watch SCTE-35 cues on MPEG-TS inputs (PIDs from the PMT: stream_type 0x86 or registration CUEI, or "
       "input.scte35_pid)",
       {}},
      {"min_preroll_s", OptionType::Double, 4.0, 0.0, 3600.0, "s",
       "a new splice announced less ahead of the video than this is scte35.short_preroll", {}},
      {"return_tolerance_s", OptionType::Double, 2.0, 0.0, 3600.0, "s",
       "a break may overrun its break_duration by this much before scte35.missing_return", {}},
      {"rap_tolerance_s", OptionType::Double, 0.02, 0.0, 10.0, "s",
       "a random-access picture this close to the splice time is on it (else scte35.splice_not_on_rap)", {}},
  };
  return specs;
}

const std::vector<OptionSpec>& subtitles_options() {
  static const std::vector<OptionSpec> specs = {
      {"enabled", OptionType::Bool, true, {}, {}, "",
       "watch the selected service's DVB teletext and DVB subtitle PIDs on MPEG-TS inputs (PES activity, PTS "
       "progress, teletext subtitles shown)",
       {}},
      {"pids", OptionType::StringList, std::vector<std::string>{}, {}, {}, "",
       "subtitle PIDs that must carry subtitles (decimal or 0x hexadecimal): caption_loss when one has no PES "
       "with a progressing PTS for min_duration_s",
       {}},
      {"min_duration_s", OptionType::Double, 30.0, 0.1, 86400.0, "s",
       "a configured PID silent this long is caption_loss (from its last PES)", {}},
      {"cue_events", OptionType::Bool, false, {}, {}, "",
       "one subtitles.cue info line per teletext subtitle shown (page, times, text)", {}},
  };
  return specs;
}

std::optional<std::uint16_t> parse_pid(const std::string& text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  unsigned long v = 0;
  for (std::size_t i = hex ? 2 : 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (hex ? !std::isxdigit(c) : !std::isdigit(c)) return std::nullopt;
    v = v * (hex ? 16 : 10) + static_cast<unsigned long>(std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
  }
  if (v > 0x1FFE) return std::nullopt;  // 0x1FFF is the null packets' PID
  return static_cast<std::uint16_t>(v);
}

std::optional<std::string> pid_list_error(const std::vector<std::string>& pids) {
  for (const auto& p : pids)
    if (!parse_pid(p)) return "'" + p + "' is not a PID (0 to 8190, decimal or 0x hexadecimal)";
  return std::nullopt;
}

}  // namespace avmon::ancillary
