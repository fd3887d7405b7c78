// The host's detector registry: in-tree detectors (static registrars) plus
// those of plugins loaded at run time. Names are unique across both.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "avmon/registry.hpp"

namespace avmon {

struct RegistryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DetectorRegistry {
 public:
  // The in-tree detectors linked into this binary.
  static DetectorRegistry builtin();

  // Adds a detector (the common options are appended); a duplicate name or an
  // incomplete description is a RegistryError naming `origin`.
  void add(DetectorInfo info, const std::string& origin);
  // dlopen()s a plugin, checks its ABI version and descriptor size, and adds
  // its detectors. Any failure is a RegistryError that says why.
  void load_plugin(const std::string& path);

  const DetectorInfo* find(const std::string& name) const;
  const std::vector<DetectorInfo>& all() const { return detectors_; }
  const std::string& origin(const std::string& name) const;

 private:
  std::vector<DetectorInfo> detectors_;  // sorted by name
  std::vector<std::string> origins_;
};

}  // namespace avmon
