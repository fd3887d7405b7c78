// Integration-test support: make clips with the ffmpeg CLI, run the real
// avmon binary, read its event lines.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace avmon::test {

struct RunResult {
  int exit_status = -1;       // process exit status; 128+N when killed by signal N
  std::string out, err;       // captured stdout / stderr
};

// Runs `argv` (no shell), feeding nothing on stdin; kills it after timeout_s.
RunResult run_process(const std::vector<std::string>& argv, double timeout_s = 300);

// Runs the ffmpeg CLI quietly with the given arguments (-y and -loglevel error
// are added); fails the calling test when ffmpeg fails.
void ffmpeg(const std::vector<std::string>& args);

// A fresh, empty directory for one test, removed at exit of the process.
std::filesystem::path scratch_dir(const std::string& name);

// Path of the avmon binary under test.
std::string avmon_binary();

// Runs `avmon run --input INPUT --events EVENTS [extra...]`.
RunResult run_avmon(const std::string& input, const std::filesystem::path& events,
                    const std::vector<std::string>& extra = {}, double timeout_s = 300);

// Reads JSON lines; lines that are not JSON objects fail the test.
std::vector<nlohmann::json> read_events(const std::filesystem::path& path);

struct Interval {
  std::string type;
  double start_s, end_s;      // end = +inf when no defect.end
  nlohmann::json start_event;
};
// Pairs defect.start / defect.end by id, in order of start.
std::vector<Interval> defects(const std::vector<nlohmann::json>& events, const std::string& type = "");

// "type[start, end] ..." for failure messages ("none" when empty).
std::string describe(const std::vector<Interval>& v);

}  // namespace avmon::test
