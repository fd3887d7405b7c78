// The panels that show /status as it is: format, audio meters and loudness
// figures, recent events, and the transport stream (TR 101 290, PIDs).
function renderMeters(s) {
  const meters = $("meters");
  const chans = s.levels.channels;
  while (meters.children.length > chans.length) meters.lastChild.remove();
  chans.forEach((c, i) => {
    let row = meters.children[i];
    if (!row) {
      row = el("div", "meter");
      row.innerHTML = '<b></b><div class="bar"><i></i></div><span></span>';
      meters.appendChild(row);
    }
    row.dataset.channel = c.name; row.dataset.peak = c.peak_dbfs; row.dataset.rms = c.rms_dbfs;
    text(row.children[0], c.name);
    // Down, the last levels would pass for live ones: the bars drop.
    const peak = s.input.up ? c.peak_dbfs : -120;
    row.querySelector("i").style.width = Math.max(0, Math.min(100, (peak + 60) / 60 * 100)) + "%";
    text(row.children[2], s.input.up ? c.peak_dbfs.toFixed(1) + " / " + c.rms_dbfs.toFixed(1) + " dB" : "–");
  });
  const l = s.levels.loudness;
  text($("lufs-m"), "M: " + lufs(l.momentary_lufs));
  text($("lufs-s"), "S: " + lufs(l.short_term_lufs));
  text($("lufs-i"), "I: " + lufs(l.integrated_lufs));
}

function renderFormat(s) {
  const inp = $("input");
  text(inp, "input: " + (s.input.up ? "up" : "down"));
  inp.className = s.input.up ? "up" : "down";
  if (s.format) text($("format"), (s.format.video ? s.format.width + "x" + s.format.height + " " + s.format.video_codec : "")
      + (s.format.audio ? "  " + s.format.channels + " ch " + s.format.audio_codec : ""));
  text($("clock"), wall(serverClock.now()));
}

function renderEvents(s) {
  const list = $("events");
  list.replaceChildren();
  for (const e of s.recent_events.slice().reverse()) {
    const li = el("li", "event k-" + (e.kind || "").split(".").pop()); li.dataset.kind = e.kind;
    const at = e.wall_time ? new Date(e.wall_time).getTime() : NaN;
    const t = el("span", "t", isNaN(at) ? clock(e.media_time || 0) : wall(at));
    t.title = "media time " + clock(e.media_time || 0);
    li.appendChild(t);
    // A line about no defect (a mask set or removed) says what it did.
    const d = e.details || {};
    const text = e.type ? what(e) : [d.name, d.action, d.types && d.types.length ? "(" + d.types.join(", ") + ")" : ""]
                                        .filter(Boolean).join(" ") || what(e);
    li.appendChild(document.createTextNode(e.kind + " " + text));
    list.appendChild(li);
  }
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
