// The last hour: the history from api/v1/history (polled with `since`, so a
// poll carries only what changed), a timeline with a band per defect type and
// one for the page's state, and the loudness graph (momentary and
// short-term against the target). Both are drawn on canvases, on the
// server's clock.
const SPAN_MS = 3600 * 1000;
const hist = {
  defects: new Map(),   // id -> {type, severity, start_ms, end_ms...}
  states: [],           // [{level, since_ms}], oldest first
  points: [],           // [[t_ms, momentary, short_term]], oldest first
  target: null,
  since_ms: 0,
  merge(h) {
    for (const d of h.defects) this.defects.set(d.id, d);
    for (const s of h.states) {
      if (this.states.length && this.states[this.states.length - 1].since_ms >= s.since_ms) {
        if (this.states[this.states.length - 1].since_ms === s.since_ms) this.states.pop(); else continue;
      }
      this.states.push(s);
    }
    const last = this.points.length ? this.points[this.points.length - 1][0] : -1;
    for (const p of h.loudness.points) if (p[0] > last) this.points.push(p);
    if (h.loudness.target_lufs !== null && h.loudness.target_lufs !== undefined) this.target = h.loudness.target_lufs;
    const oldest = h.now_ms - SPAN_MS;
    while (this.points.length && this.points[0][0] < oldest) this.points.shift();
    while (this.states.length > 1 && this.states[1].since_ms < oldest) this.states.shift();
    for (const [id, d] of this.defects) if (d.end_ms !== null && d.end_ms < oldest) this.defects.delete(id);
    // Lines can be written a little after the clock the server read for them:
    // the next poll overlaps this one by a few seconds.
    this.since_ms = Math.max(0, h.now_ms - 5000);
  },
  async poll() {
    try {
      const r = await fetch("api/v1/history?since=" + this.since_ms, {cache: "no-store"});
      if (!r.ok) return;
      const h = await r.json();
      serverClock.update(h.now_ms);
      this.merge(h);
    } catch (e) { /* avmon not reachable: the header says so */ }
  },
};

const SEVERITY_COLOUR = {critical: "#e33", major: "#f73", minor: "#fc3", warning: "#cc5", info: "#59f"};
const LEVEL_COLOUR = {"OK": "#2a2", "WARNING": "#db3", "ALARM": "#e33", "NO SIGNAL": "#99a"};
const LABEL_W = 120;

// Fits a canvas's drawing buffer to its displayed size (sharp on any screen).
function sizeCanvas(c, height) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(200, c.clientWidth || 600);
  if (height) c.style.height = height + "px";
  const h = height || c.clientHeight || c.height;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  return {g, w, h};
}

// The time axis: ticks every 10 minutes, labelled in wall-clock time.
function drawTimeAxis(g, x0, w, y, now) {
  g.fillStyle = "#888"; g.strokeStyle = "#333"; g.font = "11px system-ui,sans-serif"; g.textAlign = "center";
  const step = 10 * 60 * 1000;
  for (let t = Math.ceil((now - SPAN_MS) / step) * step; t <= now; t += step) {
    const x = x0 + (t - (now - SPAN_MS)) / SPAN_MS * w;
    g.beginPath(); g.moveTo(x, 0); g.lineTo(x, y); g.stroke();
    g.fillText(wall(t).slice(0, 5), x, y + 12);
  }
  g.textAlign = "left";
}

function drawTimeline() {
  const c = $("timeline");
  const now = serverClock.now(), from = now - SPAN_MS;
  const types = [];
  for (const d of hist.defects.values()) if (!types.includes(d.type)) types.push(d.type);
  types.sort();
  const rowH = 18, top = 4;
  const {g, w} = sizeCanvas(c, top + rowH * (types.length + 1) + 18);
  const plotW = w - LABEL_W - 8, axisY = top + rowH * (types.length + 1);
  const x = (t) => LABEL_W + Math.max(0, Math.min(1, (t - from) / SPAN_MS)) * plotW;
  drawTimeAxis(g, LABEL_W, plotW, axisY, now);
  g.font = "12px system-ui,sans-serif";
  // Row 0: the page's state (what the header said, when).
  g.fillStyle = "#aaa"; g.fillText("state", 4, top + 13);
  hist.states.forEach((s, i) => {
    const end = i + 1 < hist.states.length ? hist.states[i + 1].since_ms : now;
    if (end < from || s.level === "OK") return;
    g.fillStyle = LEVEL_COLOUR[s.level] || "#777";
    g.fillRect(x(s.since_ms), top + 3, Math.max(2, x(end) - x(s.since_ms)), rowH - 6);
  });
  let bands = 0;
  types.forEach((type, i) => {
    const y = top + rowH * (i + 1);
    g.fillStyle = "#aaa"; g.fillText(type.length > 16 ? type.slice(0, 15) + "…" : type, 4, y + 13);
    for (const d of hist.defects.values()) {
      if (d.type !== type) continue;
      const end = d.end_ms === null ? now : d.end_ms;
      if (end < from) continue;
      g.fillStyle = SEVERITY_COLOUR[d.severity] || "#aaa";
      g.globalAlpha = d.end_ms === null ? 1 : 0.75;
      g.fillRect(x(d.start_ms), y + 3, Math.max(2, x(end) - x(d.start_ms)), rowH - 6);
      g.globalAlpha = 1;
      ++bands;
    }
  });
  if (!types.length) { g.fillStyle = "#666"; g.fillText("no defects in the last hour", LABEL_W, top + rowH + 13); }
  c.dataset.bands = bands;
  c.dataset.types = types.join(",");
}

function drawLoudness() {
  const c = $("loudness-graph");
  const now = serverClock.now(), from = now - SPAN_MS;
  const {g, w, h} = sizeCanvas(c, 180);
  const left = 44, top = 8, plotW = w - left - 8, plotH = h - 22 - top;
  const lo = -60, hi = 0;
  const x = (t) => left + (t - from) / SPAN_MS * plotW;
  const y = (v) => top + Math.max(0, Math.min(plotH, (hi - v) / (hi - lo) * plotH));
  g.font = "11px system-ui,sans-serif"; g.strokeStyle = "#333"; g.fillStyle = "#888";
  for (let v = lo; v <= hi; v += 10) {
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(left + plotW, y(v)); g.stroke();
    g.fillText(String(v), 8, y(v) + 4);
  }
  drawTimeAxis(g, left, plotW, top + plotH, now);
  if (hist.target !== null) {
    g.strokeStyle = "#e55"; g.setLineDash([6, 4]); g.lineWidth = 1.5;
    g.beginPath(); g.moveTo(left, y(hist.target)); g.lineTo(left + plotW, y(hist.target)); g.stroke();
    g.setLineDash([]);
  }
  // A gap of more than 3 s (no audio, input down) breaks the line.
  const line = (k, colour, width) => {
    g.strokeStyle = colour; g.lineWidth = width; g.beginPath();
    let prev = null, n = 0;
    for (const p of hist.points) {
      const v = p[k];
      if (v === null || p[0] < from) { prev = null; continue; }
      if (prev === null || p[0] - prev > 3000) g.moveTo(x(p[0]), y(v)); else g.lineTo(x(p[0]), y(v));
      prev = p[0]; ++n;
    }
    g.stroke(); g.lineWidth = 1;
    return n;
  };
  const m = line(1, "#6af", 1), s = line(2, "#fc3", 2);
  c.dataset.points = m + s;
  c.dataset.momentary = m;
  c.dataset.shortTerm = s;
  if (hist.target !== null) c.dataset.target = hist.target;
  if (!m && !s) { g.fillStyle = "#666"; g.fillText("no loudness measured yet", left + 8, 16); }
}
