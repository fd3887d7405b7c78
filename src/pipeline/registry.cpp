#include "pipeline/registry.hpp"

#include <dlfcn.h>

#include <algorithm>

#include "avmon/plugin.hpp"

namespace avmon {

DetectorRegistry DetectorRegistry::builtin() {
  DetectorRegistry r;
  for (auto describe : detail::static_detectors()) r.add(describe(), "built-in");
  return r;
}

void DetectorRegistry::add(DetectorInfo info, const std::string& origin) {
  if (info.name.empty()) throw RegistryError(origin + ": a detector has no name");
  if (!info.create) throw RegistryError(origin + ": detector '" + info.name + "' has no factory");
  if (info.media == 0) throw RegistryError(origin + ": detector '" + info.name + "' declares no media");
  if (find(info.name))
    throw RegistryError(origin + ": detector '" + info.name + "' is already registered by " +
                        this->origin(info.name));
  for (auto& common : common_options(info)) {
    bool clash = std::any_of(info.options.begin(), info.options.end(),
                             [&](const OptionSpec& o) { return o.name == common.name; });
    if (clash)
      throw RegistryError(origin + ": detector '" + info.name + "' redeclares common option '" + common.name + "'");
    info.options.push_back(std::move(common));
  }
  auto pos = std::lower_bound(detectors_.begin(), detectors_.end(), info.name,
                              [](const DetectorInfo& d, const std::string& n) { return d.name < n; });
  origins_.insert(origins_.begin() + (pos - detectors_.begin()), origin);
  detectors_.insert(pos, std::move(info));
}

void DetectorRegistry::load_plugin(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw RegistryError("cannot load plugin " + path + ": " + dlerror());
  // The handle is never closed: factories, detector instances and their
  // vtables live in the library until the process ends.
  using Entry = const avmon_plugin_v1* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, AVMON_PLUGIN_ENTRY_SYMBOL));
  if (!entry) throw RegistryError("plugin " + path + " has no " AVMON_PLUGIN_ENTRY_SYMBOL " (not an avmon plugin)");
  const avmon_plugin_v1* desc = entry();
  if (!desc) throw RegistryError("plugin " + path + ": entry point returned nothing");
  if (desc->abi_version != AVMON_ABI_VERSION)
    throw RegistryError("plugin " + path + " was built for avmon plugin ABI " + std::to_string(desc->abi_version) +
                        ", this avmon has ABI " + std::to_string(AVMON_ABI_VERSION) + "; rebuild the plugin");
  if (desc->struct_size < sizeof(avmon_plugin_v1) || !desc->describe)
    throw RegistryError("plugin " + path + ": descriptor too small (" + std::to_string(desc->struct_size) + " bytes)");
  std::vector<DetectorInfo> found;
  desc->describe(&found);
  if (found.empty()) throw RegistryError("plugin " + path + " declares no detector");
  std::string origin = "plugin " + path;
  for (auto& d : found) add(std::move(d), origin);
}

const DetectorInfo* DetectorRegistry::find(const std::string& name) const {
  auto pos = std::lower_bound(detectors_.begin(), detectors_.end(), name,
                              [](const DetectorInfo& d, const std::string& n) { return d.name < n; });
  return pos != detectors_.end() && pos->name == name ? &*pos : nullptr;
}

const std::string& DetectorRegistry::origin(const std::string& name) const {
  static const std::string none;
  for (size_t i = 0; i < detectors_.size(); ++i)
    if (detectors_[i].name == name) return origins_[i];
  return none;
}

}  // namespace avmon
