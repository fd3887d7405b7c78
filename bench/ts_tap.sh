#!/usr/bin/env bash
# What the transport layer's packet tap costs, in instructions (valgrind
# callgrind: counts, unlike seconds, do not depend on what else the machine
# is doing), on a 40 Mbit/s multiplex of four SD MPEG-2 services, each
# about 9 Mbit/s, as a DVB-T/C/S multiplex carries them. avmon decodes and
# analyses the first service, as it would on such a feed.
#
#   bench/ts_tap.sh [build/avmon] [SECONDS]        (default: 6 s of multiplex)
#
# Prints, for the same clip in the same run:
#   - avmon with the tap / avmon with transport.enabled: false  (target: <= 1.02)
#   - the analyser's share of avmon's instructions (Analyzer::feed, inclusive)
#   - the analyser's instructions per transport packet
#   - both avmon runs against ffmpeg decoding the same service (-f null)
set -euo pipefail
avmon=${1:-build/avmon}; seconds=${2:-6}
command -v valgrind >/dev/null || { echo "valgrind is needed (scripts/setup installs it)" >&2; exit 2; }
cache=${AVMON_BENCH_CACHE:-$HOME/.cache/avmon-bench}
mkdir -p "$cache"
clip=$cache/mux_40mbps_${seconds}s.ts
if [ ! -f "$clip" ]; then
  inputs=() maps=() programs=()
  for k in 0 1 2 3; do
    inputs+=(-f lavfi -i "testsrc2=size=720x576:rate=25:duration=$seconds,hue=h=$((k * 90))"
             -f lavfi -i "sine=frequency=$((440 + 110 * k)):sample_rate=48000:duration=$seconds")
    maps+=(-map "$((2 * k)):v" -map "$((2 * k + 1)):a")
    programs+=(-program "program_num=$((k + 1)):title=Service $((k + 1)):st=$((2 * k)):st=$((2 * k + 1))")
  done
  # Constant 9 Mbit/s per picture (the encoder's rate control, padded), MP2
  # sound, the multiplex padded to 40 Mbit/s with null packets as a
  # broadcast multiplexer does.
  ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" "${maps[@]}" "${programs[@]}" \
    -c:v mpeg2video -b:v 9M -minrate 9M -maxrate 9M -bufsize 1835k -g 12 -c:a mp2 -b:a 192k \
    -f mpegts -muxrate 40000000 -pcr_period 30 "$clip.tmp.ts"
  mv "$clip.tmp.ts" "$clip"
fi
packets=$(( $(stat -c %s "$clip") / 188 ))
mbps=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$clip")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total() { grep -h Collected "$1" | awk '{s += $NF} END {printf "%.0f", s}'; }
run_avmon() {  # label, environment...
  local label=$1; shift
  env "$@" valgrind --tool=callgrind --callgrind-out-file="$out/$label.cg" \
    "$avmon" run --input "$clip" --events /dev/null --log-level error >/dev/null 2>"$out/$label.err"
  total "$out/$label.err"
}
tap=$(run_avmon tap AVMON_TRANSPORT__ENABLED=true)
notap=$(run_avmon notap AVMON_TRANSPORT__ENABLED=false)
valgrind --tool=callgrind --callgrind-out-file="$out/ffmpeg.cg" \
  ffmpeg -nostdin -loglevel error -i "$clip" -map 0:p:1:v -map 0:p:1:a -f null - 2>"$out/ffmpeg.err"
ffmpeg_ir=$(total "$out/ffmpeg.err")
# The analyser's inclusive cost: every packet enters through Analyzer::feed.
# (Its own line only: the listing repeats names in call-site lines.)
feed=$(callgrind_annotate --inclusive=yes "$out/tap.cg" 2>/dev/null |
  awk '$0 ~ /src\/ts\/analyzer.cpp:avmon::ts::Analyzer::feed\(/ {gsub(",", "", $1); print $1; exit}')
awk -v tap="$tap" -v notap="$notap" -v ff="$ffmpeg_ir" -v feed="$feed" -v packets="$packets" -v mbps="$mbps" \
    -v seconds="$seconds" 'BEGIN {
  printf "clip: %d s, %.1f Mbit/s, %d packets\n", seconds, mbps / 1e6, packets;
  printf "instructions: avmon with tap %.0f, without %.0f, ffmpeg (decode service 1) %.0f\n", tap, notap, ff;
  printf "avmon with tap / without: x%.4f (+%.2f%%; target <= 2%%)\n", tap / notap, 100 * (tap - notap) / notap;
  printf "analyser (Analyzer::feed, inclusive): %.2f%% of avmon, %.0f instructions per packet\n",
         100 * feed / tap, feed / packets;
  printf "avmon / ffmpeg: with tap x%.3f, without x%.3f\n", tap / ff, notap / ff;
}'
