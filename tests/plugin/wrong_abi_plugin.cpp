// A plugin built against a future SDK: the host must refuse it, not call it.
#include "avmon/plugin.hpp"

extern "C" __attribute__((visibility("default"))) const avmon_plugin_v1* avmon_plugin_entry() {
  static const avmon_plugin_v1 desc{AVMON_ABI_VERSION + 1, sizeof(avmon_plugin_v1), "future", "9.0", nullptr};
  return &desc;
}
