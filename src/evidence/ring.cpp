#include "evidence/ring.hpp"

#include <algorithm>

namespace avmon::evidence {

namespace {
// A packet whose timestamp is this far from the latest frame's belongs to
// another stretch of the clock (a jump, a wrap): it waits for a frame of its
// own stretch to be placed in media time.
constexpr double kAnchorSpanS = 10.0;
// Event media times are rounded to the millisecond.
constexpr double kEpsS = 1e-3;
}  // namespace

Track::Track(const AVStream& st, bool is_video) : par(avcodec_parameters_alloc()), time_base(st.time_base), video(is_video) {
  if (par) avcodec_parameters_copy(par, st.codecpar);
}
Track::~Track() { avcodec_parameters_free(&par); }

bool ts_carries(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_MPEG1VIDEO:
    case AV_CODEC_ID_MPEG2VIDEO:
    case AV_CODEC_ID_MPEG4:
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_HEVC:
    case AV_CODEC_ID_CAVS:
    case AV_CODEC_ID_DIRAC:
    case AV_CODEC_ID_VC1:
    case AV_CODEC_ID_MP2:
    case AV_CODEC_ID_MP3:
    case AV_CODEC_ID_AAC:
    case AV_CODEC_ID_AAC_LATM:
    case AV_CODEC_ID_AC3:
    case AV_CODEC_ID_EAC3:
    case AV_CODEC_ID_DTS:
    case AV_CODEC_ID_TRUEHD:
    case AV_CODEC_ID_OPUS:
    case AV_CODEC_ID_S302M:
      return true;
    default:
      return false;
  }
}

void Ring::reset(bool has_video) {
  entries_.clear();
  keys_.clear();
  tracks_.clear();
  front_seq_ = 0;
  unresolved_ = 0;
  bytes_ = 0;
  newest_s_ = NAN;
  dropped_ = false;
  has_video_ = has_video;
}

void Ring::add(const InputPacket& p, double keep_from_s) {
  if (!p.packet || !p.stream) return;
  const AVPacket& in = *p.packet;
  const bool key = has_video_ ? (p.video && (in.flags & AV_PKT_FLAG_KEY)) : !p.video;
  // The buffer begins at a random-access point; what comes before the first
  // one could not be decoded from the clip.
  if (entries_.empty() && !key) return;
  if (has_video_ == false && p.video) return;  // video the layout did not announce
  auto& track = tracks_[p.stream];
  if (!track) track = std::make_shared<const Track>(*p.stream, p.video);
  Entry e;
  e.packet.reset(av_packet_alloc());
  if (!e.packet || av_packet_ref(e.packet.get(), &in) < 0) return;
  e.track = track;
  e.key = key;
  const std::int64_t ts = in.pts != AV_NOPTS_VALUE ? in.pts : in.dts;
  if (ts != AV_NOPTS_VALUE) e.raw_s = static_cast<double>(ts) * av_q2d(p.stream->time_base);
  const bool anchored = !std::isnan(p.anchor_raw_s) && !std::isnan(p.anchor_media_s);
  if (!std::isnan(e.raw_s)) {
    if (anchored && std::abs(e.raw_s - p.anchor_raw_s) < kAnchorSpanS)
      e.media_s = e.raw_s + (p.anchor_media_s - p.anchor_raw_s);
    else
      ++unresolved_;
  }
  bytes_ += in.size;
  peak_bytes_ = std::max(peak_bytes_, bytes_);
  if (key) keys_.push_back(front_seq_ + entries_.size());
  const bool leads = p.video || !has_video_;
  const double media_s = e.media_s;
  entries_.push_back(std::move(e));
  if (leads && !std::isnan(media_s)) newest_s_ = std::isnan(newest_s_) ? media_s : std::max(newest_s_, media_s);
  if (unresolved_ > 0 && anchored) resolve(p.anchor_raw_s, p.anchor_media_s);
  trim(keep_from_s);
}

void Ring::resolve(double anchor_raw_s, double anchor_media_s) {
  for (auto it = entries_.rbegin(); it != entries_.rend() && unresolved_ > 0; ++it) {
    if (!std::isnan(it->media_s) || std::isnan(it->raw_s) || std::abs(it->raw_s - anchor_raw_s) >= kAnchorSpanS)
      continue;
    it->media_s = it->raw_s + (anchor_media_s - anchor_raw_s);
    --unresolved_;
    if (it->track->video || !has_video_) newest_s_ = std::isnan(newest_s_) ? it->media_s : std::max(newest_s_, it->media_s);
  }
}

void Ring::drop_front() {
  Entry& e = entries_.front();
  bytes_ -= e.packet->size;
  if (std::isnan(e.media_s) && !std::isnan(e.raw_s) && unresolved_ > 0) --unresolved_;
  if (!keys_.empty() && keys_.front() == front_seq_) keys_.pop_front();
  entries_.pop_front();
  ++front_seq_;
  dropped_ = true;
}

void Ring::trim(double keep_from_s) {
  while (!entries_.empty()) {
    const bool over_bytes = bytes_ > max_bytes_;
    if (keys_.size() < 2) {
      // One GOP larger than the byte bound: nothing of it can be kept whole.
      if (!over_bytes) break;
      while (!entries_.empty()) drop_front();
      break;
    }
    const double next_key_s = entries_[static_cast<std::size_t>(keys_[1] - front_seq_)].media_s;
    // The buffer still spans buffer_s from the next random-access point on.
    const bool over_time = !std::isnan(next_key_s) && !std::isnan(newest_s_) && newest_s_ - next_key_s >= buffer_s_;
    if (!over_bytes && !(over_time && next_key_s <= keep_from_s)) break;
    const std::uint64_t next = keys_[1];
    while (front_seq_ < next) drop_front();
  }
}

double Ring::oldest_s() const {
  for (const auto& e : entries_)
    if (!std::isnan(e.media_s)) return e.media_s;
  return NAN;
}

std::string Ring::container() const {
  if (tracks_.empty()) return {};
  for (const auto& [st, t] : tracks_)
    if (!t->par || !ts_carries(t->par->codec_id)) return "matroska";
  return "mpegts";
}

ClipMaterial Ring::collect(double from_s, double to_s) const {
  ClipMaterial m;
  m.has_video = has_video_;
  // The last random-access point at or before from_s, else the oldest.
  std::size_t start = entries_.size();
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    const auto i = static_cast<std::size_t>(*it - front_seq_);
    if (std::isnan(entries_[i].media_s)) continue;
    start = i;
    if (entries_[i].media_s <= from_s + kEpsS) break;
  }
  if (start >= entries_.size()) return m;
  const double start_s = entries_[start].media_s;
  // (Not when the input itself began after from_s.)
  m.start_cut = dropped_ && start_s > from_s + 1e-3;
  // Video in decoding order up to the last picture shown at or before to_s.
  std::size_t video_end = start;
  for (std::size_t i = start; i < entries_.size(); ++i)
    if (entries_[i].track->video && !std::isnan(entries_[i].media_s) && entries_[i].media_s <= to_s + kEpsS) video_end = i;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (std::isnan(e.media_s)) continue;
    bool take = false;
    if (e.track->video)
      // Leading pictures of an open GOP refer to the GOP before: left out.
      take = i >= start && i <= video_end && e.media_s >= start_s - kEpsS;
    else
      take = e.media_s >= start_s - kEpsS && e.media_s <= to_s + kEpsS;
    if (!take) continue;
    ClipPacket c;
    c.packet.reset(av_packet_clone(e.packet.get()));
    if (!c.packet) continue;
    c.track = e.track;
    c.media_s = e.media_s;
    m.end_s = std::isnan(m.end_s) ? e.media_s : std::max(m.end_s, e.media_s);
    m.packets.push_back(std::move(c));
  }
  m.start_s = start_s;
  return m;
}

}  // namespace avmon::evidence
