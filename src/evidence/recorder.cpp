#include "evidence/recorder.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>

#include <spdlog/spdlog.h>

#include "util/numbers.hpp"

namespace avmon::evidence {

namespace fs = std::filesystem;

namespace {
// A clip is taken once the input is this far past its end, so that audio
// interleaved a little behind the video is in it too.
constexpr double kMarginS = 1.0;
// A clear thumbnail: the pictures from the random-access point before the
// defect's end to this long after it.
constexpr double kClearSpanS = 1.0;
constexpr std::size_t kIdChars = 16;

double ms(double s) { return std::round(s * 1000) / 1000; }
}  // namespace

Recorder::Recorder(Settings settings, EventSink& out, std::string stream, bool live)
    : settings_(std::move(settings)),
      out_(out),
      stream_(std::move(stream)),
      live_(live),
      ring_(settings_.buffer_s, settings_.max_buffer_bytes) {
  // A file name from the stream name (which may come from the configuration).
  for (char c : stream_)
    file_stem_ += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '-';
  if (file_stem_.empty() || file_stem_[0] == '.') file_stem_ = "stream" + file_stem_;
  std::error_code ec;
  fs::create_directories(settings_.dir, ec);
  if (ec) {
    spdlog::error("evidence: cannot create {}: {}; clips will fail", settings_.dir, ec.message());
  } else {
    // Half-written files of an earlier run that was killed while writing.
    for (const auto& e : fs::directory_iterator(settings_.dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(file_stem_ + "-", 0) == 0 && e.path().extension() == ".part") fs::remove(e.path(), ec);
    }
  }
  spdlog::info("evidence: clips of {} s before to {} s after each alarm in {} (buffer {} s, at most {} bytes)",
               human_number(settings_.pre_s), human_number(settings_.post_s), settings_.dir,
               human_number(settings_.buffer_s), settings_.max_buffer_bytes);
  worker_ = std::thread([this] { work(); });
}

Recorder::~Recorder() { stop(); }

std::string Recorder::base_path(const std::string& id) const {
  return (fs::path(settings_.dir) / (file_stem_ + "-" + id)).string();
}

void Recorder::emit(const nlohmann::json& event) {
  const std::string kind = event.is_object() ? event.value("kind", "") : "";
  if ((kind != "defect.start" && kind != "defect.end") || !event.contains("id") || !event["id"].is_string() ||
      !settings_.wants(event.value("type", ""))) {
    out_.emit(event);
    return;
  }
  const std::string id = event["id"].get<std::string>();
  std::string clip;
  {
    std::lock_guard lk(mu_);
    if (kind == "defect.start") {
      // Nothing read yet (an input down from the start): nothing to clip.
      if (!container_.empty()) {
        Alarm a;
        a.id = id;
        a.type = event.value("type", "");
        a.detector = event.value("detector", "");
        a.raise_s = event.value("media_time", 0.0);
        a.container = container_;
        const std::string base = base_path(id);
        a.clip_path = base + (container_ == "mpegts" ? ".ts" : ".mkv");
        a.raise_jpg = base + "-raise.jpg";
        a.clear_jpg = base + "-clear.jpg";
        clip = a.clip_path;
        alarms_[id] = std::move(a);
      }
    } else if (auto it = alarms_.find(id); it != alarms_.end()) {
      it->second.clear_s = event.value("media_time", it->second.raise_s);
      clip = it->second.clip_path;
    }
  }
  if (clip.empty()) {
    out_.emit(event);
    return;
  }
  nlohmann::json e = event;
  if (!e.contains("details") || !e["details"].is_object()) e["details"] = nlohmann::json::object();
  e["details"]["evidence"] = {{"clip", clip}};
  out_.emit(e);
}

void Recorder::on_stream_info(const StreamInfo& info) {
  if (session_ != 0 && info.has_video == has_video_) return;
  if (session_ != 0) queue_due(true, "the input's streams changed");
  has_video_ = info.has_video;
  ring_.reset(has_video_);
}

double Recorder::keep_from_s() const {
  double keep = std::numeric_limits<double>::infinity();
  for (const auto& [id, a] : alarms_) {
    if (!a.clip_queued) keep = std::min(keep, a.raise_s - settings_.pre_s);
    if (a.clear_s && !a.clear_queued) keep = std::min(keep, *a.clear_s);
  }
  return keep;
}

void Recorder::on_packet(const InputPacket& p) {
  if (p.session != session_) {
    // Another session of a live input: what was buffered ends there.
    if (session_ != 0) queue_due(true, "the input was interrupted");
    ring_.reset(has_video_);
    session_ = p.session;
  }
  double keep;
  {
    std::lock_guard lk(mu_);
    keep = keep_from_s();
  }
  ring_.add(p, keep);
  if (const std::int64_t b = ring_.bytes(); b > peak_buffer_bytes_.load(std::memory_order_relaxed))
    peak_buffer_bytes_.store(b, std::memory_order_relaxed);  // one writer: no lost update
  if (std::string c = ring_.container(); c != container_seen_) {
    container_seen_ = c;
    std::lock_guard lk(mu_);
    container_ = c;
  }
  queue_due(false, "");
}

void Recorder::queue_due(bool all, const std::string& note) {
  std::vector<Job> jobs;
  {
    std::lock_guard lk(mu_);
    if (alarms_.empty()) return;
    const double newest = ring_.newest_s();
    for (auto it = alarms_.begin(); it != alarms_.end();) {
      Alarm& a = it->second;
      const double to_s = a.raise_s + settings_.post_s;
      if (!a.clip_queued && (all || (!std::isnan(newest) && newest >= to_s + kMarginS))) {
        Job j;
        j.part = Part::Clip;
        j.alarm = a;
        j.material = ring_.collect(a.raise_s - settings_.pre_s, to_s);
        j.complete = !std::isnan(newest) && newest >= to_s - 1e-3;
        if (!j.complete) j.note = note;
        a.clip_queued = true;
        jobs.push_back(std::move(j));
      }
      if (a.clear_s && !a.clear_queued && (all || (!std::isnan(newest) && newest >= *a.clear_s + kClearSpanS))) {
        Job j;
        j.part = Part::Clear;
        j.alarm = a;
        j.material = ring_.collect(*a.clear_s, *a.clear_s + kClearSpanS);
        a.clear_queued = true;
        jobs.push_back(std::move(j));
      }
      if (a.clip_queued && a.clear_queued) it = alarms_.erase(it);
      else ++it;
    }
  }
  for (auto& j : jobs) enqueue(std::move(j));
}

void Recorder::enqueue(Job job) {
  {
    std::unique_lock lk(queue_mu_);
    // A file is analysed losslessly: it waits for the writer rather than
    // lose a clip (and gives the same files on every run).
    if (!live_) queue_cv_.wait(lk, [&] { return abandon_ || queue_.size() < settings_.queue_clips; });
    if (queue_.size() < settings_.queue_clips) {
      queue_.push_back(std::move(job));
      queue_cv_.notify_all();
      return;
    }
  }
  // The disk is slower than alarms come: this one is lost, and said so.
  const std::string what = job.part == Part::Clip ? job.alarm.clip_path : job.alarm.clear_jpg;
  const std::string error = "cannot write " + what + ": the evidence writer is behind (" +
                            std::to_string(settings_.queue_clips) + " waiting)";
  spdlog::error("evidence: {}", error);
  {
    std::lock_guard lk(results_mu_);
    ++counters_.dropped;
    counters_.last_error = error;
  }
  Result r;
  r.media_s = job.part == Part::Clip ? job.alarm.raise_s : job.alarm.clear_s.value_or(job.alarm.raise_s);
  r.id = job.alarm.id;
  r.order = job.part == Part::Clip ? 0 : 2;
  r.line = {{"kind", "evidence.error"}, {"id", job.alarm.id}, {"type", job.alarm.type},
            {"detector", job.alarm.detector}, {"media_time", ms(r.media_s)},
            {"details", {{"error", error}, {"file", what}}}};
  deliver(std::move(r));
}

void Recorder::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lk(queue_mu_);
      queue_cv_.wait(lk, [&] { return abandon_ || stopping_ || !queue_.empty(); });
      if (abandon_ || queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    queue_cv_.notify_all();  // room for a file's next clip
    run(job);
  }
}

void Recorder::run(Job& job) {
  const Alarm& a = job.alarm;
  auto failed = [&](double media_s, int order, const std::string& file, const std::string& error) {
    spdlog::error("evidence: {}", error);
    Result r;
    r.media_s = media_s;
    r.id = a.id;
    r.order = order;
    r.line = {{"kind", "evidence.error"}, {"id", a.id}, {"type", a.type}, {"detector", a.detector},
              {"media_time", ms(media_s)}, {"details", {{"error", error}, {"file", file}}}};
    {
      std::lock_guard lk(results_mu_);
      counters_.last_error = error;
    }
    deliver(std::move(r));
  };
  if (job.part == Part::Clip) {
    WriteResult w = write_clip(job.material, a.container, a.clip_path);
    {
      std::lock_guard lk(results_mu_);
      ++(w.ok ? counters_.clips : counters_.clips_failed);
      counters_.bytes += w.bytes;
    }
    if (!w.ok) {
      // (Its clear thumbnail then names no clip.)
      if (failed_clips_.size() > 1000) failed_clips_.clear();
      failed_clips_.insert(a.id);
      failed(a.raise_s, 0, a.clip_path, w.error);
      return;
    }
    nlohmann::json ev = {{"clip", a.clip_path},
                         {"container", a.container},
                         {"bytes", w.bytes},
                         {"media_start_s", ms(w.media_start_s)},
                         {"media_end_s", ms(w.media_end_s)},
                         {"pre_roll_s", ms(a.raise_s - w.media_start_s)},
                         {"post_roll_s", ms(std::max(0.0, w.media_end_s - a.raise_s))},
                         {"complete", job.complete && !job.material.start_cut}};
    if (!job.complete && !job.note.empty()) ev["reason"] = job.note;
    else if (job.material.start_cut) ev["reason"] = "the buffer did not reach back pre_s before the alarm";
    if (job.material.has_video) {
      WriteResult t = write_thumbnail(job.material, a.raise_s, a.raise_jpg);
      {
        std::lock_guard lk(results_mu_);
        ++(t.ok ? counters_.thumbnails : counters_.thumbnails_failed);
        counters_.bytes += t.bytes;
      }
      if (t.ok) {
        ev["thumbnail_raise"] = a.raise_jpg;
        ev["thumbnail_raise_media_time"] = ms(t.media_start_s);
      } else {
        failed(a.raise_s, 1, a.raise_jpg, t.error);
      }
    }
    Result r;
    r.media_s = a.raise_s;
    r.id = a.id;
    r.order = 0;
    r.line = {{"kind", "evidence"}, {"id", a.id}, {"type", a.type}, {"detector", a.detector},
              {"media_time", ms(a.raise_s)}, {"details", {{"evidence", ev}}}};
    deliver(std::move(r));
  } else {
    if (!job.material.has_video) return;
    const double clear_s = a.clear_s.value_or(a.raise_s);
    WriteResult t = write_thumbnail(job.material, clear_s, a.clear_jpg);
    {
      std::lock_guard lk(results_mu_);
      ++(t.ok ? counters_.thumbnails : counters_.thumbnails_failed);
      counters_.bytes += t.bytes;
    }
    if (!t.ok) {
      failed(clear_s, 2, a.clear_jpg, t.error);
      return;
    }
    nlohmann::json ev = {{"thumbnail_clear", a.clear_jpg}, {"thumbnail_clear_media_time", ms(t.media_start_s)}};
    if (!failed_clips_.count(a.id)) ev["clip"] = a.clip_path;
    Result r;
    r.media_s = clear_s;
    r.id = a.id;
    r.order = 3;
    r.line = {{"kind", "evidence"}, {"id", a.id}, {"type", a.type}, {"detector", a.detector},
              {"media_time", ms(clear_s)}, {"details", {{"evidence", ev}}}};
    deliver(std::move(r));
  }
  retain(file_stem_ + "-" + a.id);
}

// Oldest first, a clip with its thumbnails, until at most max_clips clips
// and max_bytes bytes remain; the files of the latest alarm stay whatever
// their size.
void Recorder::retain(const std::string& keep_prefix) {
  struct Group {
    fs::file_time_type oldest = fs::file_time_type::max();
    std::uintmax_t bytes = 0;
    bool clip = false;
    std::vector<fs::path> files;
  };
  std::map<std::string, Group> groups;
  std::error_code ec;
  const std::string prefix = file_stem_ + "-";
  for (const auto& e : fs::directory_iterator(settings_.dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + kIdChars) continue;
    const std::string ext = e.path().extension().string();
    if (ext != ".ts" && ext != ".mkv" && ext != ".jpg") continue;
    std::error_code fec;
    if (!e.is_regular_file(fec)) continue;
    Group& g = groups[name.substr(0, prefix.size() + kIdChars)];
    g.oldest = std::min(g.oldest, e.last_write_time(fec));
    g.bytes += e.file_size(fec);
    g.clip = g.clip || ext == ".ts" || ext == ".mkv";
    g.files.push_back(e.path());
  }
  std::vector<std::pair<std::string, Group*>> order;
  std::uintmax_t bytes = 0;
  std::int64_t clips = 0;
  for (auto& [key, g] : groups) {
    order.emplace_back(key, &g);
    bytes += g.bytes;
    clips += g.clip ? 1 : 0;
  }
  std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    return x.second->oldest != y.second->oldest ? x.second->oldest < y.second->oldest : x.first < y.first;
  });
  std::uint64_t deleted = 0;
  for (const auto& [key, g] : order) {
    if (clips <= settings_.max_clips && bytes <= static_cast<std::uintmax_t>(settings_.max_bytes)) break;
    if (key == keep_prefix) continue;
    for (const auto& f : g->files)
      if (fs::remove(f, ec)) ++deleted;
    bytes -= g->bytes;
    clips -= g->clip ? 1 : 0;
  }
  if (deleted) {
    std::lock_guard lk(results_mu_);
    counters_.deleted += deleted;
  }
}

void Recorder::deliver(Result r) {
  if (live_ && emit_) {
    emit_(std::move(r.line));
    return;
  }
  std::lock_guard lk(results_mu_);
  held_.push_back(std::move(r));
}

void Recorder::finish() {
  queue_due(true, "the input ended before the post-roll");
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::vector<Result> held;
  {
    std::lock_guard lk(results_mu_);
    held.swap(held_);
  }
  std::stable_sort(held.begin(), held.end(), [](const Result& x, const Result& y) {
    if (x.media_s != y.media_s) return x.media_s < y.media_s;
    if (x.id != y.id) return x.id < y.id;
    return x.order < y.order;
  });
  for (auto& r : held)
    if (emit_) emit_(std::move(r.line));
}

void Recorder::stop() {
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = abandon_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

nlohmann::json Recorder::summary() const {
  std::lock_guard lk(results_mu_);
  nlohmann::json j = {{"dir", settings_.dir},
                      {"clips_written", counters_.clips},
                      {"clips_failed", counters_.clips_failed},
                      {"clips_dropped", counters_.dropped},
                      {"thumbnails_written", counters_.thumbnails},
                      {"thumbnails_failed", counters_.thumbnails_failed},
                      {"bytes_written", counters_.bytes},
                      {"files_deleted", counters_.deleted},
                      {"buffer_peak_bytes", peak_buffer_bytes_.load(std::memory_order_relaxed)}};
  if (!counters_.last_error.empty()) j["last_error"] = counters_.last_error;
  return j;
}

}  // namespace avmon::evidence
