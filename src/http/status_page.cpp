// The status page: one self-contained HTML document (no external scripts,
// fonts or styles, so it works on an isolated network). It polls /status
// twice a second and reloads the live thumbnail once a second.
#include "http/server.hpp"

namespace avmon {

const std::string& status_page_html() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>avmon</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#111;color:#ddd}
 header{padding:8px 16px;background:#222;display:flex;gap:16px;align-items:baseline}
 header h1{font-size:18px;margin:0} .up{color:#5c5} .down{color:#e55}
 main{display:grid;grid-template-columns:minmax(320px,640px) 1fr;gap:16px;padding:16px}
 section{background:#1b1b1b;border-radius:6px;padding:12px} h2{font-size:14px;margin:0 0 8px;color:#aaa}
 #live{width:100%;background:#000;min-height:180px;display:block}
 .meter{display:grid;grid-template-columns:48px 1fr 110px;gap:8px;align-items:center;margin:4px 0}
 .bar{height:12px;background:#333;position:relative;border-radius:2px;overflow:hidden}
 .bar i{position:absolute;left:0;top:0;bottom:0;background:linear-gradient(90deg,#3a3,#cc3 80%,#e33)}
 #loudness span{display:inline-block;min-width:150px}
 ul{list-style:none;margin:0;padding:0} li{padding:3px 0;border-bottom:1px solid #2a2a2a}
 .defect{color:#f77} .defect img{height:48px;vertical-align:middle;margin-right:8px}
 .k-start{color:#f77} .k-end{color:#7d7} .t{color:#888;font-variant-numeric:tabular-nums;margin-right:8px}
 table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums} td,th{padding:2px 6px;text-align:right}
 td:first-child,th:first-child,td.l,th.l{text-align:left} th{color:#888;font-weight:normal} .bad{color:#f77}
 #ts-errors{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:0 12px;margin:8px 0}
</style></head>
<body>
<header><h1>avmon <span id="stream"></span></h1><span id="input" class="down">input: unknown</span><span id="format"></span></header>
<main>
 <div>
  <section><h2>Picture (live)</h2><img id="live" alt="live picture" data-loaded="0"></section>
  <section><h2>Audio</h2><div id="meters"></div>
   <div id="loudness"><span id="lufs-m">M: –</span><span id="lufs-s">S: –</span><span id="lufs-i">I: –</span></div></section>
 </div>
 <div>
  <section><h2>Active defects</h2><ul id="defects"><li id="no-defects">none</li></ul></section>
  <section><h2>Recent events</h2><ul id="timeline"></ul></section>
  <section id="transport" hidden><h2>Transport stream (TR 101 290)</h2><div id="ts-service"></div>
   <div id="ts-errors"></div>
   <table id="ts-pids"><thead><tr><th>PID</th><th class="l">role</th><th class="l">codec</th><th>Mbit/s</th><th>packets</th>
    <th>CC errors</th><th>scrambled</th></tr></thead><tbody></tbody></table></section>
 </div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function text(el, s) { if (el.textContent !== s) el.textContent = s; }
function lufs(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " LUFS"; }
function clock(t) { const m = Math.floor(t / 60); return String(m).padStart(2, "0") + ":" + (t - 60 * m).toFixed(2).padStart(5, "0"); }
function what(e) { return (e.type || e.kind) + (e.channel !== undefined ? " (ch " + e.channel + ")" : ""); }

const live = $("live");
live.onload = () => { live.dataset.loaded = "1"; live.dataset.width = live.naturalWidth; };
function refreshPicture() { live.src = "thumbnail.jpg?t=" + Date.now(); }

function render(s) {
  text($("stream"), s.stream);
  const inp = $("input");
  text(inp, "input: " + (s.input.up ? "up" : "down"));
  inp.className = s.input.up ? "up" : "down";
  if (s.format) text($("format"), (s.format.video ? s.format.width + "x" + s.format.height + " " + s.format.video_codec : "")
      + (s.format.audio ? "  " + s.format.channels + " ch " + s.format.audio_codec : ""));

  const meters = $("meters");
  const chans = s.levels.channels;
  while (meters.children.length > chans.length) meters.lastChild.remove();
  chans.forEach((c, i) => {
    let row = meters.children[i];
    if (!row) {
      row = document.createElement("div"); row.className = "meter";
      row.innerHTML = '<b></b><div class="bar"><i></i></div><span></span>';
      meters.appendChild(row);
    }
    row.dataset.channel = c.name; row.dataset.peak = c.peak_dbfs; row.dataset.rms = c.rms_dbfs;
    text(row.children[0], c.name);
    row.querySelector("i").style.width = Math.max(0, Math.min(100, (c.peak_dbfs + 60) / 60 * 100)) + "%";
    text(row.children[2], c.peak_dbfs.toFixed(1) + " / " + c.rms_dbfs.toFixed(1) + " dB");
  });
  const l = s.levels.loudness;
  text($("lufs-m"), "M: " + lufs(l.momentary_lufs));
  text($("lufs-s"), "S: " + lufs(l.short_term_lufs));
  text($("lufs-i"), "I: " + lufs(l.integrated_lufs));

  const defects = $("defects");
  defects.replaceChildren();
  if (!s.active_defects.length) { const li = document.createElement("li"); li.id = "no-defects"; li.textContent = "none"; defects.appendChild(li); }
  for (const d of s.active_defects) {
    const li = document.createElement("li"); li.className = "defect"; li.dataset.type = d.type; li.dataset.id = d.id;
    const thumb = d.details && d.details.thumbnail;
    if (thumb) { const img = document.createElement("img"); img.src = thumb.replace(/^.*\/thumbnails\//, "thumbnails/"); li.appendChild(img); }
    li.appendChild(document.createTextNode(what(d) + " since " + clock(d.media_time) + " (" + d.severity + ", " + d.detector + ")"));
    defects.appendChild(li);
  }
  const tl = $("timeline");
  tl.replaceChildren();
  for (const e of s.recent_events.slice().reverse()) {
    const li = document.createElement("li"); li.className = "event k-" + (e.kind || "").split(".").pop(); li.dataset.kind = e.kind;
    const t = document.createElement("span"); t.className = "t"; t.textContent = clock(e.media_time || 0);
    li.appendChild(t); li.appendChild(document.createTextNode(e.kind + " " + what(e)));
    tl.appendChild(li);
  }
  renderTransport(s.transport);
  document.body.dataset.updated = String(Date.now());
}

function hex(pid) { return "0x" + pid.toString(16).toUpperCase().padStart(4, "0"); }
function renderTransport(t) {
  const sec = $("transport");
  sec.hidden = !t;
  if (!t) return;
  const svc = t.service;
  text($("ts-service"), svc ? "service " + svc.program_number + (svc.name ? ": " + svc.name : "")
      + (svc.provider ? " (" + svc.provider + ")" : "") + (svc.scrambled ? " - SCRAMBLED" : "")
      + "  " + (t.bitrate_bps / 1e6).toFixed(2) + " Mbit/s" : "no service");
  const errs = $("ts-errors");
  errs.replaceChildren();
  for (const [name, n] of Object.entries(t.tr101290 || {})) {
    const d = document.createElement("div"); d.dataset.indicator = name; d.dataset.count = n;
    if (n > 0) d.className = "bad";
    d.textContent = name + ": " + n;
    errs.appendChild(d);
  }
  const body = $("ts-pids").tBodies[0];
  body.replaceChildren();
  for (const p of t.pids || []) {
    const tr = document.createElement("tr"); tr.dataset.pid = p.pid;
    const cells = [hex(p.pid), p.role, p.codec || "", (p.bitrate_bps / 1e6).toFixed(3), p.packets, p.cc_errors,
                   p.scrambled ? "yes" : "no"];
    cells.forEach((c, i) => { const td = document.createElement("td"); td.textContent = c;
      if (i === 1 || i === 2) td.className = "l";
      if ((i === 5 && p.cc_errors > 0) || (i === 6 && p.scrambled)) td.className = "bad";
      tr.appendChild(td); });
    body.appendChild(tr);
  }
}

async function poll() {
  try { const r = await fetch("status", {cache: "no-store"}); if (r.ok) render(await r.json()); }
  catch (e) { text($("input"), "input: (avmon not reachable)"); }
}
refreshPicture(); poll();
setInterval(refreshPicture, 1000);
setInterval(poll, 500);
</script>
</body></html>
)HTML";
  return page;
}

}  // namespace avmon
