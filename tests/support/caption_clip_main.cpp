// avmon_caption_clip: writes an MPEG-TS clip whose pictures carry known
// closed captions, the way a broadcast encoder does: each picture gets
// A/53 cc_data as AV_FRAME_DATA_A53_CC side data and libx264 or the MPEG-2
// encoder (a53cc) writes it into the picture's user data.
//
//   avmon_caption_clip OUT.ts [--codec libx264|mpeg2video] [--duration S] [--fps N]
//                      [--cc1-until S] [--cc1-resume S] [--cc3-until S] [--s1-until S]
//                      [--no-cc-data]
//
// Before the "until" time of a channel (and on CC1 again from the "resume"
// time), its text runs continuously (a roll-up caption, one byte pair per
// picture); otherwise, and on channels
// not asked for, the constructs are padding (608 null pairs, invalid 708
// constructs): cc_data is present but carries no caption. --no-cc-data
// attaches no side data at all.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
}

#include "support/cc_data.hpp"

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "avmon_caption_clip: %s\n", msg.c_str());
  std::exit(1);
}

void check(int err, const char* what) {
  if (err < 0) {
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof buf);
    die(std::string(what) + ": " + buf);
  }
}

// An endless roll-up caption on one 608 channel, one byte pair per picture.
struct RollUp {
  int cc;
  std::vector<std::vector<std::uint8_t>> pairs;
  size_t next = 0;
  explicit RollUp(int channel) : cc(channel), pairs(avmon::test::cc608_rollup("CAPTION TEXT ON CC" + std::to_string(channel), channel)) {}
  std::vector<std::uint8_t> pair() {
    auto p = pairs[next];
    next = (next + 1) % pairs.size();
    return p;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: avmon_caption_clip OUT.ts [options]");
  std::string out = argv[1], codec_name = "libx264";
  double duration_s = 10, cc1_until = -1, cc1_resume = 1e9, cc3_until = -1, s1_until = -1;
  int fps = 25;
  bool no_cc = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--codec") codec_name = value();
    else if (a == "--duration") duration_s = std::stod(value());
    else if (a == "--fps") fps = std::stoi(value());
    else if (a == "--cc1-until") cc1_until = std::stod(value());
    else if (a == "--cc1-resume") cc1_resume = std::stod(value());
    else if (a == "--cc3-until") cc3_until = std::stod(value());
    else if (a == "--s1-until") s1_until = std::stod(value());
    else if (a == "--no-cc-data") no_cc = true;
    else die("unknown option " + a);
  }

  AVFormatContext* fmt = nullptr;
  check(avformat_alloc_output_context2(&fmt, nullptr, "mpegts", out.c_str()), "output");
  const AVCodec* codec = avcodec_find_encoder_by_name(codec_name.c_str());
  if (!codec) die("no encoder " + codec_name);
  AVCodecContext* enc = avcodec_alloc_context3(codec);
  enc->width = 320;
  enc->height = 240;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = {1, fps};
  enc->framerate = {fps, 1};
  enc->gop_size = fps;
  enc->max_b_frames = 2;
  enc->bit_rate = 300000;
  if (fmt->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* opts = nullptr;
  if (codec_name == "libx264") av_dict_set(&opts, "preset", "ultrafast", 0);
  av_dict_set(&opts, "a53cc", "1", 0);
  check(avcodec_open2(enc, codec, &opts), "open encoder");
  av_dict_free(&opts);
  AVStream* st = avformat_new_stream(fmt, nullptr);
  check(avcodec_parameters_from_context(st->codecpar, enc), "parameters");
  st->time_base = enc->time_base;
  check(avio_open(&fmt->pb, out.c_str(), AVIO_FLAG_WRITE), "open output");
  check(avformat_write_header(fmt, nullptr), "header");

  AVFrame* frame = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  RollUp cc1(1), cc3(3);
  int sequence = 0;
  auto drain = [&](bool flush) {
    check(avcodec_send_frame(enc, flush ? nullptr : frame), "encode");
    for (;;) {
      int err = avcodec_receive_packet(enc, pkt);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
      check(err, "receive packet");
      av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
      pkt->stream_index = st->index;
      check(av_interleaved_write_frame(fmt, pkt), "write");
    }
  };
  const int frames = static_cast<int>(duration_s * fps + 0.5);
  for (int n = 0; n < frames; ++n) {
    const double t = static_cast<double>(n) / fps;
    frame->format = enc->pix_fmt;
    frame->width = enc->width;
    frame->height = enc->height;
    check(av_frame_get_buffer(frame, 0), "frame buffer");
    // A moving bar, so the picture is programme, not a still.
    for (int y = 0; y < frame->height; ++y)
      for (int x = 0; x < frame->width; ++x)
        frame->data[0][y * frame->linesize[0] + x] = static_cast<std::uint8_t>(((x + n * 4) % 320) < 40 ? 200 : 60);
    for (int p = 1; p < 3; ++p)
      std::memset(frame->data[p], 128, static_cast<size_t>(frame->linesize[p] * frame->height / 2));
    frame->pts = n;
    if (!no_cc) {
      std::vector<std::uint8_t> cc;
      if (t < cc1_until || t >= cc1_resume) {
        auto p = cc1.pair();
        avmon::test::cc608(cc, 1, p[0], p[1]);
      } else {
        avmon::test::cc608_padding(cc, 1);
      }
      if (t < cc3_until) {
        auto p = cc3.pair();
        avmon::test::cc608(cc, 2, p[0], p[1]);
      } else {
        avmon::test::cc608_padding(cc, 2);
      }
      if (t < s1_until && n % 5 == 0) {
        avmon::test::cc708_text(cc, 1, "DTVCC " + std::to_string(n), sequence);
        sequence = (sequence + 1) & 3;
      }
      while (cc.size() < 3 * 20) cc.insert(cc.end(), {0xFA, 0x00, 0x00});  // 708 padding: not valid
      AVFrameSideData* sd = av_frame_new_side_data(frame, AV_FRAME_DATA_A53_CC, cc.size());
      if (!sd) die("side data");
      std::memcpy(sd->data, cc.data(), cc.size());
    }
    drain(false);
    av_frame_unref(frame);
  }
  drain(true);
  check(av_write_trailer(fmt), "trailer");
  avio_closep(&fmt->pb);
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&enc);
  avformat_free_context(fmt);
  return 0;
}
