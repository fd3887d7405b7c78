// ETSI TR 101 290 (V1.4.1) indicators that avmon checks, by their standard
// names in lower case. Each is a defect type "tr101290.<name>" and a count in
// stream.summary.transport.tr101290.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace avmon::ts {

enum class Indicator : unsigned char {
  // Priority 1: the stream cannot be decoded at all.
  TsSyncLoss, SyncByteError, PatError, ContinuityCountError, PmtError, PidError,
  // Priority 2: continuous monitoring is recommended.
  TransportError, CrcError, PcrError, PcrRepetitionError, PcrDiscontinuityIndicatorError, PcrAccuracyError,
  PtsError, CatError,
  // Priority 3: application-dependent (DVB SI).
  NitError, SiRepetitionError, UnreferencedPid, SdtError, EitError, RstError, TdtError,
  kCount
};
inline constexpr std::size_t kIndicatorCount = static_cast<std::size_t>(Indicator::kCount);

std::string_view indicator_name(Indicator i);  // e.g. "continuity_count_error"
// The standard's number, e.g. "1.4" or "2.3a".
std::string_view indicator_number(Indicator i);
int indicator_priority(Indicator i);  // 1, 2 or 3
std::optional<Indicator> indicator_from_name(std::string_view name);

template <class T>
using PerIndicator = std::array<T, kIndicatorCount>;
inline constexpr std::size_t idx(Indicator i) { return static_cast<std::size_t>(i); }

}  // namespace avmon::ts
