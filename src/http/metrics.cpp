// /metrics: a fresh prometheus::Registry per scrape, filled from one
// telemetry snapshot. The figures live in the pipeline's own atomics, so a
// registry kept between scrapes would only duplicate them; a counter rebuilt
// from zero and incremented by the running total is exactly that total.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "http/server.hpp"
#include "pipeline/dispatcher.hpp"
#include "util/text.hpp"

namespace avmon {

std::string render_metrics(const TelemetrySnapshot& s) {
  using namespace prometheus;
  Registry reg;
  const Labels stream = {{"stream", s.stream}};
  auto with = [&](Labels extra) {
    extra.insert(stream.begin(), stream.end());
    return extra;
  };

  BuildGauge().Name("avmon_build_info").Help("avmon build; value is always 1").Register(reg)
      .Add({{"version", s.version}}).Set(1);
  BuildGauge().Name("avmon_input_up").Help("1 while media arrives from the input").Register(reg)
      .Add(with({{"input", s.input}})).Set(s.input_up ? 1 : 0);
  BuildGauge().Name("avmon_uptime_seconds").Help("seconds since the process started").Register(reg)
      .Add(stream).Set(s.uptime_s);
  if (s.last_media_age_s >= 0)
    BuildGauge().Name("avmon_last_media_age_seconds").Help("wall seconds since the last decoded frame or audio block")
        .Register(reg).Add(stream).Set(s.last_media_age_s);

  auto& frames = BuildCounter().Name("avmon_frames_decoded_total").Help("decoded pictures and audio blocks").Register(reg);
  frames.Add(with({{"media", "video"}})).Increment(static_cast<double>(s.pipeline.video_frames));
  frames.Add(with({{"media", "audio"}})).Increment(static_cast<double>(s.pipeline.audio_blocks));
  BuildCounter().Name("avmon_decode_errors_total").Help("packets the decoder refused and errors it reported")
      .Register(reg).Add(stream).Increment(static_cast<double>(s.pipeline.decode_errors));
  BuildCounter().Name("avmon_corrupt_frames_total").Help("pictures the decoder flagged corrupt").Register(reg)
      .Add(stream).Increment(static_cast<double>(s.pipeline.corrupt_frames));
  BuildCounter().Name("avmon_discontinuities_total").Help("timestamp discontinuities").Register(reg)
      .Add(stream).Increment(static_cast<double>(s.pipeline.discontinuities));

  auto& processed = BuildCounter().Name("avmon_detector_frames_processed_total").Help("frames or blocks analysed, per detector").Register(reg);
  auto& dropped = BuildCounter().Name("avmon_detector_frames_dropped_total")
                      .Help("frames a live input dropped for a detector that fell behind").Register(reg);
  auto& errors = BuildCounter().Name("avmon_detector_errors_total").Help("detector calls that threw").Register(reg);
  auto& timing = BuildHistogram().Name("avmon_detector_processing_seconds").Help("time one detector call took")
                     .Register(reg);
  Histogram::BucketBoundaries bounds(kProcessingBucketsS.begin(), kProcessingBucketsS.end());
  for (const auto& d : s.pipeline.detectors) {
    Labels l = with({{"detector", d.name}});
    processed.Add(l).Increment(static_cast<double>(d.processed));
    dropped.Add(l).Increment(static_cast<double>(d.dropped));
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

  // Label values are names from the outside (stream, input, plugin
  // detectors' types): the exposition must be UTF-8 whatever they hold.
  return valid_utf8(TextSerializer().Serialize(reg.Collect()));
}

}  // namespace avmon
