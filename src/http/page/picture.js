// The live picture. A new picture is fetched and decoded off screen and only
// then shown, so a failed fetch (the input is down, avmon restarting) never
// leaves a broken-image placeholder: the page draws its own "no signal"
// panel instead, and does so whenever the state is NO SIGNAL (the last
// picture would otherwise pass for a live one).
const picture = {
  live: $("live"),
  url: null,
  noSignal: false,
  busy: false,
  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const r = await fetch("thumbnail.jpg", {cache: "no-store"});
      if (!r.ok) throw new Error(r.status === 404 ? "no picture yet" : "picture: HTTP " + r.status);
      const url = URL.createObjectURL(await r.blob());
      const probe = new Image();
      probe.src = url;
      await probe.decode();
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = url;
      this.live.src = url;
      this.live.dataset.loaded = "1";
      this.live.dataset.width = probe.naturalWidth;
      this.live.dataset.at = String(serverClock.now());
      this.show(null);
    } catch (e) {
      this.show(e.message || "no picture");
    } finally {
      this.busy = false;
    }
  },
  // why: null to show the picture, else the reason for the placeholder.
  show(why) {
    const reason = this.noSignal ? "input down" + (this.live.dataset.at ? ", last picture " + wall(+this.live.dataset.at) : "")
                                 : why || (this.url ? null : "no picture yet");
    const ph = $("no-signal");
    ph.hidden = !reason;
    ph.dataset.shown = reason ? "1" : "0";
    this.live.hidden = !!reason || !this.url;
    if (reason) {
      text($("no-signal-title"), this.noSignal ? "NO SIGNAL" : "NO PICTURE");
      text($("no-signal-why"), reason);
    }
  },
  setNoSignal(down) {
    if (down === this.noSignal) return;
    this.noSignal = down;
    this.show(null);
  },
};
