#include "reports/files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace avmon::reports {

std::string write_file(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](int err) {
    std::remove(tmp.c_str());
    return "cannot write " + path + ": " + std::strerror(err);
  };
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return fail(errno);
  if (!content.empty() && std::fwrite(content.data(), 1, content.size(), f) != content.size()) {
    const int err = errno;
    std::fclose(f);
    return fail(err);
  }
  if (std::fflush(f) != 0) {
    const int err = errno;
    std::fclose(f);
    return fail(err);
  }
  if (std::fclose(f) != 0) return fail(errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno);
  return {};
}

}  // namespace avmon::reports
