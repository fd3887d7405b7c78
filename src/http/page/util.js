// Small helpers shared by the page's parts.
const $ = (id) => document.getElementById(id);
function text(el, s) { if (el.textContent !== s) el.textContent = s; }
function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content !== undefined) e.textContent = content;
  return e;
}
function lufs(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " LUFS"; }
// Media time (a detail): mm:ss.ss from the stream's start.
function clock(t) { const m = Math.floor(t / 60); return String(m).padStart(2, "0") + ":" + (t - 60 * m).toFixed(2).padStart(5, "0"); }
function what(e) { return (e.type || e.kind) + (e.channel !== undefined && e.channel !== null ? " (ch " + e.channel + ")" : ""); }
const pad2 = (n) => String(n).padStart(2, "0");
// Wall clock, the operator's local time: 02:13:05.
function wall(ms) { const d = new Date(ms); return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds()); }
// A running duration: 12 s, 4 min 05 s, 1 h 02 min.
function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + pad2(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + pad2(Math.floor(s % 3600 / 60)) + " min";
}
// The server's clock: durations and the timeline are measured on it, so a
// browser whose clock is off still shows how long things have lasted.
const serverClock = {
  offset_ms: 0,
  update(server_now_ms) { if (typeof server_now_ms === "number") this.offset_ms = server_now_ms - Date.now(); },
  now() { return Date.now() + this.offset_ms; },
};
