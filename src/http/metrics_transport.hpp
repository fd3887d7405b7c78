// /metrics for the transport layer: see metrics_transport.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

namespace avmon {

// `transport`: the transport layer's snapshot (PipelineTelemetry::transport); null: nothing.
void add_transport_metrics(prometheus::Registry& reg, const nlohmann::json& transport,
                           const prometheus::Labels& stream);

}  // namespace avmon
