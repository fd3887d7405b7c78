// The configuration loader on arbitrary bytes: YAML text in, a Config or a
// ConfigError out (exit status 2 in avmon), never a crash, another
// exception, or a hang. Bytes after the first NUL are NUL-separated
// environment entries (AVMON_SECTION__KEY=value), the loader's other input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "pipeline/registry.hpp"

namespace {

// load_config reads a path, as avmon does; one file per fuzzing process.
const std::string& config_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/avmon-fuzz-config-" + std::to_string(getpid()) + ".yaml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view yaml = in.substr(0, in.find('\0'));
  // A plugins: entry naming a real shared object would dlopen() it and run
  // its constructors: not the loader's bytes-in contract.
  if (in.find(".so") != std::string_view::npos) return -1;

  std::vector<std::string> env;
  for (std::size_t pos = yaml.size(); pos < in.size();) {
    std::size_t end = in.find('\0', pos + 1);
    std::string_view entry = in.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
    if (!entry.empty()) env.emplace_back(entry);
    pos = end == std::string_view::npos ? in.size() : end;
  }
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  FILE* f = std::fopen(config_path().c_str(), "wb");
  if (!f || std::fwrite(yaml.data(), 1, yaml.size(), f) != yaml.size() || std::fclose(f) != 0) std::abort();

  avmon::DetectorRegistry registry = avmon::DetectorRegistry::builtin();
  try {
    avmon::Config cfg = avmon::load_config(config_path(), registry, envp.data());
    // What avmon prints for check-config and --print-defaults must work on
    // whatever was accepted.
    (void)avmon::describe_detectors(registry);
  } catch (const avmon::ConfigError&) {
    // the documented outcome for bad input
  }
  // Anything else propagates: libFuzzer reports the uncaught exception.
  return 0;
}
