// /metrics: a fresh prometheus::Registry per scrape, filled from one
// telemetry snapshot. The figures live in the pipeline's own atomics, so a
// registry kept between scrapes would only duplicate them; a counter rebuilt
// from zero and incremented by the running total is exactly that total.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "http/metrics_evidence.hpp"
#include "http/metrics_transport.hpp"
#include "http/process_metrics.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "pipeline/dispatcher.hpp"
#include "util/text.hpp"

namespace avmon {

std::string render_metrics(const TelemetrySnapshot& s, const HttpStats* http) {
  using namespace prometheus;
  Registry reg;
  const Labels stream = {{"stream", s.stream}};
  auto with = [&](Labels extra) {
    extra.insert(stream.begin(), stream.end());
    return extra;
  };

  // Which avmon, from which source, on which FFmpeg libraries (as loaded).
  Labels build = with({{"version", s.version}, {"revision", s.revision}});
  for (const auto& [lib, version] : s.libraries) build[lib] = version;
  BuildGauge().Name("avmon_build_info").Help("avmon build; value is always 1").Register(reg).Add(build).Set(1);
  add_process_metrics(reg, read_process_figures());
  BuildGauge().Name("avmon_input_up").Help("1 while media arrives from the input").Register(reg)
      .Add(with({{"input", s.input}})).Set(s.input_up ? 1 : 0);
  BuildGauge().Name("avmon_uptime_seconds").Help("seconds since the process started").Register(reg)
      .Add(stream).Set(s.uptime_s);
  if (s.last_media_age_s >= 0)
    BuildGauge().Name("avmon_last_media_age_seconds").Help("wall seconds since the last decoded frame or audio block")
        .Register(reg).Add(stream).Set(s.last_media_age_s);

  // Pictures and audio blocks are counted apart: a block (what the decoder
  // gives at once, e.g. 1024 AAC samples) is not a frame.
  BuildCounter().Name("avmon_video_frames_decoded_total").Help("pictures decoded").Register(reg).Add(stream)
      .Increment(static_cast<double>(s.pipeline.video_frames));
  BuildCounter().Name("avmon_audio_blocks_decoded_total").Help("audio blocks decoded (as the decoder gives them)")
      .Register(reg).Add(stream).Increment(static_cast<double>(s.pipeline.audio_blocks));
  BuildCounter().Name("avmon_decode_errors_total").Help("packets the decoder refused and errors it reported")
      .Register(reg).Add(stream).Increment(static_cast<double>(s.pipeline.decode_errors));
  BuildCounter().Name("avmon_corrupt_frames_total").Help("pictures the decoder flagged corrupt").Register(reg)
      .Add(stream).Increment(static_cast<double>(s.pipeline.corrupt_frames));
  BuildCounter().Name("avmon_audio_conversion_errors_total")
      .Help("decoded audio blocks that could not be converted to planar float (skipped)").Register(reg)
      .Add(stream).Increment(static_cast<double>(s.pipeline.audio_conversion_errors));
  BuildCounter().Name("avmon_discontinuities_total").Help("timestamp discontinuities").Register(reg)
      .Add(stream).Increment(static_cast<double>(s.pipeline.discontinuities));

  // Decode modes: what the decoder was spared, and what it decodes now.
  if (s.pipeline.decode.is_object()) {
    const auto& d = s.pipeline.decode;
    auto count = [&](const char* key) { return static_cast<double>(d.value(key, std::uint64_t{0})); };
    BuildGauge().Name("avmon_decode_mode_info").Help("decode.mode (label mode) and what is decoded now (label "
                                                     "decoding: all, reference, keyframes); value is always 1")
        .Register(reg).Add(with({{"mode", d.value("mode", "")}, {"decoding", d.value("decoding", "")}})).Set(1);
    BuildCounter().Name("avmon_decode_pictures_decoded_total")
        .Help("pictures out of the video decoder (decoded again after an adaptive switch included)").Register(reg)
        .Add(stream).Increment(count("pictures_decoded"));
    BuildCounter().Name("avmon_decode_pictures_skipped_total")
        .Help("video packets of the input not decoded into a picture for the detectors (decode.mode)").Register(reg)
        .Add(stream).Increment(count("pictures_skipped"));
    BuildCounter().Name("avmon_decode_pictures_redecoded_total")
        .Help("adaptive: pictures decoded again from a keyframe after trouble, not delivered twice").Register(reg)
        .Add(stream).Increment(count("pictures_redecoded"));
    BuildCounter().Name("avmon_decode_mode_switches_total")
        .Help("adaptive: switches between keyframes only and every picture").Register(reg).Add(stream)
        .Increment(count("switches"));
    BuildGauge().Name("avmon_decode_starved_detectors")
        .Help("enabled video detectors decode.mode gives fewer pictures than they need").Register(reg).Add(stream)
        .Set(static_cast<double>(d.contains("starved") ? d["starved"].size() : 0));
  }

  auto& frames_done = BuildCounter().Name("avmon_detector_video_frames_processed_total")
                          .Help("pictures analysed, per detector (video detectors)").Register(reg);
  auto& blocks_done = BuildCounter().Name("avmon_detector_audio_blocks_processed_total")
                          .Help("audio blocks analysed, per detector (audio detectors)").Register(reg);
  auto& frames_dropped = BuildCounter().Name("avmon_detector_video_frames_dropped_total")
                             .Help("pictures a live input dropped for a detector that fell behind").Register(reg);
  auto& blocks_dropped = BuildCounter().Name("avmon_detector_audio_blocks_dropped_total")
                             .Help("audio blocks a live input dropped for a detector that fell behind").Register(reg);
  auto& errors = BuildCounter().Name("avmon_detector_errors_total").Help("detector calls that threw").Register(reg);
  auto& timing = BuildHistogram().Name("avmon_detector_processing_seconds")
                     .Help("wall time of one detector call (a batch of up to 0.1 s of media); per picture or "
                           "block: the sum over the processed counters")
                     .Register(reg);
  Histogram::BucketBoundaries bounds(kProcessingBucketsS.begin(), kProcessingBucketsS.end());
  for (const auto& d : s.pipeline.detectors) {
    Labels l = with({{"detector", d.name}});
    if (d.media & kVideo) {
      frames_done.Add(l).Increment(static_cast<double>(d.processed_video));
      frames_dropped.Add(l).Increment(static_cast<double>(d.dropped_video));
    }
    if (d.media & kAudio) {
      blocks_done.Add(l).Increment(static_cast<double>(d.processed - d.processed_video));
      blocks_dropped.Add(l).Increment(static_cast<double>(d.dropped - d.dropped_video));
    }
    errors.Add(l).Increment(static_cast<double>(d.errors));
    std::vector<double> counts(d.buckets.begin(), d.buckets.end());
    counts.resize(bounds.size() + 1, 0.0);
    timing.Add(l, bounds).ObserveMultiple(counts, d.busy_s);
  }

  auto& active = BuildGauge().Name("avmon_active_defects").Help("defects open now, by type").Register(reg);
  std::map<std::string, double> open;
  for (const auto& t : s.types) open[t] = 0;
  for (const auto& e : s.active) open[e.value("type", "")] += 1;
  for (const auto& [type, n] : open) active.Add(with({{"type", type}})).Set(n);
  auto& total = BuildCounter().Name("avmon_defects_total").Help("defects started, by type").Register(reg);
  for (const auto& t : s.types) total.Add(with({{"type", t}}));
  for (const auto& [type, n] : s.defects_total) total.Add(with({{"type", type}})).Increment(static_cast<double>(n));

  auto& loud = BuildGauge().Name("avmon_loudness_lufs").Help("EBU R128 loudness (window: momentary, short_term, integrated)").Register(reg);
  if (s.momentary_lufs) loud.Add(with({{"window", "momentary"}})).Set(*s.momentary_lufs);
  if (s.short_term_lufs) loud.Add(with({{"window", "short_term"}})).Set(*s.short_term_lufs);
  if (s.integrated_lufs) loud.Add(with({{"window", "integrated"}})).Set(*s.integrated_lufs);
  auto& peak = BuildGauge().Name("avmon_audio_peak_dbfs").Help("sample peak over the last 100 ms, per channel").Register(reg);
  auto& rms = BuildGauge().Name("avmon_audio_rms_dbfs").Help("RMS level over the last 100 ms, per channel").Register(reg);
  for (const auto& c : s.channels) {
    peak.Add(with({{"channel", c.name}})).Set(c.peak_dbfs);
    rms.Add(with({{"channel", c.name}})).Set(c.rms_dbfs);
  }

  auto& results = BuildCounter().Name("avmon_notifier_deliveries_total")
                      .Help("notifier outcomes: delivered, retried (failed attempts), dropped, rejected").Register(reg);
  auto& depth = BuildGauge().Name("avmon_notifier_queue_depth").Help("events waiting, memory and spool").Register(reg);
  auto& disabled = BuildGauge().Name("avmon_notifier_disabled").Help("1 after the receiver answered 410 Gone").Register(reg);
  auto& spooled = BuildCounter().Name("avmon_notifier_spooled_total")
                      .Help("events written to the notifier's on-disk spool (notifiers.spool_dir)").Register(reg);
  for (const auto& [name, c] : s.notifiers) {
    Labels l = with({{"notifier", name}});
    auto add = [&](const char* result, std::uint64_t v) {
      Labels r = l;
      r["result"] = result;
      results.Add(r).Increment(static_cast<double>(v));
    };
    add("delivered", c->delivered);
    add("retried", c->retries);
    add("dropped", c->dropped);
    add("rejected", c->rejected);
    depth.Add(l).Set(static_cast<double>(c->depth));
    disabled.Add(l).Set(c->disabled ? 1 : 0);
    spooled.Add(l).Increment(static_cast<double>(c->spooled));
  }
  auto& write_errors = BuildCounter().Name("avmon_output_write_errors_total")
                           .Help("writes that failed, by output: events (the events file), spool/<notifier>")
                           .Register(reg);
  auto& lost = BuildCounter().Name("avmon_output_events_lost_total")
                   .Help("events that will never reach an output because a write failed, by output").Register(reg);
  for (const auto& [output, f] : s.output_failures) {
    write_errors.Add(with({{"output", output}})).Increment(static_cast<double>(f.write_errors));
    lost.Add(with({{"output", output}})).Increment(static_cast<double>(f.events_lost));
  }

  if (http) {
    BuildCounter().Name("avmon_http_requests_total").Help("HTTP requests answered, whatever the status")
        .Register(reg).Add(stream).Increment(static_cast<double>(http->requests));
    BuildCounter().Name("avmon_http_bad_requests_total")
        .Help("connections closed after a 4xx for bytes that were not an HTTP request (or too large)")
        .Register(reg).Add(stream).Increment(static_cast<double>(http->bad_requests));
    BuildCounter().Name("avmon_http_accept_errors_total")
        .Help("failed accepts (out of file descriptors, say); the server pauses and tries again")
        .Register(reg).Add(stream).Increment(static_cast<double>(http->accept_errors));
    BuildCounter().Name("avmon_http_metrics_renders_total")
        .Help("/metrics expositions rendered; requests in between share the last one")
        .Register(reg).Add(stream).Increment(static_cast<double>(http->metrics_renders));
  }

  add_transport_metrics(reg, s.pipeline.transport, stream);
  add_evidence_metrics(reg, s.pipeline.evidence, stream);

  // Label values are names from the outside (stream, input, plugin
  // detectors' types): the exposition must be UTF-8 whatever they hold.
  return valid_utf8(TextSerializer().Serialize(reg.Collect()));
}

}  // namespace avmon
