#include "notify/notifier.hpp"

namespace avmon {

bool paging_skips(const nlohmann::json& event, bool dedupes_by_labels) {
  if (!event.is_object()) return false;
  if (event.value("masked", false) || event.value("handover", false)) return true;
  const auto alarm = event.find("alarm");
  if (event.value("flapping", false) && event.value("kind", "") != "alarm.flapping" && alarm != event.end() && alarm->is_object() &&
      alarm->value("id", "") != event.value("id", ""))
    return true;  // a raise or clear behind the one flapping alarm
  if (event.contains("continues") && event.value("kind", "") == "defect.start") return !dedupes_by_labels;
  return false;
}

}  // namespace avmon
