#include "util/logging.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "util/text.hpp"
#include "util/time.hpp"

namespace avmon {

namespace {

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json j;
    j["ts"] = rfc3339_utc(msg.time);
    auto lv = spdlog::level::to_string_view(msg.level);
    j["level"] = std::string(lv.data(), lv.size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    j["logger"] = "avmon";
    std::string s = to_json_text(j);
    s += '\n';
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Text lines as spdlog's pattern makes them, made valid UTF-8: a message
// may quote a file name or a plugin's text in any encoding.
class Utf8TextFormatter final : public spdlog::formatter {
 public:
  Utf8TextFormatter() : pattern_("%Y-%m-%dT%H:%M:%S.%eZ avmon %^%l%$: %v", spdlog::pattern_time_type::utc) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    spdlog::memory_buf_t line;
    pattern_.format(msg, line);
    std::string_view text(line.data(), line.size());
    if (is_valid_utf8(text)) {
      dest.append(line.data(), line.data() + line.size());
    } else {
      std::string fixed = valid_utf8(text);
      dest.append(fixed.data(), fixed.data() + fixed.size());
    }
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<Utf8TextFormatter>(); }

 private:
  spdlog::pattern_formatter pattern_;
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto lv = spdlog::level::from_str(level);
  if (lv == spdlog::level::off && level != "off") throw std::invalid_argument("unknown log level '" + level + "'");
  auto logger = std::make_shared<spdlog::logger>("avmon", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json")
    logger->set_formatter(std::make_unique<JsonFormatter>());
  else
    logger->set_formatter(std::make_unique<Utf8TextFormatter>());
  logger->set_level(lv);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace avmon
