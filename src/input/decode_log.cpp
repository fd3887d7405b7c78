#include "input/decode_log.hpp"

#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

#include "util/url.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
}

namespace avmon {

namespace {

void log_callback(void* avcl, int level, const char* fmt, va_list vl) {
  bool from_decoder = false;
  if (avcl && level <= AV_LOG_ERROR) {
    const AVClass* cls = *static_cast<const AVClass**>(avcl);
    if (cls == avcodec_get_class()) {
      auto* ctx = static_cast<AVCodecContext*>(avcl);
      if (ctx->opaque && av_codec_is_decoder(ctx->codec)) {
        static_cast<DecodeErrorCounter*>(ctx->opaque)->add(1);
        from_decoder = true;
      }
    }
  }
  if (level > AV_LOG_WARNING) return;
  // Decoder errors arrive by the hundred on a damaged stream: they are counted
  // and reported as events, so the log keeps them at debug level.
  auto spd_level = from_decoder || level == AV_LOG_WARNING ? spdlog::level::debug : spdlog::level::warn;
  if (!spdlog::should_log(spd_level)) return;
  // A damaged stream makes libav complain hundreds of times a second: keep
  // the first few of every 10 s and say how many were left out.
  static std::mutex mu;
  static std::chrono::steady_clock::time_point window_start;
  static int in_window = 0, suppressed = 0;
  {
    std::lock_guard lk(mu);
    auto now = std::chrono::steady_clock::now();
    if (now - window_start > std::chrono::seconds(10)) {
      if (suppressed > 0) spdlog::log(spd_level, "libav: {} more messages suppressed", suppressed);
      window_start = now;
      in_window = suppressed = 0;
    }
    if (++in_window > 20) {
      ++suppressed;
      return;
    }
  }
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, vl);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  size_t n = std::strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  // libav names URLs in some messages (HLS segments, redirects): without
  // their secrets.
  if (n > 0) spdlog::log(spd_level, "libav: {}", redact_urls_in_text(std::string_view(line, n)));
}

}  // namespace

void install_decode_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(&log_callback); });
}

}  // namespace avmon
