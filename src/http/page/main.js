// The header (one state, how long it has held, the tab's title) and the
// polling: /status twice a second, the history and the alarms every second,
// the picture once a second; the graphs are redrawn once a second.
let lastStatus = null;

function renderHeader(s) {
  const st = s.state || {level: s.input.up ? "OK" : "NO SIGNAL", since_ms: null, reasons: []};
  if (st.now_ms) serverClock.update(st.now_ms);
  const head = $("head");
  head.dataset.level = st.level;
  text($("state"), st.level);
  const since = st.since_ms ? "for " + duration(serverClock.now() - st.since_ms) + " · since " + wall(st.since_ms) : "";
  text($("state-for"), since);
  text($("reasons"), (st.reasons || []).join(", "));
  text($("stream"), s.stream);
  // The tab says which stream and how it is, so twenty tabs or a wall of
  // screens can be told apart at a glance.
  const title = st.level + " · " + s.stream + " — avmon";
  if (document.title !== title) document.title = title;
  picture.setNoSignal(st.level === "NO SIGNAL" && !s.input.up);
}

function render(s) {
  lastStatus = s;
  renderHeader(s);
  renderFormat(s);
  renderMeters(s);
  renderEvents(s);
  renderTransport(s.transport);
  // Without the alarms API the list is the active defects: kept in step with the header.
  if (alarms.api !== true) { alarms.list = s.active_defects.map((d) => alarms.fromDefect(d)); alarms.render(); }
  document.body.dataset.updated = String(Date.now());
}

async function poll() {
  try {
    const r = await fetch("status", {cache: "no-store"});
    if (r.ok) render(await r.json());
  } catch (e) {
    text($("input"), "input: (avmon not reachable)");
    $("head").dataset.level = "";
    text($("state"), "UNREACHABLE");
    document.title = "UNREACHABLE · avmon";
  }
}

async function slowPoll() {
  await hist.poll();
  await alarms.poll(lastStatus);
  drawTimeline();
  drawLoudness();
}

poll().then(slowPoll);
picture.refresh();
setInterval(poll, 500);
setInterval(slowPoll, 1000);
setInterval(() => picture.refresh(), 1000);
window.addEventListener("resize", () => { drawTimeline(); drawLoudness(); });
