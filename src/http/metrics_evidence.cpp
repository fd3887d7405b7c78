// /metrics for evidence clips (evidence.dir): what was written, what failed
// and what the writer had to drop, so that an alert can say that alarms are
// losing their clips (a full disk, a directory that cannot be written)
// before anyone needs one. The same figures as stream.summary's `evidence`.
#include "http/metrics_evidence.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

namespace avmon {

void add_evidence_metrics(prometheus::Registry& reg, const nlohmann::json& e, const prometheus::Labels& stream) {
  using namespace prometheus;
  if (!e.is_object()) return;
  auto value = [&](const char* key) {
    const auto it = e.find(key);
    return it != e.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  static const struct {
    const char* key;
    const char* name;
    const char* help;
  } kCounters[] = {
      {"clips_written", "avmon_evidence_clips_written_total", "evidence clips written whole"},
      {"clips_failed", "avmon_evidence_clips_failed_total", "evidence clips that could not be written (see the log)"},
      {"clips_dropped", "avmon_evidence_clips_dropped_total", "evidence clips not written: the writer was behind"},
      {"thumbnails_written", "avmon_evidence_thumbnails_written_total", "raise and clear thumbnails written"},
      {"thumbnails_failed", "avmon_evidence_thumbnails_failed_total", "thumbnails that could not be written"},
      {"bytes_written", "avmon_evidence_bytes_written_total", "bytes of clips and thumbnails written"},
      {"files_deleted", "avmon_evidence_files_deleted_total", "files deleted to keep evidence.max_clips and max_bytes"},
  };
  for (const auto& c : kCounters)
    BuildCounter().Name(c.name).Help(c.help).Register(reg).Add(stream).Increment(value(c.key));
  BuildGauge().Name("avmon_evidence_buffer_peak_bytes")
      .Help("most bytes the rolling buffer of the compressed input has held").Register(reg).Add(stream)
      .Set(value("buffer_peak_bytes"));
}

}  // namespace avmon
