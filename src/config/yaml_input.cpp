#include "config/yaml_input.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "config/config.hpp"

namespace avmon {

namespace {

[[noreturn]] void cannot_read(const std::string& path, const std::string& why) {
  throw ConfigError(path + ": cannot read configuration file: " + why);
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Nodes visited by the check, aliases counted each time they are reached:
// a few anchors can name a tree of billions of nodes ("billion laughs").
constexpr std::size_t kMaxNodes = 100000;
// The deepest level at which the loader reads a key (detectors.NAME.OPTION,
// then a region's {x, y, w, h}); below it values are only type-checked.
constexpr int kMaxKeyDepth = 6;

struct TreeCheck {
  const std::string& path;
  std::size_t nodes = 0;

  [[noreturn]] void fail(const YAML::Mark& m, const std::string& msg) const {
    throw ConfigError(yaml_position(path, m) + ": " + msg);
  }

  void check(const YAML::Node& n, int depth) {
    if (++nodes > kMaxNodes)
      fail(n.Mark(), "more than " + std::to_string(kMaxNodes) + " values (aliases counted each time they are used)");
    if (depth >= kMaxKeyDepth) return;
    if (n.IsSequence()) {
      for (const auto& e : n) check(e, depth + 1);
    } else if (n.IsMap()) {
      if (n.size() > kMaxInputOptions)
        fail(n.Mark(), "a mapping of " + std::to_string(n.size()) + " entries (at most " +
                           std::to_string(kMaxInputOptions) + ")");
      std::unordered_map<std::string, YAML::Mark> seen;
      for (const auto& kv : n) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar()) fail(key.Mark(), "a key must be a plain name, not a list, a mapping or empty");
        auto [it, fresh] = seen.emplace(key.Scalar(), key.Mark());
        if (!fresh)
          fail(key.Mark(), "duplicate key '" + key.Scalar() + "' (first at line " + std::to_string(it->second.line + 1) +
                               ", column " + std::to_string(it->second.column + 1) + ")");
        check(kv.second, depth + 1);
      }
    }
  }
};

}  // namespace

std::string yaml_position(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string read_config_text(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) cannot_read(path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) cannot_read(path, "it is a directory");
  const bool pipe = S_ISFIFO(st.st_mode);
  if (!S_ISREG(st.st_mode) && !pipe) cannot_read(path, "not a regular file or a pipe");
  // Non-blocking: opening a FIFO nobody has opened for writing would
  // otherwise wait for a writer for ever.
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0) cannot_read(path, std::strerror(errno));
  std::string text;
  char buf[65536];
  const int wait_ms = static_cast<int>(kConfigPipeWaitS * 1000);
  for (bool waited = !pipe;;) {
    if (!waited) {
      // A pipe reads as empty until its writer opens it: wait for data or
      // for the writer to close; Linux reports neither for a FIFO that no
      // writer has opened since we did, hence the bound.
      pollfd p{f.fd, POLLIN, 0};
      int r = ::poll(&p, 1, wait_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) cannot_read(path, std::strerror(errno));
      if (r == 0) cannot_read(path, "nothing written to the pipe within " + std::to_string(wait_ms / 1000) + " s");
      waited = true;
    }
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > kMaxConfigBytes)
        cannot_read(path, "larger than " + std::to_string(kMaxConfigBytes / (1024 * 1024)) + " MiB");
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN && pipe) {
      waited = false;  // the writer is slower than us
      continue;
    }
    cannot_read(path, std::strerror(errno));
  }
  return text;
}

YAML::Node parse_config_yaml(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(yaml_position(path, e.mark) + ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ConfigError(yaml_position(path, e.mark) + ": " + e.msg);
  }
  TreeCheck{path}.check(root, 0);
  return root;
}

}  // namespace avmon
