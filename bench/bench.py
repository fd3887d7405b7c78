#!/usr/bin/env python3
"""avmon's speed against ffmpeg's decode-only time on the same clip, in the
same run. Targets live here, never in timed tests.

  bench/bench.py [--avmon build/avmon] [--runs 3] [--seconds 60] [--cpu N] [--mbps M] [--json]

Makes (once, cached) a 1080p25 H.264 + AAC clip from Debian opencv-doc footage
(the public corpus's tree shot, up-scaled, with the Megamind soundtrack), then
measures wall time and CPU time (user+sys of the child) of:
  ffmpeg   ffmpeg -i CLIP -f null -            (decode only)
  none     avmon run with every detector disabled (decode + bus)
  video    avmon run with only the video detectors
  audio    avmon run with only the audio (and audio+video) detectors
  all      avmon run with every detector (the default configuration)
Reports medians and the ratios operators care about."""
import argparse, json, os, pathlib, resource, statistics, subprocess, sys, time

DATA = pathlib.Path("/usr/share/doc/opencv-doc/examples/data")
CACHE = pathlib.Path(os.environ.get("AVMON_BENCH_CACHE", pathlib.Path.home() / ".cache/avmon-bench"))


def make_clip(seconds, mbps=None):
    """The default clip is up-scaled 320x240 footage: soft, about 3 Mbit/s,
    cheap to decode, so the detectors' share is at its largest. With `mbps`,
    film grain is added and the clip is coded at that constant bit rate, as
    broadcast 1080p25 is (8-15 Mbit/s): decoding costs more, as it does there."""
    name = f"tree_1080p25_{seconds}s.mp4" if mbps is None else f"tree_1080p25_{seconds}s_{mbps}M_grain.mp4"
    clip = CACHE / name
    if clip.exists():
        return clip
    CACHE.mkdir(parents=True, exist_ok=True)
    vf = "fps=25,scale=1920:1080:flags=bicubic,setsar=1"
    rate = ["-crf", "20"]
    if mbps is not None:
        vf += ",noise=alls=10:allf=t"
        rate = ["-b:v", f"{mbps}M", "-maxrate", f"{mbps}M", "-bufsize", f"{2 * mbps}M"]
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-stream_loop", "-1", "-i", str(DATA / "tree.avi"),
                    "-stream_loop", "-1", "-i", str(DATA / "Megamind.avi"),
                    "-map", "0:v", "-map", "1:a", "-t", str(seconds), "-vf", vf,
                    "-c:v", "libx264", "-preset", "veryfast", *rate, "-g", "50", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", str(clip)], check=True)
    return clip


def measure(cmd, env=None, cpu=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, preexec_fn=pin)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss


def detector_names(avmon):
    out = subprocess.run([avmon, "detectors"], check=True, capture_output=True, text=True).stdout
    names = {}
    for line in out.splitlines():
        if line and not line.startswith(" ") and "(" in line:
            name = line.split(" ", 1)[0]
            media = ""
        elif line.strip().startswith("media:"):
            media = line.strip().split(";")[0].split(":")[1].strip()
            names[name] = media
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--avmon", default="build/avmon")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--mbps", type=int, default=None,
                    help="use a film-grain clip coded at this constant bit rate (broadcast 1080p25: 8-15)")
    ap.add_argument("--cpu", type=int, default=None,
                    help="run every process on this one CPU: CPU seconds then vary far less on a shared machine "
                         "(no cross-core contention), at the cost of wall-clock parallelism")
    a = ap.parse_args()
    clip = make_clip(a.seconds, a.mbps)
    names = detector_names(a.avmon)
    video = [n for n, m in names.items() if m == "video"]
    # A/V detectors (av_sync) spend their time on the audio: they count with the audio set.
    audio = [n for n, m in names.items() if "audio" in m]

    def env_with(enabled):
        env = dict(os.environ)
        for n in names:
            env[f"AVMON_DETECTORS__{n.upper()}__ENABLED"] = "true" if n in enabled else "false"
        return env

    avmon_cmd = [a.avmon, "run", "--input", str(clip), "--events", "/dev/null", "--log-level", "warn"]
    configs = {
        "ffmpeg": (["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"], None),
        "none": (avmon_cmd, env_with(set())),
        "video": (avmon_cmd, env_with(set(video))),
        "audio": (avmon_cmd, env_with(set(audio))),
        "all": (avmon_cmd, env_with(set(names))),
    }
    results = {k: [] for k in configs}
    order = list(configs)
    for r in range(a.runs):  # interleaved, so that machine noise hits every configuration alike
        # Rotate the order each round: a configuration always run right after
        # another would inherit its warm (or cold) caches and page cache.
        for k in order[r % len(order):] + order[:r % len(order)]:
            cmd, env = configs[k]
            results[k].append(measure(cmd, env, a.cpu))
    med = {k: {"wall_s": statistics.median(r[0] for r in v), "cpu_s": statistics.median(r[1] for r in v)}
           for k, v in results.items()}
    base = med["none"]["cpu_s"]

    # Per-round ratios against the detector-less run of the same round: the
    # machine's drift between rounds cancels, which the ratio of medians
    # does not do. Reported as the median and the interquartile range.
    def paired(k):
        ratios = sorted(v[1] / n[1] - 1 for v, n in zip(results[k], results["none"]))
        q = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
        return {"median": statistics.median(ratios), "q1": q[0], "q3": q[2]}
    paired_cpu = {k: paired(k) for k in ("video", "audio", "all")}
    report = {
        "clip": str(clip), "runs": a.runs, "medians": med,
        "avmon_vs_ffmpeg_wall": med["all"]["wall_s"] / med["ffmpeg"]["wall_s"],
        "avmon_vs_ffmpeg_cpu": med["all"]["cpu_s"] / med["ffmpeg"]["cpu_s"],
        "video_detectors_cpu_overhead": (med["video"]["cpu_s"] - base) / base,
        "audio_detectors_cpu_overhead": (med["audio"]["cpu_s"] - base) / base,
        "video_detectors": video, "audio_detectors": audio,
        "paired_cpu_overhead": paired_cpu,
    }
    if a.json:
        print(json.dumps(report, indent=1))
        return
    pinned = f", pinned to CPU {a.cpu}" if a.cpu is not None else ""
    print(f"clip: {clip} ({a.runs} runs, medians{pinned})")
    for k, v in med.items():
        print(f"  {k:7s} wall {v['wall_s']:7.2f} s   cpu {v['cpu_s']:7.2f} s")
    print(f"avmon (all detectors) / ffmpeg decode-only: wall x{report['avmon_vs_ffmpeg_wall']:.3f}, "
          f"cpu x{report['avmon_vs_ffmpeg_cpu']:.3f}   (target <= 1.2)")
    print(f"video detectors add {100 * report['video_detectors_cpu_overhead']:.1f}% to the CPU of a detector-less analysis (target <= 5%)")
    print(f"audio detectors add {100 * report['audio_detectors_cpu_overhead']:.1f}% to the CPU of a detector-less analysis (target <= 3%)")
    print("per-round CPU against the same round's detector-less run (median [interquartile range]):")
    for k, p in paired_cpu.items():
        print(f"  {k:7s} {100 * p['median']:+.1f}%  [{100 * p['q1']:+.1f}% .. {100 * p['q3']:+.1f}%]")
    print("CPU seconds on a shared VM vary by several percent from run to run; "
          "bench/instructions.sh counts instructions, which do not.")


if __name__ == "__main__":
    sys.exit(main())
