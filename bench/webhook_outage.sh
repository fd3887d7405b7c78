#!/usr/bin/env bash
# The webhook receiver is down for 60 s in the middle of `avmon demo` (60 s,
# real time): every event must be delivered once it returns, none lost,
# counted by webhook-id.   bench/webhook_outage.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d /tmp/avmon-bench-outage.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
cat >"$work/avmon.yaml" <<YAML
notifiers:
  max_backoff_s: 10
  drain_timeout_s: 60
  webhook:
    url: http://127.0.0.1:$port/hook
    secret: $secret
YAML
receiver() { python3 tests/integration/ops/receiver.py --port "$port" --log "$work/received.jsonl" --secret "$secret" --lifetime "$1" >/dev/null & }
receiver 5                        # up for the first 5 s ...
"$build/avmon" demo --config "$work/avmon.yaml" --events "$work/events.jsonl" >/dev/null 2>"$work/avmon.err" &
pid=$!
start=$(date +%s)
sleep 65                          # ... down from 5 s to 65 s (the demo ends at 60 s) ...
receiver 120                      # ... and back.
wait "$pid"
end=$(date +%s)
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
events = [json.loads(l) for l in open(f"{w}/events.jsonl")]
log = [json.loads(l) for l in open(f"{w}/received.jsonl")]
want = {e["id"] + "_" + e["kind"].replace(".", "_") for e in events if "id" in e}
got = {r["id"] for r in log if r["status"] == 200}
bad = [r for r in log if r["sig_ok"] is not True]
print(f"events written: {len(events)} (with a defect id: {len(want)}); delivered webhook-ids: {len(got)}; "
      f"requests: {len(log)}; bad signatures: {len(bad)}")
missing = want - got
print("lost:", sorted(missing) if missing else "none")
print("summary delivered:", any(r["body"].get("kind") == "stream.summary" for r in log if r["status"] == 200))
sys.exit(1 if missing or bad else 0)
PY
echo "wall time of the run including the drain: $((end - start)) s"
grep -c "retrying" "$work/avmon.err" | sed 's/^/retry warnings logged: /'
