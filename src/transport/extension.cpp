#include "transport/extension.hpp"

namespace avmon {

namespace {
std::vector<TsExtensionInfo>& registry() {
  static std::vector<TsExtensionInfo> r;
  return r;
}
}  // namespace

void register_ts_extension(TsExtensionInfo info) { registry().push_back(std::move(info)); }
const std::vector<TsExtensionInfo>& ts_extensions() { return registry(); }

}  // namespace avmon
