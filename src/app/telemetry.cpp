#include "app/telemetry.hpp"

#include <algorithm>
#include <cmath>

#include <ebur128.h>

extern "C" {
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include "app/version.hpp"
#include "pipeline/av_ptr.hpp"

namespace avmon {

namespace {

constexpr std::size_t kRecentEvents = 50;
constexpr std::size_t kThumbnailsKept = 200;
constexpr double kHistoryStepS = 0.5;    // one picture kept per half second...
constexpr double kHistorySpanS = 15.0;   // ...for this long (longer than any default min_duration_s)
constexpr double kMeterWindowS = 0.1;    // meters publish every 100 ms of audio
// No media for this long means the input is down (live inputs stall without
// ending; the signal_loss defect says more, this is the gauge's view).
constexpr double kInputStaleS = 5.0;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ebur128_state* st(void* p) { return static_cast<ebur128_state*>(p); }
void destroy_loudness(void*& p) {
  auto* s = st(p);
  if (s) ebur128_destroy(&s);
  p = nullptr;
}

double to_db(double v) { return v > 1e-6 ? 20.0 * std::log10(v) : -120.0; }

}  // namespace

// libavcodec's MJPEG encoder, already loaded for decoding. (OpenCV's
// imgcodecs would do the same, but on Debian it brings GDAL and some 60 other
// packages: 115 MB more per container and 20 MB more resident per process.)
// A fresh encoder per picture: thumbnails are made at most about once a second.
std::string encode_jpeg(const cv::Mat& bgr, int quality) {
  if (bgr.empty() || bgr.type() != CV_8UC3) return {};
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) return {};
  AVCodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return {};
  ctx->width = bgr.cols;
  ctx->height = bgr.rows;
  // Full-range 4:2:0 is baseline JPEG (YUVJ420P is the deprecated name for it).
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->color_range = AVCOL_RANGE_JPEG;
  ctx->time_base = {1, 25};
  // JPEG quality 1..100 onto the encoder's quantiser scale 31..2.
  const int qscale = std::clamp(static_cast<int>(std::lround(2 + (100 - quality) * 0.29)), 2, 31);
  ctx->flags |= AV_CODEC_FLAG_QSCALE;
  ctx->global_quality = FF_QP2LAMBDA * qscale;
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return {};

  AVFramePtr frame = make_av_frame();
  if (!frame) return {};
  frame->format = ctx->pix_fmt;
  frame->width = ctx->width;
  frame->height = ctx->height;
  frame->color_range = AVCOL_RANGE_JPEG;
  frame->quality = ctx->global_quality;
  if (av_frame_get_buffer(frame.get(), 0) < 0) return {};
  SwsContext* sws = sws_getContext(bgr.cols, bgr.rows, AV_PIX_FMT_BGR24, bgr.cols, bgr.rows, AV_PIX_FMT_YUV420P,
                                   SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!sws) return {};
  // BT.601 coefficients, full-range output: what a JPEG decoder assumes.
  const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(sws, bt601, 1, bt601, 1, 0, 1 << 16, 1 << 16);
  const uint8_t* src[4] = {bgr.data, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
  sws_scale(sws, src, src_stride, 0, bgr.rows, frame->data, frame->linesize);
  sws_freeContext(sws);

  AVPacketPtr packet(av_packet_alloc());
  if (!packet || avcodec_send_frame(ctx.get(), frame.get()) < 0 || avcodec_receive_packet(ctx.get(), packet.get()) < 0)
    return {};
  return std::string(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
}

Telemetry::Telemetry(std::string input, std::string stream)
    : input_(std::move(input)), stream_(std::move(stream)), started_wall_ms_(wall_ms()) {}

Telemetry::~Telemetry() {
  destroy_loudness(loudness_);
}

void Telemetry::set_types(std::set<std::string> all_types, std::set<std::string> video_types) {
  std::lock_guard lk(mu_);
  types_ = std::move(all_types);
  video_types_ = std::move(video_types);
}

void Telemetry::set_probe(std::function<PipelineTelemetry()> probe) {
  std::lock_guard lk(probe_mu_);
  probe_ = std::move(probe);
}

void Telemetry::set_format(const StreamInfo& info) {
  std::lock_guard lk(mu_);
  format_ = info;
  have_format_ = true;
  if (loudness_ && (loudness_rate_ != info.sample_rate || loudness_channels_ != info.channels))
    destroy_loudness(loudness_);
  levels_.clear();
}

void Telemetry::set_input_up(bool up) { input_up_ = up; }

void Telemetry::on_video(const std::shared_ptr<const VideoFrame>& frame) {
  last_media_ms_ = steady_ms();
  latest_media_s_ = frame->media_time_s();
  input_up_ = true;
  bool keep = false;
  {
    std::lock_guard lk(mu_);
    latest_ = frame;
    keep = history_.empty() || frame->media_time_s() - history_.back().first >= kHistoryStepS ||
           frame->media_time_s() < history_.back().first;
  }
  if (!keep) return;
  // The analysis-size BGR picture is the frame bus's shared product: made once
  // per frame at most, and only for the two frames a second kept here.
  cv::Mat bgr = frame->bgr();
  std::lock_guard lk(mu_);
  history_.emplace_back(frame->media_time_s(), bgr);
  while (!history_.empty() && (history_.front().first < frame->media_time_s() - kHistorySpanS ||
                               history_.front().first > frame->media_time_s()))
    history_.pop_front();
}

void Telemetry::set_detector_loudness(bool on) {
  std::lock_guard lk(mu_);
  detector_loudness_ = on;
  if (on) destroy_loudness(loudness_);
}

void Telemetry::on_audio(const AudioBlock& block) {
  last_media_ms_ = steady_ms();
  if (block.media_time_s() > latest_media_s_) latest_media_s_ = block.media_time_s();
  input_up_ = true;
  const int channels = block.channels(), samples = block.samples(), rate = block.sample_rate();
  if (channels <= 0 || samples <= 0 || rate <= 0) return;
  std::lock_guard lk(mu_);
  if (loudness_rate_ != rate || loudness_channels_ != channels || (!loudness_ && !detector_loudness_)) {
    destroy_loudness(loudness_);
    loudness_ = detector_loudness_ ? nullptr
                                   : ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(rate),
                                                  EBUR128_MODE_M | EBUR128_MODE_S | EBUR128_MODE_I | EBUR128_MODE_HISTOGRAM);
    loudness_rate_ = rate;
    loudness_channels_ = channels;
    peak_acc_.assign(static_cast<std::size_t>(channels), 0.0);
    square_acc_.assign(static_cast<std::size_t>(channels), 0.0);
    acc_samples_ = 0;
    levels_.clear();
  }
  interleaved_.resize(static_cast<std::size_t>(channels) * static_cast<std::size_t>(samples));
  for (int c = 0; c < channels; ++c) {
    const float* x = block.channel(c);
    double peak = peak_acc_[static_cast<std::size_t>(c)], sq = 0;
    for (int i = 0; i < samples; ++i) {
      double v = x[i];
      peak = std::max(peak, std::fabs(v));
      sq += v * v;
      interleaved_[static_cast<std::size_t>(i) * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] = x[i];
    }
    peak_acc_[static_cast<std::size_t>(c)] = peak;
    square_acc_[static_cast<std::size_t>(c)] += sq;
  }
  if (loudness_) ebur128_add_frames_float(st(loudness_), interleaved_.data(), static_cast<std::size_t>(samples));
  acc_samples_ += static_cast<std::size_t>(samples);
  if (static_cast<double>(acc_samples_) >= kMeterWindowS * rate) {
    levels_.resize(static_cast<std::size_t>(channels));
    for (std::size_t c = 0; c < levels_.size(); ++c) {
      levels_[c].name = block.channel_name(static_cast<int>(c));
      levels_[c].peak_dbfs = std::round(to_db(peak_acc_[c]) * 10) / 10;
      levels_[c].rms_dbfs = std::round(to_db(std::sqrt(square_acc_[c] / static_cast<double>(acc_samples_))) * 10) / 10;
      peak_acc_[c] = square_acc_[c] = 0;
    }
    acc_samples_ = 0;
  }
}

void Telemetry::annotate(nlohmann::json& event) {
  if (event.value("kind", "") != "defect.start" || !event.contains("id")) return;
  cv::Mat picture;
  {
    std::lock_guard lk(mu_);
    if (!video_types_.count(event.value("type", "")) || history_.empty()) return;
    // The first kept picture at or after the defect's onset: inside the
    // defect (the one before it would show the programme that preceded it).
    double onset_s = event.value("media_time", 0.0);
    picture = history_.back().second;
    for (auto it = history_.rbegin(); it != history_.rend() && it->first >= onset_s - 1e-6; ++it) picture = it->second;
  }
  std::string jpeg = encode_jpeg(picture);
  if (jpeg.empty()) return;
  std::string id = event["id"].get<std::string>();
  if (!event.contains("details") || !event["details"].is_object()) event["details"] = nlohmann::json::object();
  event["details"]["thumbnail"] = thumb_prefix_ + "/thumbnails/" + id + ".jpg";
  std::lock_guard lk(jpeg_mu_);
  if (thumbnails_.emplace(id, std::move(jpeg)).second) thumbnail_order_.push_back(id);
  while (thumbnail_order_.size() > kThumbnailsKept) {
    thumbnails_.erase(thumbnail_order_.front());
    thumbnail_order_.pop_front();
  }
}

void Telemetry::on_event(const nlohmann::json& event) {
  std::string kind = event.value("kind", "");
  page_history_.on_event(event, wall_ms(), latest_media_s_, started_wall_ms_);
  std::lock_guard lk(mu_);
  if (kind == "defect.start") {
    active_[event.value("id", "")] = event;
    ++defects_total_[event.value("type", "")];
  } else if (kind == "defect.end") {
    active_.erase(event.value("id", ""));
  }
  recent_.push_back(event);
  while (recent_.size() > kRecentEvents) recent_.pop_front();
}

void Telemetry::set_notifiers(std::vector<std::pair<std::string, std::shared_ptr<const NotifierCounters>>> n) {
  std::lock_guard lk(mu_);
  notifiers_ = std::move(n);
}

bool Telemetry::input_up() const {
  double age = last_media_age_s();
  return input_up_ && age >= 0 && age < kInputStaleS;
}

double Telemetry::last_media_age_s() const {
  std::int64_t t = last_media_ms_;
  return t < 0 ? -1.0 : static_cast<double>(steady_ms() - t) / 1000.0;
}

TelemetrySnapshot Telemetry::snapshot() const {
  TelemetrySnapshot s;
  s.version = AVMON_VERSION;
  s.revision = build_revision();
  for (const auto& lib : library_versions()) s.libraries.emplace_back(lib.name, lib.running);
  s.input = input_;
  s.stream = stream_;
  s.input_up = input_up();
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  s.last_media_age_s = last_media_age_s();
  s.output_failures = LostOutput::global().snapshot();
  {
    std::lock_guard lk(mu_);
    s.format = format_;
    s.have_format = have_format_;
    s.channels = levels_;
    if (loudness_) {
      double v;
      if (ebur128_loudness_momentary(st(loudness_), &v) == EBUR128_SUCCESS && std::isfinite(v)) s.momentary_lufs = v;
      if (ebur128_loudness_shortterm(st(loudness_), &v) == EBUR128_SUCCESS && std::isfinite(v)) s.short_term_lufs = v;
      if (ebur128_loudness_global(st(loudness_), &v) == EBUR128_SUCCESS && std::isfinite(v)) s.integrated_lufs = v;
    }
    for (auto it = active_.begin(); it != active_.end(); ++it) s.active.push_back(it.value());
    for (const auto& e : recent_) s.recent.push_back(e);
    s.defects_total = defects_total_;
    s.types = types_;
    s.notifiers = notifiers_;
  }
  // The probe reads the pipeline's atomics; not under mu_, so the decode
  // thread never waits for it.
  std::lock_guard pl(probe_mu_);
  if (probe_) s.pipeline = probe_();
  bool from_detector = false;
  {
    std::lock_guard lk(mu_);
    from_detector = detector_loudness_;
  }
  if (from_detector) {
    const auto lufs = [](const nlohmann::json& l, const char* key) -> std::optional<double> {
      const auto it = l.find(key);
      if (it == l.end() || !it->is_number()) return std::nullopt;
      return it->get<double>();
    };
    for (const auto& d : s.pipeline.detectors) {
      if (!d.levels.is_object() || !d.levels.contains("loudness") || !d.levels["loudness"].is_object()) continue;
      const nlohmann::json& l = d.levels["loudness"];
      s.momentary_lufs = lufs(l, "momentary_lufs");
      s.short_term_lufs = lufs(l, "short_term_lufs");
      s.integrated_lufs = lufs(l, "integrated_lufs");
      s.target_lufs = lufs(l, "target_lufs");
      break;
    }
  }
  return s;
}

std::string Telemetry::live_jpeg() {
  std::lock_guard jl(jpeg_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!live_jpeg_.empty() && now - live_jpeg_at_ < std::chrono::seconds(1)) return live_jpeg_;
  std::shared_ptr<const VideoFrame> frame;
  {
    std::lock_guard lk(mu_);
    frame = latest_;
  }
  if (!frame) return live_jpeg_;
  live_jpeg_ = encode_jpeg(frame->bgr());
  live_jpeg_at_ = now;
  return live_jpeg_;
}

std::string Telemetry::thumbnail(const std::string& id) const {
  std::lock_guard lk(jpeg_mu_);
  auto it = thumbnails_.find(id);
  return it == thumbnails_.end() ? std::string() : it->second;
}

}  // namespace avmon
