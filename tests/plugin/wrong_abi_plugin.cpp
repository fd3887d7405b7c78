// A plugin built against another SDK: the host must refuse it, not call it.
// Built twice: for a future ABI, and for ABI 3, the one before
// DetectorInfo::pictures changed the layout of what plugins hand over (a
// plugin still built against it would hand the host a shorter DetectorInfo).
#include "avmon/plugin.hpp"

extern "C" __attribute__((visibility("default"))) const avmon_plugin_v1* avmon_plugin_entry() {
  static const avmon_plugin_v1 desc{AVMON_TEST_PLUGIN_ABI, sizeof(avmon_plugin_v1), "other-sdk", "9.0", nullptr};
  return &desc;
}
