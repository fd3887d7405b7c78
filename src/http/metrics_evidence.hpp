// /metrics for evidence clips: see metrics_evidence.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

namespace avmon {

// `evidence`: the recorder's figures (PipelineTelemetry::evidence, as
// stream.summary's `evidence`); null (evidence.dir unset): nothing.
void add_evidence_metrics(prometheus::Registry& reg, const nlohmann::json& evidence, const prometheus::Labels& stream);

}  // namespace avmon
