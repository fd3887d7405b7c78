// The whole pipeline on a mutated media input read from memory: libavformat
// probes and demuxes it through a custom AVIOContext, avmon's source decodes
// it, every built-in detector analyses it, the event engine writes events and
// the telemetry behind /status, /metrics and the thumbnails follows it, as in
// `avmon run --http`. Never a crash, a sanitizer report, an exception out of
// the pipeline, or an event that is not valid JSON.
//
// The last byte of the input chooses how the input behaves (as FFmpeg's
// tools/target_dem_fuzzer.c does): bit 0 seekable or not, bits 1-3 the I/O
// buffer size. AVMON_FUZZ_DEBUG=1 in the environment prints what each input
// gave (why the input ended, frames and audio blocks decoded).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}
#include <spdlog/spdlog.h>

#include "app/monitor.hpp"
#include "app/telemetry.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "input/source.hpp"
#include "notify/notifier.hpp"
#include "pipeline/registry.hpp"

namespace {

struct Memory {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
};

int read_packet(void* opaque, std::uint8_t* buf, int buf_size) {
  auto* m = static_cast<Memory*>(opaque);
  std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(buf_size), m->size - m->pos);
  if (n == 0) return AVERROR_EOF;
  std::memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return static_cast<int>(n);
}

std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
  auto* m = static_cast<Memory*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return static_cast<std::int64_t>(m->size);
  std::int64_t base = whence == SEEK_CUR ? static_cast<std::int64_t>(m->pos)
                      : whence == SEEK_END ? static_cast<std::int64_t>(m->size)
                                           : 0;
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return AVERROR(EINVAL);
  if (offset > static_cast<std::int64_t>(m->size) - base || offset < -base) return AVERROR(EINVAL);
  m->pos = static_cast<std::size_t>(base + offset);
  return static_cast<std::int64_t>(m->pos);
}

// Every event must serialise (valid UTF-8, finite numbers) and carry what
// the contract promises; dump() throws on anything else.
class CheckingNotifier final : public avmon::Notifier {
 public:
  std::string name() const override { return "fuzz"; }
  void deliver(const nlohmann::json& event) override {
    (void)event.dump();
    if (!event.contains("kind") || !event.contains("stream")) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return -1;
  const std::uint8_t control = data[size - 1];
  Memory mem{data, size - 1};
  const int io_size = 512 << ((control >> 1) & 7);
  auto* buffer = static_cast<std::uint8_t*>(av_malloc(static_cast<std::size_t>(io_size)));
  AVIOContext* io = avio_alloc_context(buffer, io_size, 0, &mem, read_packet, nullptr, (control & 1) ? seek : nullptr);
  if (!io) std::abort();
  io->seekable = (control & 1) ? AVIO_SEEKABLE_NORMAL : 0;

  static avmon::DetectorRegistry registry = avmon::DetectorRegistry::builtin();
  avmon::Config cfg = avmon::load_config("", registry, nullptr);
  cfg.input.url = "fuzz-input";  // a file name: not live, never reopened
  cfg.pipeline.threads = 1;
  {
    avmon::NotifierHub hub;
    hub.add(std::make_unique<CheckingNotifier>());
    avmon::Telemetry telemetry(cfg.input.url, "fuzz");
    telemetry.set_notifiers(hub.counters());
    hub.set_decorator([&telemetry](nlohmann::json& e) {
      telemetry.annotate(e);
      telemetry.on_event(e);
    });
    auto source = avmon::make_av_source(cfg.input, nullptr, io);
    bool opened = true;
    try {
      source->open();
    } catch (const avmon::InputError&) {
      opened = false;  // not media: exit status 3 in avmon
      if (std::getenv("AVMON_FUZZ_DEBUG")) std::fprintf(stderr, "input error\n");
    }
    if (opened) {
      avmon::Monitor monitor(cfg, *source, hub, "fuzz");
      monitor.set_telemetry(&telemetry);
      std::string why = monitor.run();
      if (std::getenv("AVMON_FUZZ_DEBUG")) std::fprintf(stderr, "%s: %llu frames %llu blocks\n", why.c_str(), (unsigned long long)source->stats().video_frames.load(), (unsigned long long)source->stats().audio_blocks.load());
      hub.close();
      hub.set_decorator({});
      // What /metrics, /status and the status page's picture serve after it.
      (void)avmon::render_metrics(telemetry.snapshot());
      (void)avmon::render_status(telemetry.snapshot()).dump();
      (void)telemetry.live_jpeg();
    }
  }
  av_freep(&io->buffer);
  avio_context_free(&io);
  return 0;
}
