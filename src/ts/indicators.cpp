#include "ts/indicators.hpp"

namespace avmon::ts {

namespace {
struct Row {
  std::string_view name, number;
  int priority;
};
constexpr std::array<Row, kIndicatorCount> kRows = {{
    {"ts_sync_loss", "1.1", 1},
    {"sync_byte_error", "1.2", 1},
    {"pat_error", "1.3.a", 1},
    {"continuity_count_error", "1.4", 1},
    {"pmt_error", "1.5.a", 1},
    {"pid_error", "1.6", 1},
    {"transport_error", "2.1", 2},
    {"crc_error", "2.2", 2},
    {"pcr_error", "2.3", 2},
    {"pcr_repetition_error", "2.3a", 2},
    {"pcr_discontinuity_indicator_error", "2.3b", 2},
    {"pcr_accuracy_error", "2.4", 2},
    {"pts_error", "2.5", 2},
    {"cat_error", "2.6", 2},
    {"nit_error", "3.1.a", 3},
    {"si_repetition_error", "3.2", 3},
    {"unreferenced_pid", "3.4.a", 3},
    {"sdt_error", "3.5.a", 3},
    {"eit_error", "3.6.a", 3},
    {"rst_error", "3.7", 3},
    {"tdt_error", "3.8", 3},
}};
}  // namespace

std::string_view indicator_name(Indicator i) { return kRows[idx(i)].name; }
std::string_view indicator_number(Indicator i) { return kRows[idx(i)].number; }
int indicator_priority(Indicator i) { return kRows[idx(i)].priority; }

std::optional<Indicator> indicator_from_name(std::string_view name) {
  for (std::size_t k = 0; k < kIndicatorCount; ++k)
    if (kRows[k].name == name) return static_cast<Indicator>(k);
  return std::nullopt;
}

}  // namespace avmon::ts
