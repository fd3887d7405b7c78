// The configuration reference of docs/configuration.md, generated from the
// same option tables that validate the YAML (`avmon check-config
// --print-reference`; a test keeps the document in step).
#pragma once

#include <string>

#include "pipeline/registry.hpp"

namespace avmon {

// Markdown: one table per section and per detector, every key with its
// environment variable, type, default, range or values, unit and meaning.
std::string configuration_reference(const DetectorRegistry& registry);

}  // namespace avmon
