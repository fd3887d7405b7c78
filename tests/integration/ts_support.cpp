#include "integration/ts_support.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace avmon::test {

std::string ts_impair_binary() {
#ifdef AVMON_TS_IMPAIR
  return AVMON_TS_IMPAIR;
#else
  return "avmon_ts_impair";
#endif
}

void ts_impair(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ts_impair_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run_process(argv, 120);
  ASSERT_EQ(r.exit_status, 0) << r.err;
}

const std::filesystem::path& cbr_clip() {
  static const std::filesystem::path path = [] {
    auto p = scratch_dir("ts-cbr") / "cbr.ts";
    ffmpeg({"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000", "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
            "-bf", "0", "-c:a", "aac", "-b:a", "96k", "-f", "mpegts", "-muxrate", "2000000", "-pcr_period", "40",
            "-pat_period", "0.1", "-sdt_period", "0.5", p.string()});
    return p;
  }();
  return path;
}

nlohmann::json summary_of(const std::vector<nlohmann::json>& events) {
  for (const auto& e : events)
    if (e.value("kind", "") == "stream.summary") return e;
  ADD_FAILURE() << "no stream.summary";
  return nlohmann::json::object();
}

std::map<std::string, long> nonzero_counts(const nlohmann::json& summary) {
  std::map<std::string, long> out;
  if (!summary.contains("transport")) return out;
  for (const auto& [name, n] : summary["transport"]["tr101290"].items())
    if (n.get<long>() != 0) out[name] = n.get<long>();
  return out;
}

std::map<std::string, long> expected_counts(const std::filesystem::path& expect_json) {
  std::ifstream f(expect_json);
  nlohmann::json j = nlohmann::json::parse(f);
  std::map<std::string, long> out;
  for (const auto& [name, n] : j["tr101290"].items())
    if (n.get<long>() != 0) out[name] = n.get<long>();
  return out;
}

}  // namespace avmon::test
