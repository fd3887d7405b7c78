#include "evidence/clip_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include "app/telemetry.hpp"  // encode_jpeg: the thumbnails' encoder
#include "pipeline/frames.hpp"

namespace avmon::evidence {

namespace {

std::string av_message(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

struct OutputFree {
  void operator()(AVFormatContext* oc) const {
    if (!oc) return;
    if (oc->pb) avio_closep(&oc->pb);
    avformat_free_context(oc);
  }
};

// Puts the finished file in place, or removes what was written.
WriteResult finish_file(WriteResult r, const std::string& part, const std::string& path) {
  std::error_code ec;
  if (r.ok) {
    r.bytes = static_cast<std::uint64_t>(std::filesystem::file_size(part, ec));
    if (!ec) std::filesystem::rename(part, path, ec);
    if (ec) {
      r.ok = false;
      r.error = "cannot write " + path + ": " + ec.message();
    }
  }
  if (!r.ok) std::filesystem::remove(part, ec);
  return r;
}

}  // namespace

WriteResult write_clip(const ClipMaterial& m, const std::string& container, const std::string& path) {
  WriteResult r;
  const std::string part = path + ".part";
  auto fail = [&](const std::string& what, int err) {
    r.ok = false;
    r.error = "cannot write " + path + ": " + what + (err ? av_message(err) : std::string());
    return finish_file(r, part, path);
  };
  if (m.packets.empty()) return fail("nothing buffered for it", 0);
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, container.c_str(), part.c_str());
  std::unique_ptr<AVFormatContext, OutputFree> oc(raw);
  if (err < 0 || !oc) return fail("", err);
  // One output stream per buffered stream, codec parameters as they came.
  std::map<const Track*, int> index;
  for (const auto& p : m.packets) {
    if (index.count(p.track.get())) continue;
    AVStream* st = avformat_new_stream(oc.get(), nullptr);
    if (!st || avcodec_parameters_copy(st->codecpar, p.track->par) < 0) return fail("cannot add a stream", 0);
    st->codecpar->codec_tag = 0;
    st->time_base = p.track->time_base;
    index[p.track.get()] = st->index;
  }
  // As the ffmpeg CLI muxes MPEG-TS: 0.7 s between PCR and decoding times,
  // the buffer model players expect.
  oc->max_delay = 700000;
  if ((err = avio_open(&oc->pb, part.c_str(), AVIO_FLAG_WRITE)) < 0) return fail("", err);
  if ((err = avformat_write_header(oc.get(), nullptr)) < 0) return fail("", err);

  // Presentation times keep their relation to media time; the earliest
  // decoding time becomes 0.
  auto reorder_s = [](const ClipPacket& p) {
    const AVPacket& k = *p.packet;
    if (k.pts == AV_NOPTS_VALUE || k.dts == AV_NOPTS_VALUE) return 0.0;
    return static_cast<double>(k.pts - k.dts) * av_q2d(p.track->time_base);
  };
  double origin_s = m.packets.front().media_s;
  for (const auto& p : m.packets) origin_s = std::min(origin_s, p.media_s - reorder_s(p));
  std::vector<std::int64_t> last_dts(oc->nb_streams, AV_NOPTS_VALUE);
  AVPacketPtr pkt(av_packet_alloc());
  if (!pkt) return fail("out of memory", 0);
  for (const auto& p : m.packets) {
    const int i = index[p.track.get()];
    const AVRational out_tb = oc->streams[i]->time_base;
    av_packet_unref(pkt.get());
    if ((err = av_packet_ref(pkt.get(), p.packet.get())) < 0) return fail("", err);
    const double pts_s = p.media_s - origin_s, dts_s = pts_s - reorder_s(p);
    std::int64_t pts = std::llround(pts_s / av_q2d(out_tb)), dts = std::llround(dts_s / av_q2d(out_tb));
    auto& last = last_dts[static_cast<std::size_t>(i)];
    if (last != AV_NOPTS_VALUE && dts <= last) dts = last + 1;  // rounding between time bases
    pts = std::max(pts, dts);
    last = dts;
    pkt->pts = pts;
    pkt->dts = dts;
    pkt->duration = av_rescale_q(p.packet->duration, p.track->time_base, out_tb);
    pkt->stream_index = i;
    pkt->pos = -1;
    if ((err = av_interleaved_write_frame(oc.get(), pkt.get())) < 0) return fail("", err);
  }
  if ((err = av_write_trailer(oc.get())) < 0) return fail("", err);
  if ((err = avio_closep(&oc->pb)) < 0) return fail("", err);
  if (oc->pb && oc->pb->error < 0) return fail("", oc->pb->error);
  r.ok = true;
  r.media_start_s = m.start_s;
  r.media_end_s = m.end_s;
  return finish_file(r, part, path);
}

WriteResult write_thumbnail(const ClipMaterial& m, double at_s, const std::string& path) {
  WriteResult r;
  const std::string part = path + ".part";
  auto fail = [&](const std::string& why) {
    r.ok = false;
    r.error = "cannot write " + path + ": " + why;
    return finish_file(r, part, path);
  };
  const Track* track = nullptr;
  std::map<std::int64_t, double> media_of;  // presentation timestamp -> media time
  for (const auto& p : m.packets)
    if (p.track->video) {
      if (!track) track = p.track.get();
      if (p.track.get() == track && p.packet->pts != AV_NOPTS_VALUE) media_of[p.packet->pts] = p.media_s;
    }
  if (!track) return fail("no pictures buffered");
  const AVCodec* codec = avcodec_find_decoder(track->par->codec_id);
  if (!codec) return fail("no decoder");
  AVCodecContextPtr dec(avcodec_alloc_context3(codec));
  if (!dec || avcodec_parameters_to_context(dec.get(), track->par) < 0) return fail("cannot set up the decoder");
  dec->pkt_timebase = track->time_base;
  dec->thread_count = 1;  // beside the analysis: one core at most
  if (avcodec_open2(dec.get(), codec, nullptr) < 0) return fail("cannot open the decoder");

  AVFramePtr chosen;
  double chosen_s = NAN;
  bool done = false;
  auto take_frames = [&] {
    for (;;) {
      AVFramePtr f = make_av_frame();
      if (!f || avcodec_receive_frame(dec.get(), f.get()) < 0) return;
      auto it = media_of.find(f->best_effort_timestamp);
      if (it == media_of.end()) continue;
      if (!done) {
        chosen = std::move(f);
        chosen_s = it->second;
        done = chosen_s >= at_s - 1e-3;  // at_s is rounded to the millisecond
      }
    }
  };
  for (const auto& p : m.packets) {
    if (done) break;
    if (p.track.get() != track) continue;
    avcodec_send_packet(dec.get(), p.packet.get());  // a refused packet: the next picture is what there is
    take_frames();
  }
  if (!done) {
    avcodec_send_packet(dec.get(), nullptr);
    take_frames();
  }
  if (!chosen) return fail("no picture decoded");
  BusVideoFrame frame(std::move(chosen), 0, chosen_s, 0, DecodeInfo{});
  const std::string jpeg = encode_jpeg(frame.bgr());
  if (jpeg.empty()) return fail("cannot encode the picture");
  std::FILE* f = std::fopen(part.c_str(), "wb");
  if (!f) return fail(std::strerror(errno));
  const bool written = std::fwrite(jpeg.data(), 1, jpeg.size(), f) == jpeg.size();
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) return fail(std::strerror(written ? errno : write_errno));
  r.ok = true;
  r.media_start_s = r.media_end_s = chosen_s;
  return finish_file(r, part, path);
}

}  // namespace avmon::evidence
