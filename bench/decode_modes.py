#!/usr/bin/env python3
"""What decode.mode saves: avmon (every detector on) in full, economy and
adaptive mode against ffmpeg's decode-only run of the same clip.

  bench/decode_modes.py ratios [--avmon build/avmon] [--seconds 6] [--pairs 0] [--cpu-seconds 60] [--steady 30] [--mbps M]
      Instruction counts (valgrind callgrind; load-independent) of
      `ffmpeg -i CLIP -f null -`, of ffmpeg with economy's two switches
      (-skip_loop_filter all -skip_frame noref) and of avmon in each mode,
      on the first SECONDS of bench.py's 1080p25 H.264 clip (soft, cheap to
      decode: the detectors' share at its largest; with --mbps M the clip
      with film grain at M Mbit/s, as broadcast); prints each against
      ffmpeg's decode-only. With --pairs N (N >= 5 for a report), also CPU
      and wall seconds on the first CPU_SECONDS: N rounds, each mode run
      right after an ffmpeg run (alternated pairs), median of the per-pair
      ratios.
      With --steady LONG, the instruction ratios are of the work per second
      of media: each command also runs on the first LONG seconds and the
      ratio is (count on LONG - count on SECONDS) of avmon over the same
      difference of ffmpeg, so that what a process does once (loading its
      libraries, which costs ffmpeg more than avmon, opening, probing) drops
      out. A monitor runs for days: this is the ratio that matters.
  bench/decode_modes.py delay [--avmon build/avmon] [--size 1920x1080]
      Adaptive mode's detection delay: a 25 fps clip (GOP 2 s) with black
      and held pictures starting at several offsets within a GOP; prints, per
      defect, the start adaptive reports minus the start full mode reports,
      and the worst (target: at most one GOP).
  bench/decode_modes.py formats [--avmon build/avmon] [--seconds 2] [--steady 4] [--pairs 0] [--cpu-seconds 20] [--no-counts]
      The cost table: instruction ratio avmon/ffmpeg decode-only per mode (on
      SECONDS-long clips; with --steady LONG, per second of media as for
      `ratios`) and, with --pairs N, the CPU ratio (median of N
      alternated pairs on CPU_SECONDS clips, long enough that starting a
      process does not count) for
      576i MPEG-2, 720p50 H.264, 1080p25 H.264, 1080p50 HEVC, 2160p25 HEVC
      (stereo), and 1080p25 H.264 with 2, 6 and 16 audio channels. Clips are
      made once from opencv-doc footage (cached).
"""
import argparse, json, os, pathlib, statistics, subprocess, sys, tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402  (make_clip, measure, CACHE, DATA)

MODES = ("full", "economy", "adaptive")
TARGETS = {"full": 1.03, "economy": 0.75, "adaptive": 0.35}


def avmon_cmd(avmon, clip):
    return [avmon, "run", "--input", str(clip), "--events", "/dev/null", "--log-level", "error"]


def ffmpeg_cmd(clip, economy=False):
    skip = ["-skip_loop_filter", "all", "-skip_frame", "noref"] if economy else []
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *skip, "-i", str(clip), "-f", "null", "-"]


def mode_env(mode):
    env = dict(os.environ)
    env["AVMON_DECODE__MODE"] = mode
    return env


BENCH = pathlib.Path(__file__).resolve().parent


def instructions(cmd, env=None):
    """Instructions counted by callgrind over every thread of `cmd`, run
    through bench/valgrind.sh (which works around Debian valgrind's missing
    RDTSCP) and summed by bench/callgrind_total.sh (which refuses a run
    valgrind could not finish)."""
    with tempfile.TemporaryDirectory() as d:
        out, err = pathlib.Path(d) / "cg.out", pathlib.Path(d) / "cg.err"
        with open(err, "w") as e:
            subprocess.run([str(BENCH / "valgrind.sh"), "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                           env=env, stdout=subprocess.DEVNULL, stderr=e, check=True)
        total = subprocess.run([str(BENCH / "callgrind_total.sh"), str(err)], capture_output=True, text=True)
        if total.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))}: {total.stderr.strip()}")
        return int(total.stdout)


def cut(src, seconds):
    clip = src.with_name(f"{src.stem}_{seconds}s_cut{src.suffix}")
    if not clip.exists():
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-t", str(seconds),
                        "-c", "copy", str(clip)], check=True)
    return clip


def cpu_pairs(avmon, clip, pairs):
    """CPU and wall seconds: `pairs` rounds, each mode run right after an
    ffmpeg decode-only run (alternated pairs; the mode that comes first
    rotates), median of the per-pair ratios. Pairs cancel slow drifts of the
    machine's speed (other load, frequency); a quiet machine is still best."""
    per = {m: [] for m in MODES}
    wall = {m: [] for m in MODES}
    for r in range(pairs):
        for m in (MODES[r % 3:] + MODES[:r % 3]):
            fw, fc, _ = bench.measure(ffmpeg_cmd(clip))
            aw, ac, _ = bench.measure(avmon_cmd(avmon, clip), mode_env(m))
            per[m].append(ac / fc)
            wall[m].append(aw / fw)
    return {m: (statistics.median(per[m]), statistics.median(wall[m])) for m in MODES}


def count_row(avmon, clip):
    base = instructions(ffmpeg_cmd(clip))
    row = {"ffmpeg": base, "ffmpeg_economy": instructions(ffmpeg_cmd(clip, True))}
    for m in MODES:
        row[m] = instructions(avmon_cmd(avmon, clip), mode_env(m))
    return row


def cmd_ratios(a):
    clip = cut(bench.make_clip(60, a.mbps), a.seconds)
    if a.counts:
        row = count_row(a.avmon, clip)
        print(f"clip: {clip}")
        if a.steady:
            if a.steady <= a.seconds:
                raise SystemExit("--steady must be longer than --seconds")
            long_clip = cut(bench.make_clip(60, a.mbps), a.steady)
            long_row = count_row(a.avmon, long_clip)
            print(f"per second of media: counts on {long_clip.name} minus counts on {clip.name}")
            row = {k: long_row[k] - row[k] for k in row}
        base = row["ffmpeg"]
        print(f"instructions: ffmpeg decode-only {base:,}")
        print(f"  ffmpeg -skip_loop_filter all -skip_frame noref: x{row['ffmpeg_economy'] / base:.3f}")
        for m in MODES:
            print(f"  avmon {m:8s} (every detector): x{row[m] / base:.3f}   (target <= {TARGETS[m]})")
    if a.pairs:
        # Seconds are timed on a longer clip than the counts (callgrind is
        # slow): on a few seconds, starting a process would weigh in.
        whole = bench.make_clip(60, a.mbps)
        cpu_clip = whole if a.cpu_seconds >= 60 else cut(whole, a.cpu_seconds)
        cpu = cpu_pairs(a.avmon, cpu_clip, a.pairs)
        print(f"CPU / wall seconds on {cpu_clip.name}, median of {a.pairs} alternated pairs "
              "(avmon mode / ffmpeg decode-only):")
        for m in MODES:
            print(f"  {m:8s} cpu x{cpu[m][0]:.3f}   wall x{cpu[m][1]:.3f}   (target <= {TARGETS[m]})")


def events(avmon, clip, mode, tmp):
    out = pathlib.Path(tmp) / f"{clip.stem}.{mode}.jsonl"
    subprocess.run([avmon, "run", "--input", str(clip), "--events", str(out), "--log-level", "error"], check=True,
                   env=mode_env(mode))
    starts = {}
    for line in out.read_text().splitlines():
        e = json.loads(line)
        if e.get("kind") == "defect.start":
            starts.setdefault(e["type"], []).append(e["media_time"])
    return starts


def cmd_delay(a):
    gop_s = 2.0
    cache = bench.CACHE
    cache.mkdir(parents=True, exist_ok=True)
    worst = 0.0
    print("onset offset in GOP -> adaptive start minus full start (s)")
    for offset in (0.04, 0.52, 1.0, 1.48, 1.96):
        clip = cache / f"delay_{a.size}_{int(offset * 100)}.mp4"
        b0, f0 = 6 + offset, 16 + offset  # black 3 s, hold 4 s
        if not clip.exists():
            first, last = int(round(f0 * 25)), int(round(f0 * 25)) + 99
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i",
                            str(bench.DATA / "tree.avi"), "-t", "26", "-an", "-filter_complex",
                            f"[0:v]fps=25,scale={a.size.replace('x', ':')},setsar=1,drawbox=enable='between(t,{b0},{b0 + 2.99})':"
                            f"color=black:t=fill,split[a][b];[a][b]freezeframes=first={first}:last={last}:"
                            f"replace={first}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-x264-params",
                            "keyint=50:min-keyint=50:scenecut=0", "-pix_fmt", "yuv420p", str(clip)], check=True)
        with tempfile.TemporaryDirectory() as tmp:
            full, adaptive = events(a.avmon, clip, "full", tmp), events(a.avmon, clip, "adaptive", tmp)
        for t in ("black", "freeze"):
            if not full.get(t) or not adaptive.get(t):
                print(f"  {offset:4.2f} {t:6s} full {full.get(t)} adaptive {adaptive.get(t)}: MISSED")
                worst = float("inf")
                continue
            d = adaptive[t][0] - full[t][0]
            worst = max(worst, d)
            print(f"  {offset:4.2f} {t:6s} full {full[t][0]:7.3f} adaptive {adaptive[t][0]:7.3f} delay {d:+.3f}")
    print(f"worst adaptive detection delay: {worst:.3f} s (target <= one GOP, {gop_s} s)")


FORMATS = [
    # name, size, rate, codec args, interlaced, channels
    ("576i25 MPEG-2", "720x576", 25, ["-c:v", "mpeg2video", "-b:v", "5M", "-flags", "+ildct+ilme", "-g", "12"], 2),
    ("720p50 H.264", "1280x720", 50, ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M", "-g", "100"], 2),
    ("1080p25 H.264", "1920x1080", 25, ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-g", "50"], 2),
    ("1080p50 HEVC", "1920x1080", 50, ["-c:v", "libx265", "-preset", "ultrafast", "-b:v", "8M", "-x265-params",
                                        "keyint=100:log-level=error"], 2),
    ("2160p25 HEVC", "3840x2160", 25, ["-c:v", "libx265", "-preset", "ultrafast", "-b:v", "20M", "-x265-params",
                                        "keyint=50:log-level=error"], 2),
    ("1080p25 H.264 6ch", "1920x1080", 25, ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-g", "50"], 6),
    ("1080p25 H.264 16ch", "1920x1080", 25, ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M", "-g", "50"], 16),
]


def format_clip(name, size, rate, codec, channels, seconds):
    clip = bench.CACHE / ("fmt_" + name.replace(" ", "_").replace(".", "") + f"_{seconds}s.ts")
    if clip.exists():
        return clip
    bench.CACHE.mkdir(parents=True, exist_ok=True)
    w, h = size.split("x")
    # AAC and MPEG-TS carry at most 8 channels in one stream, and avmon
    # decodes one audio stream: 16 channels go as one PCM stream in Matroska.
    audio = ["-c:a", "aac", "-b:a", f"{64 * channels}k"]
    if channels > 8:
        clip = clip.with_suffix(".mkv")
        audio = ["-c:a", "pcm_s16le"]
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i",
                    str(bench.DATA / "tree.avi"), "-f", "lavfi", "-i",
                    f"sine=f=440:r=48000,aformat=channel_layouts=mono", "-t", str(seconds), "-filter_complex",
                    f"[0:v]fps={rate},scale={w}:{h}:flags=bicubic,setsar=1,noise=alls=8:allf=t,format=yuv420p[v];"
                    f"[1:a]asplit={channels}" + "".join(f"[s{i}]" for i in range(channels)) + ";" +
                    "".join(f"[s{i}]" for i in range(channels)) + f"amerge=inputs={channels}[a]",
                    "-map", "[v]", "-map", "[a]", *codec, *audio, str(clip)], check=True)
    return clip


def cmd_formats(a):
    rows = []
    for name, size, rate, codec, ch in FORMATS:
        if a.only and a.only not in name:
            continue
        row = {}
        if a.counts:
            row = count_row(a.avmon, format_clip(name, size, rate, codec, ch, a.seconds))
            if a.steady:
                # Work per second of media, as in `ratios --steady`.
                long_row = count_row(a.avmon, format_clip(name, size, rate, codec, ch, a.steady))
                row = {k: long_row[k] - row[k] for k in row}
        cpu = cpu_pairs(a.avmon, format_clip(name, size, rate, codec, ch, a.cpu_seconds), a.pairs) if a.pairs else {}
        rows.append((name, row, cpu))
        line = f"{name:20s}"
        if row:
            line += " instructions " + "  ".join(f"{m} x{row[m] / row['ffmpeg']:.3f}" for m in MODES)
            line += f"  (ffmpeg economy switches x{row['ffmpeg_economy'] / row['ffmpeg']:.3f})"
        if cpu:
            line += " cpu " + "  ".join(f"{m} x{cpu[m][0]:.3f}" for m in MODES)
        print(line, flush=True)
    print()
    if a.counts:
        span = f"{a.steady} s clip minus {a.seconds} s clip" if a.steady else f"{a.seconds} s clip"
        print(f"Instructions (callgrind, {span}), avmon with every detector on / ffmpeg -i CLIP -f null -:")
        print("| format | full | economy | adaptive | ffmpeg -skip_loop_filter all -skip_frame noref |")
        print("| --- | --- | --- | --- | --- |")
        for name, row, _ in rows:
            b = row["ffmpeg"]
            print(f"| {name} | {row['full'] / b:.3f} | {row['economy'] / b:.3f} | {row['adaptive'] / b:.3f} | "
                  f"{row['ffmpeg_economy'] / b:.3f} |")
    if a.pairs:
        print(f"CPU seconds ({a.cpu_seconds} s clips), median of {a.pairs} alternated pairs, "
              "avmon with every detector on / ffmpeg -i CLIP -f null -:")
        print("| format | full | economy | adaptive |")
        print("| --- | --- | --- | --- |")
        for name, _, cpu in rows:
            print(f"| {name} | {cpu['full'][0]:.3f} | {cpu['economy'][0]:.3f} | {cpu['adaptive'][0]:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ratios", "delay", "formats"):
        p = sub.add_parser(name)
        p.add_argument("--avmon", default="build/avmon")
        p.add_argument("--seconds", type=int, default=6 if name == "ratios" else 2)
        p.add_argument("--pairs", type=int, default=0)
        p.add_argument("--steady", type=int, default=0,
                       help="seconds of a second, longer run; ratios of the difference (work per second)")
        p.add_argument("--only", default="", help="formats: only the rows whose name contains this")
        p.add_argument("--cpu-seconds", type=int, default=60 if name == "ratios" else 20,
                       help="length of the clips timed by --pairs")
        p.add_argument("--mbps", type=int, default=None,
                       help="ratios: the clip with film grain at this constant bit rate (bench.py), as broadcast")
        p.add_argument("--no-counts", dest="counts", action="store_false",
                       help="CPU pairs only, no instruction counts (callgrind is slow)")
        p.add_argument("--size", default="1920x1080", help="delay: picture size of the clips")
    a = ap.parse_args()
    {"ratios": cmd_ratios, "delay": cmd_delay, "formats": cmd_formats}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
