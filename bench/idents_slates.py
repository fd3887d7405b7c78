#!/usr/bin/env python3
"""Recall, false alarms and onset error of test_pattern (bars and PLUGE under
idents: captions, clocks, logos, moving boxes) and slate (still graphic cards), on
clips generated here from lavfi sources and Debian's opencv-doc footage, beside
FFmpeg's nearest filter (freezedetect, defaults, for slates; FFmpeg has no
bars detector). Traps: real footage, flag- and kit-like saturated stripes with
motion and noise, stage-light beams, flat-colour animation, a frozen camera
picture, black; for PLUGE dark programme: a fade to black, credits on black,
a night scene, a letterboxed dark film, dark flat animation.

    bench/idents_slates.py [build/avmon] [--only NAME,...] [--keep DIR]

Prints one line per clip, then per type: recall, false alarms, median and
largest onset error. Clips are cached in ~/.cache/avmon-idents (AVMON_IDENTS_CACHE).
"""
import argparse, json, os, pathlib, re, statistics, subprocess, sys

DATA = pathlib.Path("/usr/share/doc/opencv-doc/examples/data")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CACHE = pathlib.Path(os.environ.get("AVMON_IDENTS_CACHE", pathlib.Path.home() / ".cache/avmon-idents"))
W, H, FPS, DUR = 960, 540, 25, 30
T0, T1 = 8, 20  # inserted segment
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "50", "-pix_fmt", "yuv420p"]
SLACK = 1.0

def text(t, x, y, size, box=""):
    return (f"drawtext=fontfile={FONT}:text='{t}':fontcolor=white:fontsize={size}:x={x}:y={y}"
            + (f":box=1:boxcolor={box}:boxborderw=8" if box else ""))

CLOCK = text("%{pts\\:hms}", "w*0.68", "h*0.06", 40, "black")
EN = f"enable='between(t,{T0},{T1})'"

def programme(src="tree.avi"):
    return ["-stream_loop", "-1", "-i", str(DATA / src)], f"[0:v]fps={FPS},scale={W}:{H},setsar=1,format=yuv420p[base]"

def spliced(name, insert_src, insert_vf, src="tree.avi"):
    """Programme with a lavfi picture (+ its overlays) over it from T0 to T1."""
    vin, base = programme(src)
    graph = f"{base};[1:v]format=yuv420p,{insert_vf}[ins];[base][ins]overlay={EN}[v]"
    return vin + ["-f", "lavfi", "-i", insert_src, "-filter_complex", graph, "-map", "[v]"]

def lav(src):
    return f"{src}=s={W}x{H}:r={FPS}"

def stripes(colours, extra=""):
    """Vertical stripes of the given colours (lavfi graph), full picture."""
    n = len(colours)
    parts = "".join(f"color=c={c}:s={W // n}x{H}:r={FPS}[s{i}];" for i, c in enumerate(colours))
    return parts + "".join(f"[s{i}]" for i in range(n)) + f"hstack=inputs={n},scale={W}:{H},format=yuv420p{extra}"

BARS75 = ["0xc0c0c0", "0xc0c000", "0x00c0c0", "0x00c000", "0xc000c0", "0xc00000", "0x0000c0"]

def clips():
    """name -> (ffmpeg input/filter args, truth {type: [(start, end)]}, forbidden types)."""
    c = {}
    tp = {"test_pattern": [(T0, T1)]}
    forbid_all = ["test_pattern", "slate", "black", "freeze"]
    # Bars with idents over them.
    c["bars_smpte_caption_clock"] = (spliced("", lav("smptebars"),
        "drawbox=x=iw*0.3:y=ih*0.35:w=iw*0.4:h=ih*0.12:color=black:t=fill,"
        + text("AVMON ONE", "(w-tw)/2", "h*0.37", 44) + "," + CLOCK), tp, forbid_all)
    c["bars_hd_ident_clock"] = (spliced("", lav("smptehdbars"),
        "drawbox=x=iw*0.25:y=ih*0.08:w=iw*0.5:h=ih*0.25:color=0x202060:t=fill,"
        + text("AVMON HD", "(w-tw)/2", "h*0.14", 72) + "," + CLOCK), tp, forbid_all)
    c["bars_ebu75_box20pc"] = (spliced("", lav("pal75bars"),
        "drawbox=x=iw*0.3:y=ih*0.25:w=iw*0.4:h=ih*0.5:color=black:t=fill,"
        + text("AVMON", "(w-tw)/2", "h*0.40", 80) + "," + text("%{pts\\:hms}", "(w-tw)/2", "h*0.58", 48)),
        tp, forbid_all)
    c["bars_ebu100_logo_moving_box"] = (spliced("", lav("pal100bars"),
        "drawbox=x=iw*0.04:y=ih*0.05:w=iw*0.08:h=ih*0.1:color=white:t=fill,"
        "drawbox=x='mod(t*240,iw)':y=ih*0.3:w=iw*0.15:h=ih*0.15:color=black:t=fill," + CLOCK), tp, forbid_all)
    c["bars_hd_text_only"] = (spliced("", lav("smptehdbars"),
        text("LINE-UP  AVMON", "(w-tw)/2", "h*0.25", 90) + "," + CLOCK), tp, forbid_all)
    c["bars_smpte_band_caption"] = (spliced("", lav("smptebars"),
        "drawbox=x=0:y=ih*0.4:w=iw:h=ih*0.2:color=black@0.6:t=fill,"
        + text("AVMON ONE  LINE-UP", "(w-tw)/2", "h*0.45", 56) + "," + CLOCK), tp, forbid_all)
    c["bars_ebu75_plain"] = (spliced("", lav("pal75bars"), "null"), tp, forbid_all)
    c["bars_smpte_hevc_clock"] = (spliced("", lav("smptebars"), CLOCK + ",drawbox=x='iw*0.1+mod(t*60,iw*0.2)':"
        "y=ih*0.7:w=iw*0.1:h=ih*0.1:color=red:t=fill"), tp, forbid_all)
    # Stand-alone PLUGE (luma as coded, limited range: black 16; -4 %, -2 %,
    # +2 %, +4 % are 7, 12, 20, 25), with idents.
    def pluge(boxes, overlays="null"):
        lum = "+".join(f"{lvl - 16}*between(X\\,W*{x0}\\,W*{x1})*between(Y\\,H*{y0}\\,H*{y1})"
                       for x0, x1, y0, y1, lvl in boxes)
        return spliced("", f"color=c=black:s={W}x{H}:r={FPS}:d=0.04",
                       f"geq=lum='16+{lum}':cb=128:cr=128,loop=loop=-1:size=1,{overlays}")
    bt814 = [(0.2, 0.25, 0.15, 0.85, 12), (0.3, 0.35, 0.15, 0.85, 20), (0.6, 0.75, 0.35, 0.65, 235)]
    rp219 = [(0.1, 0.14, 0.1, 0.9, 12), (0.18, 0.22, 0.1, 0.9, 20), (0.26, 0.3, 0.1, 0.9, 25)] + [
        (0.7, 0.85, 0.1 + i * 0.16, 0.26 + i * 0.16, lvl) for i, lvl in enumerate((235, 180, 126, 72, 40))]
    classic = [(0.40, 0.44, 0.2, 0.8, 7), (0.48, 0.52, 0.2, 0.8, 25), (0.7, 0.8, 0.2, 0.45, 126),
               (0.7, 0.8, 0.55, 0.8, 235)]
    forbid_tp = ["test_pattern", "slate", "black", "freeze"]
    c["pluge_bt814_plain"] = (pluge(bt814), tp, forbid_tp)
    c["pluge_bt814_clock"] = (pluge(bt814, CLOCK), tp, forbid_tp)
    c["pluge_rp219_steps_box20pc"] = (pluge(rp219, "drawbox=x=iw*0.3:y=ih*0.25:w=iw*0.4:h=ih*0.5:color=0x202060:t=fill,"
        + text("AVMON", "(w-tw)/2", "h*0.40", 80) + "," + text("%{pts\\:hms}", "(w-tw)/2", "h*0.58", 48)), tp, forbid_tp)
    c["pluge_classic_moving_caption"] = (pluge(classic, text("AVMON ONE  %{pts\\:hms}", "mod(t*120\\,w)", "h*0.45", 48,
                                                              "0x303060")), tp, forbid_tp)
    c["pluge_rp219_logo_clock"] = (pluge(rp219, "drawbox=x=iw*0.04:y=ih*0.05:w=iw*0.08:h=ih*0.1:color=white:t=fill,"
                                         + CLOCK), tp, forbid_tp)
    # PLUGE traps: dark programme.
    dark_forbid = ["test_pattern", "slate"]
    vin, base = programme("tree.avi")
    c["trap_fade_to_black"] = (vin + ["-filter_complex", base.replace("[base]", "") +
        f",fade=t=out:st={T0}:d=2,fade=t=in:st={T1 - 2}:d=2[v]", "-map", "[v]"], {}, dark_forbid)
    c["trap_night_tree"] = (vin + ["-filter_complex", base.replace("[base]", "") +
        ",lutyuv=y='16+(val-16)*0.12'[v]", "-map", "[v]"], {}, dark_forbid + ["black", "freeze"])
    vin, base = programme("Megamind.avi")
    c["trap_letterboxed_dark_film"] = (vin + ["-filter_complex", base.replace("[base]", "") +
        f",scale={W}:{H * 3 // 4},pad={W}:{H}:0:{H // 8}:black,lutyuv=y='16+(val-16)*0.25'[v]", "-map", "[v]"],
        {}, dark_forbid)
    lines = ",".join(text(t, "(w-tw)/2", f"h-t*40+{i * 70}", 36) for i, t in enumerate(
        ["Directed by A. N. Other", "Produced by Someone Else", "Camera  Jo Bloggs", "Sound  Ann Example",
         "Grip  Bob Sample", "Thanks to everyone"] * 3))
    c["trap_credits_on_black"] = (["-f", "lavfi", "-i", f"color=c=black:s={W}x{H}:r={FPS}", "-vf", lines],
                                  {}, dark_forbid)
    dark = [("0x101838", 60, 400, "mod(t*50\\,W)", "H*0.1"), ("0x183010", 50, 380, "W*0.5", "H*0.15"),
            ("0x202020", 40, 300, "W*0.7-mod(t*30\\,W*0.5)", "H*0.2")]
    graph = f"color=c=black:s={W}x{H}:r={FPS}[bg0];" + "".join(
        f"color=c={col}:s={w}x{h}:r={FPS}[c{i}];[bg{i}][c{i}]overlay=x='{x}':y='{y}'[bg{i + 1}];"
        for i, (col, w, h, x, y) in enumerate(dark))
    c["trap_dark_flat_animation"] = (["-filter_complex", graph + f"[bg{len(dark)}]format=yuv420p[v]", "-map", "[v]"],
                                     {}, dark_forbid)
    # Traps: programme and stripes that are not bars.
    for src in ("tree.avi", "vtest.avi", "Megamind.avi", "Megamind_bugy.avi"):
        vin, base = programme(src)
        c["trap_" + src.split(".")[0].lower()] = (vin + ["-filter_complex", base.replace("[base]", "[v]"),
                                                          "-map", "[v]"], {}, forbid_all)
    shuffled = [BARS75[i] for i in (3, 0, 5, 1, 6, 2, 4)]
    c["trap_flag_stripes_pan_noise"] = (["-filter_complex",
        stripes(shuffled, ",scroll=horizontal=0.003,noise=alls=20:allf=t") + "[v]", "-map", "[v]"], {}, forbid_all)
    c["trap_canonical_stripes_pan"] = (["-filter_complex",
        stripes(BARS75 * 2, ",scroll=horizontal=0.002,noise=alls=12:allf=t") + "[v]", "-map", "[v]"], {}, forbid_all)
    c["trap_canonical_stripes_wave"] = (["-filter_complex",
        stripes(BARS75, ",rotate=a='0.15*sin(t*2)':fillcolor=black,noise=alls=10:allf=t") + "[v]", "-map", "[v]"],
        {}, forbid_all)
    c["trap_kit_stripes"] = (["-filter_complex",
        stripes(["0xd01010", "0xf0f0f0"] * 5, ",scroll=horizontal=0.004,noise=alls=15:allf=t") + "[v]", "-map", "[v]"],
        {}, forbid_all)
    c["trap_stage_beams"] = (["-filter_complex",
        stripes(["0x000000", "0xff0000", "0x000000", "0x00ff00", "0x000000", "0x0000ff", "0x000000", "0xffff00",
                 "0x000000"], ",gblur=sigma=12,eq=brightness='0.1*sin(t*3)':eval=frame") + "[v]", "-map", "[v]"],
        {}, forbid_all)
    # Flat-colour animation: shapes of plain saturated colour moving over a
    # plain background (drawbox does not move with t: overlay does).
    shapes = [("yellow", 120, 300, "mod(t*150\\,W)", "H*0.2"), ("red", 200, 150, "W-mod(t*110\\,W)", "H*0.5"),
              ("green", 160, 90, "W*0.4", "mod(t*90\\,H)"), ("magenta", 90, 500, "mod(t*70\\,W)", "H*0.05")]
    graph = f"color=c=0x3070c0:s={W}x{H}:r={FPS}[bg0];" + "".join(
        f"color=c={col}:s={w}x{h}:r={FPS}[c{i}];[bg{i}][c{i}]overlay=x='{x}':y='{y}'[bg{i + 1}];"
        for i, (col, w, h, x, y) in enumerate(shapes))
    c["trap_flat_animation"] = (["-filter_complex", graph + f"[bg{len(shapes)}]format=yuv420p[v]", "-map", "[v]"],
                                {}, forbid_all)
    for src in ("testsrc", "testsrc2"):
        c["trap_" + src] = (["-f", "lavfi", "-i", lav(src)], {}, forbid_all)
    # A still test signal that is not bars (RGB ramps) is a still graphic: a slate.
    c["rgbtestsrc_is_a_slate"] = (["-f", "lavfi", "-i", lav("rgbtestsrc")], {"slate": [(0, DUR)]},
                                  ["test_pattern", "slate", "black", "freeze"])
    # Slates.
    sl = {"slate": [(T0, T1)]}
    card = lambda bg, vf: spliced("", f"color=c={bg}:s={W}x{H}:r={FPS}", vf)
    c["slate_text"] = (card("0x1a2a6c", text("WE WILL BE RIGHT BACK", "(w-tw)/2", "h*0.4", 64) + ","
                            + text("avmon one", "(w-tw)/2", "h*0.6", 36)), sl, ["slate", "freeze", "test_pattern"])
    c["slate_gradient_clock"] = (spliced("", f"gradients=s={W}x{H}:r={FPS}:c0=0x202080:c1=0x804020:speed=0.00001",
        text("PROGRAMME WILL RESUME SHORTLY", "(w-tw)/2", "h*0.45", 44) + "," + CLOCK), sl,
        ["slate", "freeze", "test_pattern"])
    c["slate_grey_spinner"] = (card("0x606060", text("TECHNICAL FAULT", "(w-tw)/2", "h*0.3", 64) + ","
        "drawbox=x='iw*0.47+40*cos(t*4)':y='ih*0.62+40*sin(t*4)':w=24:h=24:color=white:t=fill"), sl,
        ["slate", "freeze", "test_pattern"])
    c["slate_ticker"] = (card("0x103010", text("ELECTION NIGHT", "(w-tw)/2", "h*0.3", 72) + ","
        + text("results at ten  -  stay with us  -  results at ten", "w-mod(t*160\\,w+tw)", "h*0.88", 32)), sl,
        ["slate", "freeze", "test_pattern"])
    # Slate traps: a frozen camera picture is a freeze, black is black, bars are bars.
    vin, base = programme("tree.avi")
    c["trap_frozen_tree"] = (vin + ["-filter_complex",
        base.replace("[base]", "") + f",split[a][b];[a][b]freezeframes=first={T0 * FPS}:last={T1 * FPS - 1}:"
        f"replace={T0 * FPS}[v]", "-map", "[v]"], {"freeze": [(T0, T1)]}, ["slate", "test_pattern", "black"])
    vin, base = programme("Megamind.avi")
    c["trap_frozen_animation"] = (vin + ["-filter_complex",
        base.replace("[base]", "") + f",split[a][b];[a][b]freezeframes=first={T0 * FPS}:last={T1 * FPS - 1}:"
        f"replace={T0 * FPS}[v]", "-map", "[v]"], {"freeze": [(T0, T1)]}, ["slate", "test_pattern", "black"])
    vin, base = programme("tree.avi")
    c["trap_black_logo"] = (vin + ["-filter_complex", base.replace("[base]", "") +
        f",drawbox=color=black:t=fill:{EN},drawbox=x=iw*0.85:y=ih*0.05:w=iw*0.1:h=ih*0.08:color=white:t=fill[v]",
        "-map", "[v]"], {"black": [(T0, T1)]}, ["slate", "test_pattern", "freeze"])
    return c

def make(name, args):
    out = CACHE / f"{name}.mp4"
    if not out.exists():
        cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args, "-t", str(DUR), "-an", *X264, str(out)]
        subprocess.run(cmd, check=True)
    return out

def avmon_events(binary, clip):
    ev = clip.with_suffix(".jsonl")
    # slate is off by default; it is what half of these clips measure.
    env = dict(os.environ, AVMON_DETECTORS__SLATE__ENABLED="true")
    subprocess.run([binary, "run", "--input", str(clip), "--events", str(ev), "--log-level", "error"], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    starts, found = {}, []
    for line in ev.read_text().splitlines():
        j = json.loads(line)
        if j.get("kind") == "defect.start":
            starts[j["id"]] = j
        elif j.get("kind") == "defect.end" and j["id"] in starts:
            s = starts.pop(j["id"])
            found.append((s["type"], s["media_time"], j["media_time"]))
    found += [(s["type"], s["media_time"], DUR) for s in starts.values()]
    return found

def freezedetect(clip):
    r = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(clip), "-vf", "freezedetect", "-an", "-f", "null",
                        "-"], capture_output=True, text=True)
    starts = [float(x) for x in re.findall(r"freeze_start: ([\d.]+)", r.stderr)]
    ends = [float(x) for x in re.findall(r"freeze_end: ([\d.]+)", r.stderr)]
    return [("freeze", s, ends[i] if i < len(ends) else DUR) for i, s in enumerate(starts)]

def score(found, truth, forbid, types):
    """Per type: [true, found true, false alarms, onset errors]."""
    res = {}
    for t in types:
        tr = truth.get(t, [])
        ev = [e for e in found if e[0] == t]
        hit = [any(s - SLACK < e[2] and e[1] < x + SLACK for e in ev) for s, x in tr]
        onset = [min((abs(e[1] - s), e[1] - s) for e in ev if s - SLACK < e[2] and e[1] < x + SLACK)[1]
                 for (s, x), h in zip(tr, hit) if h]
        fa = [e for e in ev if t in forbid and not any(s - SLACK < e[2] and e[1] < x + SLACK for s, x in tr)]
        res[t] = [len(tr), sum(hit), len(fa), onset]
    return res

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("avmon", nargs="?", default="build/avmon")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    totals = {}
    for name, (args, truth, forbid) in clips().items():
        if a.only and name not in a.only.split(","):
            continue
        clip = make(name, args)
        found = avmon_events(a.avmon, clip)
        res = score(found, truth, forbid, ["test_pattern", "slate", "freeze", "black"])
        ff = score(freezedetect(clip), {"freeze": truth.get("slate", []) + truth.get("freeze", [])},
                   ["freeze"] if "slate" in truth or "freeze" in truth else [], ["freeze"])["freeze"]
        desc = " ".join(f"{t}:{r[1]}/{r[0]}" + (f" fa={r[2]}" if r[2] else "")
                        + (f" onset={r[3][0]:+.2f}" if r[3] else "") for t, r in res.items() if r[0] or r[2])
        print(f"{name:32s} {desc or 'quiet'}   | avmon {sorted(set(e[0] for e in found)) or '-'}"
              f" | freezedetect {ff[1]}/{ff[0]}" + (f" onset={ff[3][0]:+.2f}" if ff[3] else ""), flush=True)
        for t, r in list(res.items()) + [("ffmpeg_freezedetect_on_" + ("slate" if "slate" in truth else "other"), ff)]:
            acc = totals.setdefault(t, [0, 0, 0, []])
            for i in range(3):
                acc[i] += r[i]
            acc[3] += r[3]
    print()
    for t, (n, hit, fa, on) in totals.items():
        if n == 0 and fa == 0:
            continue
        err = (f" onset median {statistics.median(on):+.2f} s, worst {max(on, key=abs):+.2f} s") if on else ""
        print(f"{t:36s} recall {hit}/{n}, false alarms {fa}{err}")

if __name__ == "__main__":
    main()
