#!/usr/bin/env python3
"""Streams per machine: how many live streams one machine monitors.

  bench/streams_per_machine.py [--avmon build/avmon] [--duration 120] [--search-duration 30]
                               [--max-n 64] [--n LIST] [--modes full,economy,adaptive,ffmpeg] [--clip CLIP]

For each mode, the largest N is searched with short rounds (N = 1, 2, 4...
until a round fails, then bisected), then confirmed with a round of the full
duration (lowered one by one until one passes). With --n, the listed N run in
turn instead, each for the full duration. In a round, N `ffmpeg -re
-stream_loop -1 -i CLIP -c copy -f mpegts udp://127.0.0.1:PORT` senders feed
N receivers, one per
port: avmon in that decode.mode (every detector on), or for `ffmpeg`,
`ffmpeg -i udp://... -f null -`. After DURATION seconds the receivers get
SIGTERM. A run passes when every receiver kept up:
  avmon: no signal_loss, no picture or block dropped for a detector, no
         continuity-counter error (a UDP datagram lost), and the pictures read
         cover the duration (at least 97 % of its pictures);
  ffmpeg: no decode or continuity error logged, and its frame count covers
         the duration likewise.
(The first --startup seconds, 6 by default, are left for the receivers to
probe the stream.)
Prints, per mode, the largest N that passes and the peak RSS per receiver
(median, MiB). The default clip is bench.py's 1080p25 H.264 clip.
A real measurement needs a quiet machine: it loads every core."""
import argparse, json, os, pathlib, re, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402


def probe_rate(clip):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate",
                          "-of", "csv=p=0", str(clip)], capture_output=True, text=True, check=True).stdout.strip()
    num, den = out.split("/")
    return float(num) / float(den)


def wait_rss(p):
    """Waits for the child and returns (status, peak RSS in MiB)."""
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, usage.ru_maxrss / 1024


def run_round(a, mode, n, clip, fps, tmp):
    senders, receivers = [], []
    url = "udp://127.0.0.1:{}?fifo_size=1000000&overrun_nonfatal=1"
    ports = [a.base_port + 2 * i for i in range(n)]
    for i, port in enumerate(ports):
        if mode == "ffmpeg":
            cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-stats", "-i", url.format(port),
                   "-f", "null", "-"]
            env = None
        else:
            cmd = [a.avmon, "run", "--input", url.format(port), "--events", f"{tmp}/{mode}_{n}_{i}.jsonl",
                   "--log-level", "warn"]
            env = dict(os.environ, AVMON_DECODE__MODE=mode)
        err = open(f"{tmp}/{mode}_{n}_{i}.err", "w")
        receivers.append((subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err), err))
    time.sleep(1)  # receivers listening before the first datagram
    for port in ports:
        senders.append(subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip),
             "-c", "copy", "-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(a.duration)
    for p, _ in receivers:
        p.send_signal(signal.SIGTERM if mode != "ffmpeg" else signal.SIGINT)
    results = []
    for i, (p, err) in enumerate(receivers):
        _, rss = wait_rss(p)
        err.close()
        results.append((i, rss))
    for p in senders:
        p.terminate()
        p.wait()
    failures, rss = [], []
    # The receivers probe the stream before the first picture (ffmpeg up to
    # its 5 s analyzeduration): that start is not counted.
    want = 0.97 * max(0.0, a.duration - a.startup) * fps
    for i, peak in results:
        rss.append(peak)
        log = pathlib.Path(f"{tmp}/{mode}_{n}_{i}.err").read_text(errors="replace")
        if mode == "ffmpeg":
            frames = [int(x) for x in re.findall(r"frame=\s*(\d+)", log)]
            bad = [l for l in log.splitlines() if re.search(r"error|Continuity check failed|corrupt", l, re.I)]
            if not frames or frames[-1] < want:
                failures.append(f"receiver {i}: {frames[-1] if frames else 0} frames < {want:.0f}")
            if bad:
                failures.append(f"receiver {i}: {bad[0]}")
            continue
        lines = [json.loads(l) for l in pathlib.Path(f"{tmp}/{mode}_{n}_{i}.jsonl").read_text().splitlines() if l]
        summary = next((e for e in lines if e.get("kind") == "stream.summary"), None)
        if summary is None:
            failures.append(f"receiver {i}: no stream.summary")
            continue
        if any(e.get("kind") == "defect.start" and e.get("type") == "signal_loss" for e in lines):
            failures.append(f"receiver {i}: signal_loss")
        dropped = {k: d.get("dropped", 0) for k, d in summary.get("detectors", {}).items() if d.get("dropped", 0)}
        if dropped:
            failures.append(f"receiver {i}: dropped {dropped}")
        pids = summary.get("transport", {}).get("pids", [])
        cc = sum(p.get("cc_errors", 0) for p in (pids.values() if isinstance(pids, dict) else pids))
        if cc:
            failures.append(f"receiver {i}: {cc} continuity-counter errors (datagrams lost)")
        read = summary.get("decode", {}).get("pictures_delivered", 0) + summary.get("decode", {}).get("pictures_skipped", 0)
        if read < want:
            failures.append(f"receiver {i}: {read} pictures read < {want:.0f}")
    return failures, statistics.median(rss)


def largest(a, mode, clip, fps, tmp, duration):
    """The largest N that passes rounds of `duration` seconds: N doubles
    from 1 until a round fails, then the gap is bisected. Returns (N, its
    peak RSS per receiver, the rounds' lines)."""
    a.duration = duration
    ok, fail, rss_at = 0, None, {}

    def attempt(n):
        failures, rss = run_round(a, mode, n, clip, fps, tmp)
        line = (f"{mode:8s} N={n:3d} {duration:4.0f} s {'ok' if not failures else 'FAIL'}  peak RSS {rss:6.1f} MiB"
                + ("" if not failures else "  (" + "; ".join(failures[:3]) + ")"))
        print(line, flush=True)
        rss_at[n] = rss
        return not failures

    n = 1
    while n <= a.max_n and attempt(n):
        ok, n = n, n * 2
    fail = n if n <= a.max_n else None
    while fail is not None and fail - ok > 1:
        mid = (ok + fail) // 2
        if attempt(mid):
            ok = mid
        else:
            fail = mid
    return ok, rss_at.get(ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--avmon", default="build/avmon")
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--n", default="", help="fixed list of N to run in turn (default: search)")
    ap.add_argument("--max-n", type=int, default=64, help="search: give up doubling beyond this")
    ap.add_argument("--search-duration", type=float, default=30,
                    help="search: seconds per round while looking for the boundary; the N found is then "
                         "confirmed (or lowered) with rounds of --duration")
    ap.add_argument("--modes", default="full,economy,adaptive,ffmpeg")
    ap.add_argument("--clip", default=None)
    ap.add_argument("--base-port", type=int, default=23000)
    ap.add_argument("--startup", type=float, default=6, help="seconds a receiver may take to probe the stream")
    a = ap.parse_args()
    clip = pathlib.Path(a.clip) if a.clip else bench.make_clip(60)
    fps = probe_rate(clip)
    duration = a.duration
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in a.modes.split(","):
            if a.n:
                best, best_rss = 0, None
                for n in (int(x) for x in a.n.split(",")):
                    failures, rss = run_round(a, mode, n, clip, fps, tmp)
                    ok = not failures
                    print(f"{mode:8s} N={n:3d} {'ok' if ok else 'FAIL'}  peak RSS {rss:6.1f} MiB"
                          + ("" if ok else "  (" + "; ".join(failures[:3]) + ")"), flush=True)
                    if not ok:
                        break
                    best, best_rss = n, rss
            else:
                best, best_rss = largest(a, mode, clip, fps, tmp, min(a.search_duration, duration))
                # Confirm over the full duration; a longer round may fail
                # where a short one passed (a slow leak, a late backlog).
                a.duration = duration
                while best > 0:
                    failures, rss = run_round(a, mode, best, clip, fps, tmp)
                    print(f"{mode:8s} N={best:3d} {duration:4.0f} s {'ok' if not failures else 'FAIL'}  "
                          f"peak RSS {rss:6.1f} MiB" + ("" if not failures else "  (" + "; ".join(failures[:3]) + ")"),
                          flush=True)
                    if not failures:
                        best_rss = rss
                        break
                    best -= 1
            table.append((mode, best, best_rss))
    print(f"\nclip {clip}, {duration:.0f} s per confirming round")
    print("| receiver | largest N without loss | peak RSS per process (MiB) |")
    print("| --- | --- | --- |")
    for mode, best, rss in table:
        name = "ffmpeg -f null" if mode == "ffmpeg" else f"avmon {mode}"
        print(f"| {name} | {best} | {'-' if rss is None else f'{rss:.0f}'} |")


if __name__ == "__main__":
    sys.exit(main())
