#!/usr/bin/env bash
# Instruction counts (valgrind callgrind) of ffmpeg's decode-only run and of
# avmon with no detectors, the video set, the audio set (with av_sync) and
# all of them, on the same clip. Counts, unlike seconds, do not depend on
# what else the machine is doing.
#   bench/instructions.sh [build/avmon] [SECONDS]      (default: 6 s of bench.py's 1080p25 clip)
#   AVMON_BENCH_EACH="captions format" bench/instructions.sh   also: each named detector alone
#   AVMON_BENCH_ONLY_EACH=1 ...                                 only "none" and each named detector
set -euo pipefail
avmon=${1:-build/avmon}; seconds=${2:-6}
cache=${AVMON_BENCH_CACHE:-$HOME/.cache/avmon-bench}
src=$cache/tree_1080p25_60s.mp4
[ -f "$src" ] || python3 "$(dirname "$0")/bench.py" --avmon "$avmon" --runs 1 >/dev/null
clip=$cache/tree_1080p25_${seconds}s_cut.mp4
[ -f "$clip" ] || ffmpeg -hide_banner -loglevel error -y -i "$src" -t "$seconds" -c copy "$clip"
out=$(mktemp -d)
names=$("$avmon" detectors | grep -v '^ ' | grep -v '^$' | cut -d' ' -f1)
video="black freeze corruption test_pattern flash"
audio="silence channel_silent clipping phase_inversion tone loudness av_sync"
count() { "$(dirname "$0")/callgrind_total.sh" "$1"; }
run() {  # label, enabled detectors...
  local label=$1; shift; local envs=()
  for n in $names; do
    local on=false
    for e in "$@"; do [ "$e" = "$n" ] && on=true; done
    envs+=("AVMON_DETECTORS__${n^^}__ENABLED=$on")
  done
  env "${envs[@]}" "$(dirname "$0")/valgrind.sh" --tool=callgrind --callgrind-out-file="$out/$label.cg" \
    "$avmon" run --input "$clip" --events /dev/null --log-level error >/dev/null 2>"$out/$label.err"
  echo "$label $(count "$out/$label.err")"
}
each=${AVMON_BENCH_EACH:-}
{
  if [ -z "${AVMON_BENCH_ONLY_EACH:-}" ]; then
    "$(dirname "$0")/valgrind.sh" --tool=callgrind --callgrind-out-file="$out/ffmpeg.cg" ffmpeg -nostdin -loglevel error -i "$clip" -f null - 2>"$out/ffmpeg.err"
    echo "ffmpeg $(count "$out/ffmpeg.err")"
  fi
  run none
  if [ -z "${AVMON_BENCH_ONLY_EACH:-}" ]; then
    run video $video
    run audio $audio
    run all $names
  fi
  for d in $each; do run "only_$d" "$d"; done
} | tee "$out/counts"
awk -v each="$each" '{c[$1] = $2} END {
  if ("all" in c) {
    printf "avmon (all) / ffmpeg: x%.3f\n", c["all"] / c["ffmpeg"];
    printf "video detectors: +%.1f%% over no detectors (target <= 5%%)\n", 100 * (c["video"] - c["none"]) / c["none"];
    printf "audio detectors: +%.1f%% over no detectors (target <= 3%%)\n", 100 * (c["audio"] - c["none"]) / c["none"];
  }
  n = split(each, names, " ");
  for (i = 1; i <= n; i++)
    printf "%s alone: +%.3f%% over no detectors (target <= 1%%)\n", names[i], 100 * (c["only_" names[i]] - c["none"]) / c["none"];
}' "$out/counts"
rm -rf "$out"
