// /api/v1/reports/...: the running monitor's loudness log and availability
// tables (docs/reports.md lists the paths and what each answers).
#pragma once

#include <string_view>

#include "http/routes.hpp"

namespace avmon {

// `path` starts with /api/v1/reports/; `query` is what follows '?' (may be empty).
HttpAnswer reports_route(std::string_view path, std::string_view query);

}  // namespace avmon
