#!/usr/bin/env python3
"""Soak: avmon on a live UDP MPEG-TS feed for a long time, with outages and
format changes, watching for leaks.

A looped clip is sent over UDP on loopback (ffmpeg -re -stream_loop -1 -c copy)
in segments; between segments the feed stops for --outage-s (avmon reports
signal_loss) and the next segment comes back in another format (resolution,
frame rate, codecs, audio layout: avmon reports stream.format_change and
reconfigures its detectors). avmon runs with --http, which a scraper polls
like Prometheus and a status page would (/metrics, /status, /healthz,
/thumbnail.jpg). Every --sample-s the resident memory, open file descriptors
and threads of avmon are sampled from /proc.

RSS follows the format on the air, so it is judged over whole cycles of the
three formats. After --warmup-s (by default one cycle, during which allocator
arenas, decoder pools and the libraries' code pages settle):
  - RSS: the mean of each later cycle within --rss-tol (default 5%) of the
    first one's, and the drift over those cycles (least-squares trend of the
    cycle means) within the same tolerance of the mean;
  - fds and threads: no sample above the warm-up maximum (the numbers come
    back to the same set after each outage);
  - every outage reported and ended (signal_loss), every format change
    reported, no HTTP request failed, SIGTERM ends avmon with status 0 and a
    stream.summary.

  bench/soak.py                          # one hour (the documented soak)
  bench/soak.py --duration-s 600 --segment-s 35 --outage-s 5 --warmup-s 120   # CI's ten minutes

Writes samples.csv, events.jsonl and avmon.log into --out (default: a new
temporary directory, printed). Prints the slopes per hour; exit status 0 when
everything above holds.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# Each segment's format: different enough that avmon sees a format change
# (picture size, frame rate, video and audio codec, channel layout).
FORMATS = [
    ("a", "testsrc2=s=320x240:r=25", "libx264", "stereo", 48000, "aac"),
    ("b", "smptehdbars=s=352x288:r=30", "mpeg2video", "mono", 44100, "mp2"),
    ("c", "testsrc=s=640x360:r=25", "libx264", "5.1", 48000, "ac3"),
]


def make_clips(work, clip_s):
    clips = []
    for name, video, vcodec, layout, rate, acodec in FORMATS:
        path = os.path.join(work, f"clip_{name}.ts")
        # Programme audio with level changes, so the audio detectors work as in
        # production rather than on a constant tone.
        audio = f"anoisesrc=color=pink:amplitude=0.2:sample_rate={rate}:seed=3:d={clip_s}"
        cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "lavfi", "-i", f"{video}:d={clip_s}", "-f", "lavfi", "-i", audio,
               "-af", f"aformat=channel_layouts={layout}", "-c:v", vcodec, "-g", "25", "-pix_fmt", "yuv420p"]
        if vcodec == "libx264":
            cmd += ["-preset", "veryfast"]
        cmd += ["-b:v", "600k", "-c:a", acodec, "-b:a", "128k", "-f", "mpegts", path]
        subprocess.run(cmd, check=True)
        clips.append(path)
    return clips


def proc_sample(pid):
    """RSS, fds, threads, and RSS split into anonymous memory (heap, stacks)
    and file pages (the libraries' code as it is first run)."""
    v = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                v[key] = int(rest.split()[0])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return v["VmRSS"], fds, v["Threads"], v["RssAnon"], v["RssFile"]


def find_avmon(root_pid, name):
    """avmon's own pid under a --wrapper (which may run it as a child)."""
    for _ in range(100):
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if comm == name[:15] and (int(d) == root_pid or ppid == root_pid):
                return int(d)
        time.sleep(0.1)
    raise RuntimeError("avmon did not start")


def slope_per_hour(ts, ys):
    n = len(ts)
    if n < 2:
        return 0.0
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    if var == 0:
        return 0.0
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var * 3600


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(http_port, t, failures):
    """One round of what Prometheus and an open status page do; failures are
    kept (a monitor that stops answering is a finding)."""
    for path in ("/metrics", "/status", "/healthz", "/thumbnail.jpg"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}{path}", timeout=5) as r:
                r.read()
        except urllib.error.HTTPError as e:
            if not (path == "/thumbnail.jpg" and e.code == 404):  # no picture yet
                failures.append(f"{t:.0f} s {path}: HTTP {e.code} {e.read()[:200]!r}")
        except OSError as e:
            failures.append(f"{t:.0f} s {path}: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--avmon", default="build/avmon")
    ap.add_argument("--duration-s", type=float, default=3600)
    ap.add_argument("--segment-s", type=float, default=170, help="feed on, one format, between outages")
    ap.add_argument("--outage-s", type=float, default=10)
    ap.add_argument("--warmup-s", type=float, default=540, help="a whole number of format cycles is best")
    ap.add_argument("--sample-s", type=float, default=15)
    ap.add_argument("--scrape-s", type=float, default=5)
    ap.add_argument("--rss-tol", type=float, default=0.05)
    ap.add_argument("--port", type=int, default=0, help="UDP port of the feed (default: a free one)")
    ap.add_argument("--out", default="")
    ap.add_argument("--wrapper", default="", help="command prefix for avmon, e.g. 'heaptrack -o OUT/heap'")
    args = ap.parse_args()

    work = args.out or tempfile.mkdtemp(prefix="avmon-soak-")
    os.makedirs(work, exist_ok=True)
    print(f"soak: {args.duration_s:.0f} s, a format change and a {args.outage_s:.0f} s outage every "
          f"{args.segment_s + args.outage_s:.0f} s, samples every {args.sample_s:.0f} s; files in {work}", flush=True)
    clips = make_clips(work, 10)
    udp_port = args.port or free_port()
    http_port = free_port()
    # read_timeout_s below the outage: each outage ends the input session and
    # the next segment opens a new one (reconnect, new probe), which is where
    # avmon follows a change of codecs (within one session libavformat keeps
    # the codecs it first found on the PIDs).
    # A 1 MB UDP FIFO: libavformat's receive ring becomes resident page by page
    # as data passes through, so a large one makes RSS climb for minutes on
    # any feed (see bench/live_outages.sh). The corruption detector flags the
    # synthetic pictures, which is not what this measures.
    cfg = os.path.join(work, "avmon.yaml")
    with open(cfg, "w") as f:
        f.write(f'input:\n  read_timeout_s: {min(3.0, args.outage_s / 2)}\n  options:\n    fifo_size: "5000"\n    overrun_nonfatal: "1"\n'
                "detectors:\n  corruption:\n    enabled: false\n")
    events = os.path.join(work, "events.jsonl")
    log = open(os.path.join(work, "avmon.log"), "w")
    avmon = subprocess.Popen(args.wrapper.split() + [args.avmon, "run", "--input", f"udp://127.0.0.1:{udp_port}", "--config", cfg,
                              "--events", events, "--http", f"127.0.0.1:{http_port}"], stderr=log)
    sender = None
    pid = find_avmon(avmon.pid, os.path.basename(args.avmon)) if args.wrapper else avmon.pid
    # The HTTP server answers before the input is opened.
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)

    def start_feed(i):
        return subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                                 "-i", clips[i % len(clips)], "-c", "copy", "-f", "mpegts",
                                 f"udp://127.0.0.1:{udp_port}?pkt_size=1316"])

    def stop_feed(p):
        if p and p.poll() is None:
            p.terminate()
            p.wait()

    samples = []  # (t, rss_kb, fds, threads)
    scrape_failures = []
    segments = outages = 0
    try:
        t0 = time.monotonic()
        next_sample = next_scrape = 0.0
        segment = 0
        sender = start_feed(0)
        segments = 1
        switch_at = args.segment_s
        feed_on = True
        csv = open(os.path.join(work, "samples.csv"), "w")
        csv.write("t_s,rss_kb,fds,threads,anon_kb,file_kb,feed\n")
        while True:
            t = time.monotonic() - t0
            if t >= args.duration_s:
                break
            if avmon.poll() is not None:
                print(f"FAIL: avmon exited with {avmon.returncode} at {t:.0f} s")
                return 1
            if t >= switch_at:
                if feed_on:
                    stop_feed(sender)
                    outages += 1
                    switch_at += args.outage_s
                else:
                    segment += 1
                    sender = start_feed(segment)
                    segments += 1
                    switch_at += args.segment_s
                feed_on = not feed_on
            if t >= next_sample:
                s = (round(t, 1),) + proc_sample(pid)
                samples.append(s)
                csv.write(",".join(map(str, s)) + f",{'on' if feed_on else 'off'}\n")
                csv.flush()
                next_sample += args.sample_s
            if t >= next_scrape:
                scrape(http_port, t, scrape_failures)
                next_scrape += args.scrape_s
            time.sleep(0.2)
        stop_feed(sender)
        sender = None
        os.kill(pid, signal.SIGTERM)
        status = avmon.wait(timeout=120)
    finally:
        stop_feed(sender)
        if avmon.poll() is None:
            avmon.kill()
            avmon.wait()
        log.close()

    lines = [json.loads(l) for l in open(events)]
    def count(kind, typ=None):
        return sum(1 for e in lines if e.get("kind") == kind and (typ is None or e.get("type") == typ))
    loss_start, loss_end = count("defect.start", "signal_loss"), count("defect.end", "signal_loss")
    changes, summaries = count("stream.format_change"), count("stream.summary")

    # RSS follows the format on the air (picture sizes, decoders), so it is
    # compared over whole cycles of the formats: the warm-up is the first
    # cycle(s), and each later cycle's mean must stay within the tolerance of
    # the first one after the warm-up (no growth from cycle to cycle).
    cycle_s = len(FORMATS) * (args.segment_s + args.outage_s)
    warm = [s for s in samples if s[0] < args.warmup_s]
    n_cycles = int((args.duration_s - args.warmup_s) // cycle_s)
    rest = [s for s in samples if args.warmup_s <= s[0] < args.warmup_s + n_cycles * cycle_s]
    if n_cycles < 2 or not warm:
        print(f"FAIL: fewer than two whole cycles of the formats ({cycle_s:.0f} s) after the warm-up; "
              f"lengthen --duration-s")
        return 1
    ok = True
    cycles, mids = [], []
    for c in range(n_cycles):
        v = [s[1] for s in rest if args.warmup_s + c * cycle_s <= s[0] < args.warmup_s + (c + 1) * cycle_s]
        cycles.append(sum(v) / len(v))
        mids.append(args.warmup_s + (c + 0.5) * cycle_s)
    ts = [s[0] for s in rest]
    rss, fds, thr, anon, files = ([s[i] for s in rest] for i in (1, 2, 3, 4, 5))
    rss_mean = sum(rss) / len(rss)
    # The drift is the trend of the cycle means (the samples within a cycle
    # swing with the format by more than the tolerance).
    rss_slope = slope_per_hour(mids, cycles)
    fd_slope, thr_slope = (slope_per_hour(ts, ys) for ys in (fds, thr))
    window_h = n_cycles * cycle_s / 3600
    drift = rss_slope * window_h / rss_mean
    cycle_growth = max(cycles) / cycles[0] - 1
    warm_fds, warm_thr = max(s[2] for s in warm), max(s[3] for s in warm)
    print(f"samples: {len(samples)} ({len(rest)} in {n_cycles} whole cycles of {cycle_s:.0f} s after the "
          f"{args.warmup_s:.0f} s warm-up); segments {segments}, outages {outages}")
    print(f"RSS after warm-up: {min(rss)}..{max(rss)} kB; mean per cycle (kB): "
          + " ".join(f"{c:.0f}" for c in cycles) + f" (largest {cycle_growth * 100:+.2f}% from the first)")
    print(f"slopes after warm-up: RSS {rss_slope:+.0f} kB/h from the cycle means (drift {drift * 100:+.2f}% over "
          f"{window_h * 60:.1f} min; {slope_per_hour(ts, rss):+.0f} kB/h from the samples), "
          f"fds {fd_slope:+.2f}/h, threads {thr_slope:+.2f}/h")
    print(f"  of which anonymous {slope_per_hour(ts, anon):+.0f} kB/h ({min(anon)}..{max(anon)} kB), "
          f"file pages {slope_per_hour(ts, files):+.0f} kB/h ({min(files)}..{max(files)} kB)")
    print(f"fds {min(fds)}..{max(fds)} (warm-up max {warm_fds}), threads {min(thr)}..{max(thr)} (warm-up max {warm_thr})")
    print(f"events: signal_loss {loss_start} started / {loss_end} ended, format changes {changes}, "
          f"summaries {summaries}; HTTP requests failed {len(scrape_failures)}; SIGTERM -> exit {status}")
    for f in scrape_failures[:10]:
        print("  ", f)
    checks = [
        (abs(drift) <= args.rss_tol, f"RSS drift {drift * 100:+.2f}% beyond {args.rss_tol * 100:.0f}%"),
        (cycle_growth <= args.rss_tol, f"RSS per cycle grew {cycle_growth * 100:+.2f}%, beyond "
                                       f"{args.rss_tol * 100:.0f}%"),
        (max(fds) <= warm_fds, f"fds grew: {max(fds)} > {warm_fds}"),
        (max(thr) <= warm_thr, f"threads grew: {max(thr)} > {warm_thr}"),
        # The outage in progress at the end (if any) may still be open when SIGTERM ends it.
        (loss_start >= outages and loss_end >= loss_start, f"{outages} outages, {loss_start} signal_loss started, "
                                                           f"{loss_end} ended"),
        (changes >= segments - 1, f"{segments - 1} format changes sent, {changes} reported"),
        (not scrape_failures, f"{len(scrape_failures)} HTTP requests failed"),
        (status == 0 and summaries == 1, f"exit status {status}, {summaries} stream.summary lines"),
    ]
    for good, why in checks:
        if not good:
            print("FAIL:", why)
            ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
