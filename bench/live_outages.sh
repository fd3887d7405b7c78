#!/usr/bin/env bash
# Soak test for live inputs: N consecutive outages of a UDP MPEG-TS feed on
# loopback. Checks that every outage is reported (signal_loss start) and
# recovered (signal_loss end), and that resident memory and open file
# descriptors after each recovery stay within 5% of their value after the
# first one.
#
#   bench/live_outages.sh [AVMON_BINARY] [OUTAGES] [PORT] [WARMUP_S]
#
# RSS of a fresh process creeps up for a minute or two on a steady feed,
# outages or not (allocator arenas of the decoder and worker threads settling),
# so the feed runs WARMUP_S (default 60) before the first outage.
#
# Prints one line per outage and a verdict; exit status 0 when it holds.
set -euo pipefail
avmon=${1:-build/avmon}
outages=${2:-20}
port=${3:-23400}
warmup_s=${4:-60}
on_s=3     # feed on between outages
off_s=3    # outage length (signal_loss_timeout_s is 2)

dir=$(mktemp -d /tmp/avmon-soak-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT

ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=s=320x240:r=25:d=10 \
  -f lavfi -i "anoisesrc=color=pink:amplitude=0.25:sample_rate=48000:seed=7:d=10" \
  -af aformat=channel_layouts=stereo -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p \
  -c:a aac -b:a 96k -f mpegts "$dir/clip.ts"
# A small UDP FIFO (1 MB): libavformat's receive ring buffer is allocated
# whole but its pages become resident only as data first passes through, so
# a large FIFO makes RSS climb for minutes on any feed, outages or not.
# (The corruption detector is left out: its picture heuristics flag the
# synthetic clip, which is not what this measures.)
printf 'input:\n  options:\n    fifo_size: "5000"\n    overrun_nonfatal: "1"\ndetectors:\n  corruption:\n    enabled: false\n' > "$dir/avmon.yaml"

"$avmon" run --input "udp://127.0.0.1:$port" --config "$dir/avmon.yaml" --events "$dir/events.jsonl" 2> "$dir/avmon.log" &
avmon_pid=$!
sleep 0.5

send() { ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$dir/clip.ts" -c copy \
           -f mpegts "udp://127.0.0.1:$port?pkt_size=1316" & sender=$!; }
count() { grep -c "\"kind\":\"$1\",.*\"type\":\"signal_loss\"" "$dir/events.jsonl" || true; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/$avmon_pid/status; }
fds() { ls /proc/$avmon_pid/fd | wc -l; }

send
sleep "$warmup_s"
ok=1
printf '%-7s %-6s %-6s %-9s %-4s\n' outage starts ends rss_kb fds
for i in $(seq 1 "$outages"); do
  sleep $on_s
  kill $sender; wait $sender 2>/dev/null || true
  sleep $off_s
  send
  # wait up to 5 s for this outage's end
  for _ in $(seq 50); do [ "$(count defect.end)" -ge "$i" ] && break; sleep 0.1; done
  sleep 0.5
  r=$(rss_kb); f=$(fds)
  [ "$i" -eq 1 ] && { rss1=$r; fds1=$f; }
  printf '%-7s %-6s %-6s %-9s %-4s\n' "$i" "$(count defect.start)" "$(count defect.end)" "$r" "$f"
  [ "$(count defect.end)" -ge "$i" ] || ok=0
done
kill $sender; wait $sender 2>/dev/null || true
t0=$(date +%s.%N)
kill -TERM $avmon_pid; wait $avmon_pid; status=$?
t1=$(date +%s.%N)

starts=$(count defect.start); ends=$(count defect.end)
rss_dev=$(awk -v a="$rss1" -v b="$r" 'BEGIN {d=(b-a)/a*100; print (d<0?-d:d)}')
fd_dev=$(awk -v a="$fds1" -v b="$f" 'BEGIN {d=(b-a)/a*100; print (d<0?-d:d)}')
echo "signal_loss: $starts started, $ends ended for $outages outages (plus the final stop)"
echo "after outage 1: rss ${rss1} kB, ${fds1} fds; after outage $outages: rss ${r} kB, ${f} fds"
echo "change: rss ${rss_dev}%, fds ${fd_dev}%; SIGTERM -> exit $status in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b-a}') s"
awk -v d="$rss_dev" 'BEGIN {exit !(d <= 5)}' || ok=0
awk -v d="$fd_dev" 'BEGIN {exit !(d <= 5)}' || ok=0
[ "$ends" -ge "$outages" ] && [ "$status" -eq 0 ] || ok=0
[ $ok -eq 1 ] && echo "PASS" || { echo "FAIL"; exit 1; }
