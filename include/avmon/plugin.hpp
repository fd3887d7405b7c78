// Out-of-tree detectors: a shared object that exports `avmon_plugin_entry`,
// made with AVMON_PLUGIN. The host checks the ABI version and the descriptor
// size before calling anything else, so a plugin built against another SDK
// refuses to load instead of crashing. The SDK is header-only: a plugin links
// nothing from the host.
#pragma once

#include <cstdint>
#include <vector>

#include "avmon/registry.hpp"

// Bump whenever a type crossing the plugin boundary changes layout or meaning
// (frame.hpp, detector.hpp, options.hpp, registry.hpp) or the compiler ABI does.
#define AVMON_ABI_VERSION 4u

extern "C" {
struct avmon_plugin_v1 {
  std::uint32_t abi_version;   // AVMON_ABI_VERSION the plugin was built with
  std::uint32_t struct_size;   // sizeof(avmon_plugin_v1) as the plugin saw it
  const char* plugin_name;
  const char* plugin_version;
  // Appends the plugin's detectors to `out`.
  void (*describe)(std::vector<avmon::DetectorInfo>* out);
};
}

#define AVMON_PLUGIN_ENTRY_SYMBOL "avmon_plugin_entry"

// AVMON_PLUGIN("my-detectors", "1.0", fn) where fn(std::vector<DetectorInfo>&) fills the list.
#define AVMON_PLUGIN(name, version, fill_fn)                                               \
  extern "C" __attribute__((visibility("default"))) const avmon_plugin_v1* avmon_plugin_entry() { \
    static const avmon_plugin_v1 desc{AVMON_ABI_VERSION, sizeof(avmon_plugin_v1), name, version,  \
                                      [](std::vector<avmon::DetectorInfo>* out) { fill_fn(*out); }}; \
    return &desc;                                                                         \
  }
