// Support for the transport-stream integration tests: multiplexes made with
// the ffmpeg CLI and damaged with avmon_ts_impair, and what the summary says.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run.hpp"

namespace avmon::test {

// Runs avmon_ts_impair with `args`; fails the calling test when it fails.
void ts_impair(const std::vector<std::string>& args);
std::string ts_impair_binary();

// A 12 s constant-rate (2 Mbit/s) MPEG-TS of one service: H.264 320x240 (1 s
// GOP, no B-frames) + AAC, PAT/PMT every 100 ms, SDT every 500 ms, PCR every
// 40 ms; free of any TR 101 290 error. Made once per process.
const std::filesystem::path& cbr_clip();

// The stream.summary line of `events` (fails the test when there is none).
nlohmann::json summary_of(const std::vector<nlohmann::json>& events);

// Every indicator of stream.summary.transport.tr101290 that is not zero.
std::map<std::string, long> nonzero_counts(const nlohmann::json& summary);
// The same from an expectation file written by avmon_ts_impair.
std::map<std::string, long> expected_counts(const std::filesystem::path& expect_json);

}  // namespace avmon::test
