#pragma once

#include <string>

#include "config/config.hpp"
#include "notify/notifier.hpp"

namespace avmon {

// Adds a queued notifier for each remote receiver the configuration names
// (webhook, Alertmanager, MQTT). Throws ConfigError on an unusable value.
void add_configured_notifiers(NotifierHub& hub, const NotifiersConfig& cfg, const std::string& stream);

}  // namespace avmon
