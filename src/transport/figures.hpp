// The transport layer's figures as JSON: stream.summary's "transport" and the
// live snapshot behind /status, /metrics and the status page.
#pragma once

#include <nlohmann/json.hpp>

#include "transport/access.hpp"
#include "ts/analyzer.hpp"

namespace avmon {

// Null when the input never synchronised as MPEG-TS.
nlohmann::json transport_summary(const ts::Analyzer& a, const RtpFigures* rtp);
// The same figures, PIDs capped for a page that refreshes every second.
nlohmann::json transport_status(const ts::Analyzer& a, const RtpFigures* rtp);
// The selected service: number, name, PIDs and codecs (null before one is chosen).
nlohmann::json service_json(const ts::Analyzer& a);

}  // namespace avmon
