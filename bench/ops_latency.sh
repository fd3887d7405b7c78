#!/usr/bin/env bash
# How fast /metrics and /healthz answer while avmon analyses a 1080p25 H.264
# file at full speed (no --realtime: decode and detectors use every core).
# Target: both within 50 ms.
#   bench/ops_latency.sh [BUILD_DIR]    (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d /tmp/avmon-bench-ops.XXXXXX)
trap 'rm -rf "$work"' EXIT
clip=$work/clip1080.mp4
ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i testsrc2=s=1920x1080:r=25:d=40 \
  -f lavfi -i anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:d=40 -ac 2 \
  -c:v libx264 -preset ultrafast -g 50 -pix_fmt yuv420p -c:a aac "$clip"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/avmon" run --input "$clip" --events "$work/events.jsonl" --http "127.0.0.1:$port" 2>"$work/avmon.err" &
pid=$!
python3 - "$port" "$pid" <<'PY'
import os, sys, time, http.client
port, pid = int(sys.argv[1]), int(sys.argv[2])
samples = {"/metrics": [], "/healthz": []}
deadline = time.time() + 120
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        break
    for path in samples:
        try:
            t0 = time.perf_counter()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            r = c.getresponse(); r.read(); c.close()
            if r.status == 200:
                samples[path].append((time.perf_counter() - t0) * 1000)
        except OSError:
            pass
    time.sleep(0.05)
for path, ms in samples.items():
    if not ms:
        print(f"{path}: no answers"); continue
    ms.sort()
    q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
    print(f"{path}: n={len(ms)} p50={q(0.5):.1f} ms p95={q(0.95):.1f} ms p99={q(0.99):.1f} ms max={ms[-1]:.1f} ms"
          f" -> {'OK' if ms[-1] < 50 else 'over 50 ms'}")
PY
wait "$pid"
frames=$(tail -1 "$work/events.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["frames"]["video"])')
echo "analysed $frames frames of 1080p25 at full speed ($(nproc) cores) while polling"
