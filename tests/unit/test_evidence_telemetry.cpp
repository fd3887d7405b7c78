// Evidence clips on the HTTP surface: the recorder's figures (as in
// stream.summary) as avmon_evidence_* metrics and as /status's evidence
// block; neither when evidence.dir is unset.
#include <gtest/gtest.h>

#include "app/telemetry.hpp"
#include "http/server.hpp"

namespace avmon {
namespace {

TelemetrySnapshot snapshot_with_evidence() {
  TelemetrySnapshot s;
  s.stream = "studio";
  s.pipeline.evidence = {{"dir", "/var/lib/avmon/evidence"}, {"clips_written", 3},     {"clips_failed", 1},
                         {"clips_dropped", 2},                {"thumbnails_written", 5}, {"thumbnails_failed", 1},
                         {"bytes_written", 7340032},          {"files_deleted", 4},      {"buffer_peak_bytes", 22000000},
                         {"last_error", "cannot write /var/lib/avmon/evidence/x.ts: No space left on device"}};
  return s;
}

TEST(EvidenceTelemetry, MetricsCountClipsThumbnailsAndBytes) {
  const std::string m = render_metrics(snapshot_with_evidence());
  for (const char* line : {"avmon_evidence_clips_written_total{stream=\"studio\"} 3",
                           "avmon_evidence_clips_failed_total{stream=\"studio\"} 1",
                           "avmon_evidence_clips_dropped_total{stream=\"studio\"} 2",
                           "avmon_evidence_thumbnails_written_total{stream=\"studio\"} 5",
                           "avmon_evidence_thumbnails_failed_total{stream=\"studio\"} 1",
                           "avmon_evidence_bytes_written_total{stream=\"studio\"} 7340032",
                           "avmon_evidence_files_deleted_total{stream=\"studio\"} 4",
                           "avmon_evidence_buffer_peak_bytes{stream=\"studio\"} 22000000",
                           "# TYPE avmon_evidence_clips_written_total counter",
                           "# TYPE avmon_evidence_buffer_peak_bytes gauge"})
    EXPECT_NE(m.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << m;
}

TEST(EvidenceTelemetry, StatusCarriesTheRecordersFigures) {
  const nlohmann::json j = render_status(snapshot_with_evidence());
  ASSERT_TRUE(j.contains("evidence"));
  EXPECT_EQ(j["evidence"]["clips_written"], 3);
  EXPECT_EQ(j["evidence"]["clips_failed"], 1);
  EXPECT_EQ(j["evidence"]["bytes_written"], 7340032);
  EXPECT_EQ(j["evidence"]["last_error"], "cannot write /var/lib/avmon/evidence/x.ts: No space left on device");
}

TEST(EvidenceTelemetry, NothingWithoutEvidenceDir) {
  TelemetrySnapshot s;
  s.stream = "studio";
  EXPECT_EQ(render_metrics(s).find("avmon_evidence_"), std::string::npos);
  EXPECT_FALSE(render_status(s).contains("evidence"));
}

}  // namespace
}  // namespace avmon
