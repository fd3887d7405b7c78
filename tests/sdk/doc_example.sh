#!/usr/bin/env bash
# Builds the plugin example of docs/plugins.md exactly as the page says, out
# of tree, against an installed SDK, both with CMake (find_package(avmon))
# and with the page's pkg-config command line; then loads each build into
# avmon with the page's configuration (a path relative to the configuration
# file) and checks the events on a clip with a DC offset on one channel from
# 3 s to 6 s.
#
#   tests/sdk/doc_example.sh --prefix DIR [--install-from BUILD_DIR] --avmon BINARY WORK_DIR
#
# --install-from: first `cmake --install BUILD_DIR --component dev --prefix DIR`
# (the suites do so into a scratch folder); without it DIR must already hold
# the SDK (the package stage: /usr, from the installed avmon-dev).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
doc="$here/../../docs/plugins.md"
prefix="" build_dir="" avmon=""
while [ $# -gt 1 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --install-from) build_dir=$2; shift 2 ;;
    --avmon) avmon=$2; shift 2 ;;
    *) echo "doc_example.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
work=${1:?usage: doc_example.sh --prefix DIR [--install-from BUILD] --avmon BINARY WORK_DIR}
[ -n "$prefix" ] && [ -n "$avmon" ] || { echo "doc_example.sh: --prefix and --avmon are required" >&2; exit 2; }
fail() { echo "doc_example.sh: FAILED: $*" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work"
if [ -n "$build_dir" ]; then
  cmake --install "$build_dir" --component dev --prefix "$prefix" >/dev/null
fi

# The page's files: a fenced block right after "<!-- file: NAME -->".
# Its commands: the block after "<!-- run: NAME -->".
extract() {  # kind name -> block text
  awk -v tag="<!-- $1: $2 -->" '
    $0 == tag { want = 1; next }
    want && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$doc"
}
for f in dc_offset.cpp CMakeLists.txt dc.yaml; do
  extract file "$f" >"$work/src.$f"
  [ -s "$work/src.$f" ] || fail "docs/plugins.md has no block for $f"
done

# A clip: 10 s stereo 440 Hz, 0.2 (-14 dBFS) DC on the left channel from 3 s to 6 s, lossless (FLAC).
ffmpeg -loglevel error -y -f lavfi -i "aevalsrc=0.1*sin(2*PI*440*t)+0.2*between(t\,3\,6)|0.1*sin(2*PI*440*t):s=48000:d=10" \
  -c:a flac "$work/dc.flac"

check_events() {  # events file, label
  python3 - "$1" "$2" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
starts = [e for e in events if e["kind"] == "defect.start" and e["type"] == "dc_offset"]
ends = {e["id"]: e for e in events if e["kind"] == "defect.end"}
assert len(starts) == 1, f"{sys.argv[2]}: expected one dc_offset defect, got {len(starts)}: {starts}"
s = starts[0]
assert s["detector"] == "dc_offset" and s["channel"] == 0 and s["severity"] == "minor", s
e = ends[s["id"]]
# The onset and end are known to a window (0.5 s or a little more: whole blocks).
assert 2.3 <= s["media_time"] <= 3.0, f"onset {s['media_time']}"
assert 6.0 <= e["media_time"] <= 6.7, f"end {e['media_time']}"
assert 0.1 <= s["details"]["mean"] <= 0.201, s["details"]
print(f"{sys.argv[2]}: dc_offset on channel 0 from {s['media_time']} s to {e['media_time']} s")
PY
}

run_case() {  # label, directory with the built plugin under build/
  local dir=$1
  cp "$work/src.dc.yaml" "$dir/dc.yaml"
  "$avmon" detectors --config "$dir/dc.yaml" >"$dir/detectors.txt" || fail "$dir: avmon detectors refused the plugin"
  grep -q "^dc_offset (plugin $dir/build/libdc_offset.so)" "$dir/detectors.txt" ||
    fail "$dir: avmon detectors does not list dc_offset: $(head -c 400 "$dir/detectors.txt")"
  # From another directory: the plugin path is taken from the configuration's folder.
  (cd / && "$avmon" run --config "$dir/dc.yaml" --input "$work/dc.flac" --events "$dir/events.jsonl" 2>"$dir/avmon.log") ||
    fail "$dir: avmon run failed: $(tail -5 "$dir/avmon.log")"
  check_events "$dir/events.jsonl" "$(basename "$dir")"
}

# 1. CMake, with the page's CMakeLists.txt and commands.
mkdir -p "$work/cmake"
cp "$work/src.dc_offset.cpp" "$work/cmake/dc_offset.cpp"
cp "$work/src.CMakeLists.txt" "$work/cmake/CMakeLists.txt"
cmds=$(extract run cmake | sed 's/#.*//')
[ -n "$cmds" ] || fail "docs/plugins.md has no cmake commands"
(cd "$work/cmake" && CMAKE_PREFIX_PATH="$prefix" bash -euo pipefail -c "$cmds") >"$work/cmake.log" 2>&1 ||
  fail "the CMake build of the example: $(tail -20 "$work/cmake.log")"
run_case "$work/cmake"

# 2. pkg-config, with the page's command line.
mkdir -p "$work/pkgconfig/build"
cp "$work/src.dc_offset.cpp" "$work/pkgconfig/build/dc_offset.cpp"
cmd=$(extract run pkg-config)
[ -n "$cmd" ] || fail "docs/plugins.md has no pkg-config command"
(cd "$work/pkgconfig/build" && PKG_CONFIG_PATH="$prefix/share/pkgconfig" bash -euo pipefail -c "$cmd") \
  >"$work/pkgconfig.log" 2>&1 || fail "the pkg-config build of the example: $(tail -20 "$work/pkgconfig.log")"
run_case "$work/pkgconfig"
echo "doc_example.sh: ok"
