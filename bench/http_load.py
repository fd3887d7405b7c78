#!/usr/bin/env python3
"""A hostile /metrics client against a running analysis.

Analyses the same clip twice, as fast as avmon can (a file is not paced):
once alone, once with --http and CLIENTS keep-alive connections asking for
/metrics (or --path) in a tight loop for the whole run. Prints the requests
answered per second and the analysis time of both runs: the server renders
/metrics at most every 250 ms and runs at a lower priority than the
analysis, so the second run should be barely slower than the first.

Seconds depend on what else the machine does: run it on a quiet machine,
or compare two builds in the same minute.

    bench/http_load.py [--avmon build/avmon] [--clients 4] [--seconds 20] [--path /metrics]
"""
import argparse
import http.client
import os
import socket
import subprocess
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_clip(seconds):
    cache = os.environ.get("AVMON_BENCH_CACHE", os.path.expanduser("~/.cache/avmon-bench"))
    os.makedirs(cache, exist_ok=True)
    clip = os.path.join(cache, f"http_load_720p25_{seconds}s.mp4")
    if not os.path.exists(clip):
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=25:duration={seconds}",
                        "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate=48000:duration={seconds}",
                        "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", clip], check=True)
    return clip


def hammer(port, path, stop, counts, i):
    while not stop.is_set():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            while not stop.is_set():
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    counts[i] += 1
        except (OSError, http.client.HTTPException):
            time.sleep(0.01)  # not up yet, or gone


def run(avmon, clip, extra):
    t0 = time.monotonic()
    p = subprocess.Popen([avmon, "run", "--input", clip, "--events", "/dev/null", "--log-level", "error"] + extra,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return p, t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--avmon", default="build/avmon")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=20, help="clip duration")
    ap.add_argument("--path", default="/metrics")
    a = ap.parse_args()
    clip = make_clip(a.seconds)

    p, t0 = run(a.avmon, clip, [])
    _, err = p.communicate()
    alone_s = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"avmon failed alone: {err.decode(errors='replace')}")

    port = free_port()
    stop, counts = threading.Event(), [0] * a.clients
    threads = [threading.Thread(target=hammer, args=(port, a.path, stop, counts, i), daemon=True)
               for i in range(a.clients)]
    p, t0 = run(a.avmon, clip, ["--http", f"127.0.0.1:{port}"])
    for t in threads:
        t.start()
    _, err = p.communicate()
    loaded_s = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join(timeout=10)
    if p.returncode != 0:
        raise SystemExit(f"avmon failed under load: {err.decode(errors='replace')}")

    print(f"clip: {clip}")
    print(f"{a.path}: {sum(counts)} answers in {loaded_s:.1f} s = {sum(counts) / loaded_s:.0f} requests/s "
          f"({a.clients} keep-alive clients)")
    print(f"analysis alone: {alone_s:.2f} s; with the clients: {loaded_s:.2f} s; ratio {loaded_s / alone_s:.2f}")


if __name__ == "__main__":
    main()
