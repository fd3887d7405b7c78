// The alarm list: severity, wall-clock onset with a running duration (media
// time as a detail), latched and acknowledged alarms, evidence (the
// picture at the onset, the clip around it), and the operator's actions:
// acknowledge and mask, through the alarms API with the operator's bearer
// token (asked for once per browser tab, kept in sessionStorage). Without
// the alarms API the list is the active defects, with no actions.
const alarms = {
  api: null,         // true once api/v1/alarms answered, false when it does not exist
  list: [],          // normalised: {id, type, channel, severity, state, since_ms, end_ms, media_time, acked, masked...}
  pending: null,     // the action the token dialog is for
  async poll(status) {
    if (this.api !== false) {
      try {
        // The token goes along when known (http.api_read_token makes reads need it too).
        const token = sessionStorage.getItem("avmon-token");
        const r = await fetch("api/v1/alarms", {cache: "no-store", headers: token ? {"Authorization": "Bearer " + token} : {}});
        this.readRefused = r.status === 401;
        if (r.status === 404) this.api = false;
        else if (this.readRefused) this.api = null;
        else if (r.ok) {
          const body = await r.json();
          this.api = true;
          this.list = (Array.isArray(body) ? body : body.alarms || []).map((a) => this.fromApi(a));
        }
      } catch (e) { /* not reachable: keep the last list */ }
    }
    if (this.api !== true && status) this.list = status.active_defects.map((d) => this.fromDefect(d));
    this.render();
  },
  fromApi(a) {
    const h = hist.defects.get(a.defect_id || a.id) || hist.defects.get(a.id) || {};
    return {
      id: a.id, type: a.type, channel: a.channel, severity: a.severity, detector: a.detector,
      state: a.state || "active",
      // The onset as the history dated it back (the alarm's `since` is when
      // it was raised, min_duration_s later).
      since_ms: h.start_ms !== undefined ? h.start_ms : a.since_ms || (a.since ? Date.parse(a.since) : null),
      end_ms: a.cleared_at ? Date.parse(a.cleared_at) : (h.end_ms === undefined ? null : h.end_ms),
      media_time: a.media_time !== undefined ? a.media_time : h.media_time,
      acked: a.acked || null, masked: !!a.masked, masked_by: a.masked_by || [],
      flapping: !!a.flapping, raises: a.raises,
      thumbnail: h.thumbnail || (a.details && a.details.thumbnail),
      clip: h.clip, pictures: h.pictures || [],
    };
  },
  fromDefect(d) {
    const h = hist.defects.get(d.id) || {};
    const details = d.details || {};
    return {
      id: d.id, type: d.type, channel: d.channel, severity: d.severity, detector: d.detector, state: "active",
      since_ms: h.start_ms !== undefined ? h.start_ms : (d.wall_time ? Date.parse(d.wall_time) : null),
      end_ms: null, media_time: d.media_time, acked: null, masked: false,
      thumbnail: details.thumbnail || h.thumbnail, clip: h.clip, pictures: h.pictures || [],
    };
  },
  // Worst first, then the newest.
  sorted() {
    const rank = {critical: 0, major: 1, minor: 2, warning: 3, info: 4};
    const open = (a) => (a.state === "active" ? 0 : 1);
    return this.list.filter((a) => a.state !== "cleared").sort((a, b) => open(a) - open(b)
        || (rank[a.severity] ?? 5) - (rank[b.severity] ?? 5) || (b.since_ms || 0) - (a.since_ms || 0));
  },
  render() {
    const ul = $("alarms");
    const shown = this.sorted();
    const now = serverClock.now();
    ul.replaceChildren();
    text($("alarm-count"), shown.length ? "(" + shown.length + ")" : "");
    if (!shown.length) { const li = el("li", null, "none"); li.id = "no-alarms"; ul.appendChild(li); }
    for (const a of shown) ul.appendChild(this.item(a, now));
    const note = $("api-note");
    note.hidden = this.api === true && !this.readRefused;
    text(note, this.readRefused ? "The alarms API needs the operator token to list alarms: acknowledge one to give it."
                                : "Acknowledging and masking need the alarms API, which this avmon does not offer.");
  },
  item(a, now) {
    const li = el("li", "alarm");
    Object.assign(li.dataset, {id: a.id, type: a.type, severity: a.severity, state: a.state,
                               acked: a.acked ? "1" : "0", masked: a.masked ? "1" : "0"});
    li.appendChild(el("span", "sev sev-" + a.severity, a.severity));
    const body = el("div");
    body.appendChild(el("div", "what", what(a) + (a.flapping ? " — flapping (" + a.raises + " raises)" : "")));
    const until = a.state === "active" || a.end_ms === null ? now : a.end_ms;
    const when = a.since_ms ? "since " + wall(a.since_ms) + " (" + duration(until - a.since_ms) + ")" : "";
    const ended = a.state !== "active" && a.end_ms ? ", ended " + wall(a.end_ms) : "";
    body.appendChild(el("div", "when", when + ended));
    const details = [];
    if (a.media_time !== undefined && a.media_time !== null) details.push("media time " + clock(a.media_time));
    if (a.detector) details.push(a.detector);
    if (a.acked) details.push("acknowledged by " + (a.acked.by || "?") + (a.acked.at ? " at " + wall(Date.parse(a.acked.at)) : ""));
    if (a.masked) details.push("masked" + (a.masked_by && a.masked_by.length ? " by " + a.masked_by.join(", ") : ""));
    body.appendChild(el("div", "media", details.join(" · ")));
    li.appendChild(body);
    const buttons = el("div", "buttons");
    const ack = el("button", "ack", "Acknowledge");
    ack.disabled = (this.api !== true && !this.readRefused) || !!a.acked;
    ack.onclick = () => this.ask({kind: "ack", alarm: a});
    const mask = el("button", "mask", "Mask");
    mask.disabled = (this.api !== true && !this.readRefused) || a.masked;
    mask.onclick = () => this.ask({kind: "mask", alarm: a});
    buttons.append(ack, mask);
    li.appendChild(buttons);
    // Evidence: the picture at the onset, the evidence pictures at the raise
    // and the clear, the clip around it (each a link to the full size).
    const pics = [a.thumbnail, ...(a.pictures || [])].filter(Boolean);
    if (pics.length || a.clip) {
      const ev = el("div", "ev");
      pics.forEach((p, i) => {
        // Relative, so the page works behind a proxy's path prefix too.
        const href = i === 0 ? p.replace(/^.*\/thumbnails\//, "thumbnails/") : p.replace(/^\//, "");
        const link = el("a"); link.href = href; link.target = "_blank";
        const img = el("img");
        img.alt = i === 0 ? "picture at the onset" : /-clear\.jpg$/.test(p) ? "picture at the clear" : "picture at the raise";
        img.title = img.alt;
        // An evicted picture goes away rather than showing a broken image.
        img.onerror = () => link.remove();
        img.src = href;
        link.appendChild(img);
        ev.appendChild(link);
      });
      if (a.clip) { const c = el("a", "clip", "evidence clip"); c.href = a.clip.replace(/^\//, ""); c.download = ""; ev.appendChild(c); }
      li.appendChild(ev);
    }
    return li;
  },
  // The token dialog: opens for every action (the token is filled in when
  // known, so acknowledging is one more click), and again with the server's
  // answer when it refuses.
  ask(action, error) {
    this.pending = action;
    const a = action.alarm;
    text($("auth-title"), action.kind === "ack" ? "Acknowledge alarm" : "Mask alarms of type " + a.type);
    text($("auth-what"), what(a) + " (" + a.severity + ")" + (a.since_ms ? " since " + wall(a.since_ms) : ""));
    $("mask-for-row").hidden = action.kind !== "mask";
    $("token").value = sessionStorage.getItem("avmon-token") || "";
    text($("auth-error"), error || "");
    const dlg = $("auth");
    if (!dlg.open) dlg.showModal();
    $("token").focus();
  },
  async submit() {
    const action = this.pending;
    if (!action) return;
    const token = $("token").value.trim();
    if (!token) { this.ask(action, "A token is needed."); return; }
    const a = action.alarm;
    const headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"};
    let r;
    try {
      if (action.kind === "ack")
        r = await fetch("api/v1/alarms/" + encodeURIComponent(a.id) + "/ack",
                        {method: "POST", headers, body: JSON.stringify({by: "status page", comment: ""})});
      else
        r = await fetch("api/v1/masks/" + encodeURIComponent("page-" + a.type),
                        {method: "PUT", headers, body: JSON.stringify({types: [a.type], by: "status page",
                          until: new Date(serverClock.now() + 1000 * $("mask-for").value).toISOString()})});
    } catch (e) { this.ask(action, "avmon is not reachable."); return; }
    if (r.status === 401 || r.status === 403) {
      sessionStorage.removeItem("avmon-token");
      this.ask(action, "The token was refused (HTTP " + r.status + ").");
      return;
    }
    if (!r.ok) { this.ask(action, "Refused: HTTP " + r.status + " " + (await r.text()).slice(0, 200)); return; }
    sessionStorage.setItem("avmon-token", token);
    this.pending = null;
    $("auth").close();
    document.body.dataset.lastAction = action.kind + ":" + a.id + ":" + r.status;
    await this.poll(null);
  },
};

$("auth-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (e.submitter && e.submitter.id === "auth-cancel") { alarms.pending = null; $("auth").close(); return; }
  alarms.submit();
});
