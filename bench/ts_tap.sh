#!/usr/bin/env bash
# What the transport layer's packet tap costs on a 40 Mbit/s multiplex of
# four services of about 9 Mbit/s each, as a DVB-T/C/S multiplex carries
# them; avmon decodes and analyses the first service, as on such a feed.
#
#   bench/ts_tap.sh [build/avmon] [SECONDS] [sd|hd]   (default: 6 s of an SD multiplex)
#
# sd: four 576i-sized MPEG-2 services (the cheapest decode, so the largest
# share for the tap); hd: four 1080p25 H.264 services.
#
# Prints, for the same clip in the same run:
#   - the analyser alone in CPU time per packet, and as a share of one core
#     at 40 Mbit/s (avmon_bench_ts; the target: at most 2%)
#   - in instructions (valgrind callgrind: counts, unlike seconds, do not
#     depend on what else the machine is doing): avmon with the tap / avmon
#     with transport.enabled: false, the analyser's share of avmon's
#     instructions (Analyzer::feed, inclusive) and its instructions per
#     transport packet, both avmon runs against ffmpeg decoding the same
#     service (-f null)
set -euo pipefail
avmon=${1:-build/avmon}; seconds=${2:-6}; kind=${3:-sd}
command -v valgrind >/dev/null || { echo "valgrind is needed (scripts/setup installs it)" >&2; exit 2; }
cache=${AVMON_BENCH_CACHE:-$HOME/.cache/avmon-bench}
mkdir -p "$cache"
case $kind in
  sd) size=720x576 video=(-c:v mpeg2video -b:v 9M -minrate 9M -maxrate 9M -bufsize 1835k -g 12)
      clip=$cache/mux_40mbps_${seconds}s.ts ;;
  hd) size=1920x1080 video=(-c:v libx264 -preset veryfast -b:v 9M -minrate 9M -maxrate 9M -bufsize 4M -g 50
                            -x264-params nal-hrd=cbr)
      clip=$cache/mux_40mbps_hd_${seconds}s.ts ;;
  *) echo "bench/ts_tap.sh: the multiplex is sd or hd, not '$kind'" >&2; exit 2 ;;
esac
if [ ! -f "$clip" ]; then
  inputs=() maps=() programs=()
  for k in 0 1 2 3; do
    inputs+=(-f lavfi -i "testsrc2=size=$size:rate=25:duration=$seconds,hue=h=$((k * 90))"
             -f lavfi -i "sine=frequency=$((440 + 110 * k)):sample_rate=48000:duration=$seconds")
    maps+=(-map "$((2 * k)):v" -map "$((2 * k + 1)):a")
    programs+=(-program "program_num=$((k + 1)):title=Service $((k + 1)):st=$((2 * k)):st=$((2 * k + 1))")
  done
  # Constant 9 Mbit/s per picture (the encoder's rate control, padded), MP2
  # sound, the multiplex padded to 40 Mbit/s with null packets as a
  # broadcast multiplexer does.
  ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" "${maps[@]}" "${programs[@]}" \
    "${video[@]}" -c:a mp2 -b:a 192k \
    -f mpegts -muxrate 40000000 -pcr_period 30 "$clip.tmp.ts"
  mv "$clip.tmp.ts" "$clip"
fi
packets=$(( $(stat -c %s "$clip") / 188 ))
mbps=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$clip")
bench_ts=$(dirname "$avmon")/avmon_bench_ts
[ -x "$bench_ts" ] || { echo "$bench_ts is missing (ninja -C $(dirname "$avmon") avmon_bench_ts)" >&2; exit 2; }
"$bench_ts" "$clip" 40 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total() { "$(dirname "$0")/callgrind_total.sh" "$1"; }
run_avmon() {  # label, environment...
  local label=$1; shift
  env "$@" "$(dirname "$0")/valgrind.sh" --tool=callgrind --callgrind-out-file="$out/$label.cg" \
    "$avmon" run --input "$clip" --events /dev/null --log-level error >/dev/null 2>"$out/$label.err"
  total "$out/$label.err"
}
tap=$(run_avmon tap AVMON_TRANSPORT__ENABLED=true)
notap=$(run_avmon notap AVMON_TRANSPORT__ENABLED=false)
"$(dirname "$0")/valgrind.sh" --tool=callgrind --callgrind-out-file="$out/ffmpeg.cg" \
  ffmpeg -nostdin -loglevel error -i "$clip" -map 0:p:1:v -map 0:p:1:a -f null - 2>"$out/ffmpeg.err"
ffmpeg_ir=$(total "$out/ffmpeg.err")
# The analyser's inclusive cost: every packet enters through Analyzer::feed.
# (Its own line only: the listing repeats names in call-site lines.)
feed=$(callgrind_annotate --inclusive=yes --threshold=100 "$out/tap.cg" 2>/dev/null |
  awk '$0 ~ /src\/ts\/analyzer.cpp:avmon::ts::Analyzer::feed\(/ && !found {gsub(",", "", $1); print $1; found = 1}')
awk -v tap="$tap" -v notap="$notap" -v ff="$ffmpeg_ir" -v feed="$feed" -v packets="$packets" -v mbps="$mbps" \
    -v seconds="$seconds" 'BEGIN {
  printf "clip: %d s, %.1f Mbit/s, %d packets\n", seconds, mbps / 1e6, packets;
  printf "instructions: avmon with tap %.0f, without %.0f, ffmpeg (decode service 1) %.0f\n", tap, notap, ff;
  printf "avmon with tap / without: x%.4f (+%.2f%%)\n", tap / notap, 100 * (tap - notap) / notap;
  printf "analyser (Analyzer::feed, inclusive): %.2f%% of avmon, %.0f instructions per packet\n",
         100 * feed / tap, feed / packets;
  printf "avmon / ffmpeg: with tap x%.3f, without x%.3f\n", tap / ff, notap / ff;
}'
