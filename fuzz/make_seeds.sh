#!/usr/bin/env bash
# Seeds made at build time for the fuzz targets, in BUILD_DIR/seeds/<name>/:
# tiny clips (a few frames, small pictures, so that a fuzzing iteration is
# cheap) in the containers and codecs avmon meets, made with the ffmpeg CLI.
# Each pipeline seed ends with fuzz_pipeline's control byte (0x09: a
# seekable input read in 8 KiB blocks). The committed seeds are in
# fuzz/corpus/<name>/.                                fuzz/make_seeds.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1/seeds/pipeline"
[ -f "$1/seeds/.pipeline-done" ] && exit 0
mkdir -p "$out"
gen() {  # name, ffmpeg arguments after the inputs
  local name=$1; shift
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=s=64x48:r=25:d=0.4" \
    -f lavfi -i "sine=frequency=1000:sample_rate=48000:d=0.4" "$@" "$out/$name"
  printf '\x09' >> "$out/$name"
}
gen h264_aac.ts -c:v libx264 -preset ultrafast -g 5 -pix_fmt yuv420p -c:a aac -ac 2 -f mpegts
gen mpeg2_mp2.ts -c:v mpeg2video -g 5 -c:a mp2 -ac 1 -f mpegts
gen h264_s16.mkv -c:v libx264 -preset ultrafast -g 5 -pix_fmt yuv420p -c:a pcm_s16le -ac 1 -ar 8000 -f matroska
gen mpeg4_aac.mp4 -c:v mpeg4 -g 5 -c:a aac -movflags +faststart -f mp4
gen mjpeg_pcm.avi -c:v mjpeg -q:v 20 -c:a pcm_u8 -ac 1 -ar 8000 -f avi
gen vp8_vorbis.webm -c:v libvpx -deadline realtime -g 5 -c:a libvorbis -f webm
gen video_only.mkv -an -c:v mpeg2video -q:v 20 -f matroska
gen s16_mono.wav -vn -c:a pcm_s16le -ac 1 -ar 8000 -f wav
gen flac.flac -vn -c:a flac -ar 16000 -f flac
gen opus.ogg -vn -c:a libopus -f ogg
touch "$1/seeds/.pipeline-done"
