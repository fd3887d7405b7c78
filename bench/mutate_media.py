#!/usr/bin/env python3
"""Mutated media files through avmon: no crash, hang or sanitizer report.

Clips in the containers and codecs avmon meets (MPEG-TS, Matroska, MP4, AVI,
WAV, Ogg/WebM...) are generated with the ffmpeg CLI, then each is damaged in
--per-clip ways (bit flips, overwritten or zeroed ranges, truncation, cut or
repeated chunks, damaged headers), deterministically from --seed. avmon
analyses every mutated file (use a sanitizer build: --avmon
build-san/avmon). Each run must:
  - end by itself within --timeout-s (no hang),
  - exit 0 (analysed) or 3 (not media / nothing decodable), never a signal
    or "internal error" (1),
  - print no sanitizer report (ASan, UBSan, LeakSanitizer),
  - write only valid JSON lines, and when it exits 0, exactly one
    stream.summary, last.

  bench/mutate_media.py --avmon build-san/avmon                  # 7 clips x 90 = 630 files
  bench/mutate_media.py --avmon build-san/avmon --per-clip 8     # the sanitizer stage's quick subset

Failing inputs are kept in --out/failures/ with avmon's stderr; add each to
tests as a regression once fixed. Exit status 0 when every run passed.
"""
import argparse
import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

CLIPS = [
    # name, ffmpeg output arguments; inputs are a test picture and pink noise
    ("h264_aac.ts", ["-c:v", "libx264", "-preset", "veryfast", "-g", "12", "-c:a", "aac", "-f", "mpegts"]),
    ("mpeg2_mp2.ts", ["-c:v", "mpeg2video", "-g", "12", "-c:a", "mp2", "-f", "mpegts"]),
    ("h264_pcm.mkv", ["-c:v", "libx264", "-preset", "veryfast", "-g", "12", "-c:a", "pcm_s16le", "-f", "matroska"]),
    ("mpeg4_aac.mp4", ["-c:v", "mpeg4", "-g", "12", "-c:a", "aac", "-f", "mp4"]),
    ("mjpeg_pcm.avi", ["-c:v", "mjpeg", "-c:a", "pcm_s16le", "-f", "avi"]),
    ("pcm.wav", ["-vn", "-c:a", "pcm_s16le", "-f", "wav"]),
    ("vp8_vorbis.webm", ["-c:v", "libvpx", "-deadline", "realtime", "-g", "12", "-c:a", "libvorbis", "-f", "webm"]),
]
CLIP_S = 2


def make_clips(work, names):
    paths = []
    for name, out_args in CLIPS:
        if names and name not in names:
            continue
        path = os.path.join(work, name)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=s=160x120:r=25:d={CLIP_S}",
                        "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.3:sample_rate=48000:seed=5:d={CLIP_S}",
                        "-ac", "2", "-pix_fmt", "yuv420p"] + out_args + [path], check=True)
        paths.append(path)
    return paths


def mutate(data, rng):
    """One damaged copy of `data`, and a short description of the damage."""
    b = bytearray(data)
    n = len(b)
    kind = rng.randrange(8)
    if kind == 0:
        k = rng.randint(1, 32)
        for _ in range(k):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b), f"flip {k} bits"
    if kind == 1:
        i, length = rng.randrange(n), rng.randint(1, 4096)
        b[i:i + length] = bytes(rng.randrange(256) for _ in range(min(length, n - i)))
        return bytes(b), f"random bytes at {i}+{length}"
    if kind == 2:
        i, length = rng.randrange(n), rng.randint(1, 16384)
        b[i:i + length] = bytes(min(length, n - i))
        return bytes(b), f"zeroes at {i}+{length}"
    if kind == 3:
        i = rng.randrange(n)
        return bytes(b[:i]), f"truncated at {i}"
    if kind == 4:
        i, length = rng.randrange(n), rng.randint(1, 8192)
        return bytes(b[:i] + b[i + length:]), f"cut {i}+{length}"
    if kind == 5:
        i, length = rng.randrange(n), rng.randint(1, 8192)
        return bytes(b[:i + length] + b[i:]), f"repeat {i}+{length}"
    if kind == 6:
        k = rng.randint(1, 16)
        for _ in range(k):
            i = rng.randrange(min(n, 1024))
            b[i] = rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, b[i] ^ 0xFF])
        return bytes(b), f"header: {k} bytes"
    # Extreme values (sizes, counts, timestamps) in place of 4 bytes.
    k = rng.randint(1, 8)
    for _ in range(k):
        i = rng.randrange(max(1, n - 4))
        b[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\x00\x00",
                                 b"\x00\x00\x00\x01"])
    return bytes(b), f"extreme values: {k}"


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ThreadSanitizer",
                   "UndefinedBehaviorSanitizer")


def check(avmon, path, timeout_s):
    """Runs avmon on one file; returns None when it behaved, else why not."""
    events = path + ".events.jsonl"
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    t0 = time.monotonic()
    try:
        p = subprocess.run([avmon, "run", "--input", path, "--events", events, "--log-level", "error"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return f"hang (no exit within {timeout_s:.0f} s)", ""
    err = p.stderr.decode("utf-8", "replace")
    took = time.monotonic() - t0
    for mark in SANITIZER_MARKS:
        if mark in err:
            return f"sanitizer report ({mark})", err
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}", err
    if p.returncode not in (0, 3):
        return f"exit status {p.returncode}", err
    try:
        raw = open(events, "rb").read() if os.path.exists(events) else b""
        lines = [json.loads(l) for l in raw.decode("utf-8").splitlines()]
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"invalid event output: {e}", err
    finally:
        if os.path.exists(events):
            os.remove(events)
    if p.returncode == 0:
        summaries = [i for i, e in enumerate(lines) if e.get("kind") == "stream.summary"]
        if summaries != [len(lines) - 1]:
            return f"exit 0 with stream.summary at {summaries} of {len(lines)} lines", err
    return None, f"{took:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--avmon", default="build/avmon")
    ap.add_argument("--per-clip", type=int, default=90)
    ap.add_argument("--seed", type=int, default=619)
    ap.add_argument("--clips", default="", help="comma-separated clip names (default: all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout-s", type=float, default=120)
    ap.add_argument("--out", default="")
    args = ap.parse_args()

    work = args.out or tempfile.mkdtemp(prefix="avmon-mutate-")
    os.makedirs(os.path.join(work, "failures"), exist_ok=True)
    clips = make_clips(work, set(filter(None, args.clips.split(","))))
    cases = []
    for clip in clips:
        data = open(clip, "rb").read()
        rng = random.Random(f"{args.seed}:{os.path.basename(clip)}")
        for i in range(args.per_clip):
            mutated, what = mutate(data, rng)
            path = os.path.join(work, f"{os.path.basename(clip)}.{i:03d}")
            open(path, "wb").write(mutated)
            cases.append((path, what))
    print(f"{len(cases)} mutated files from {len(clips)} clips (seed {args.seed}) in {work}; avmon: {args.avmon}",
          flush=True)

    t0 = time.monotonic()
    failures = []
    statuses = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(check, args.avmon, path, args.timeout_s): (path, what) for path, what in cases}
        for fut in concurrent.futures.as_completed(futures):
            path, what = futures[fut]
            why, detail = fut.result()
            if why:
                failures.append((path, what, why))
                dest = os.path.join(work, "failures", os.path.basename(path))
                shutil.copy(path, dest)
                open(dest + ".stderr", "w").write(detail)
                print(f"FAIL {os.path.basename(path)} ({what}): {why}", flush=True)
            else:
                statuses[path] = detail
            os.remove(path)
    took = time.monotonic() - t0
    print(f"{len(cases) - len(failures)} passed, {len(failures)} failed ({took:.0f} s)")
    if failures:
        print(f"failing inputs and their stderr: {os.path.join(work, 'failures')}")
    elif not args.out:
        shutil.rmtree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
