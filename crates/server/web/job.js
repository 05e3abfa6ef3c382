// The job page made live (issue 15): the phase and the progress follow the job without
// reloading, through UWS's blocking WAIT (one request that the server holds until the phase
// changes or 30 s pass), never by polling in a tight loop. When the job reaches a final phase
// the page reloads, to show the result or the error and the actions that remain.
"use strict";
(() => {
  const live = document.getElementById("live");
  if (!live) return;
  const url = live.dataset.job;
  let phase = live.dataset.phase;
  const FINAL = ["COMPLETED", "ERROR", "ABORTED", "ARCHIVED"];
  const ACTIVE = ["PENDING", "QUEUED", "EXECUTING"];
  const HELP = {
    PENDING: "The job is waiting for you: change it if you like, then run it.",
    QUEUED: "The job waits for a free worker; it starts by itself.",
    EXECUTING: "The query is running.",
    HELD: "The service has paused the job; it goes on by itself.",
    SUSPENDED: "The service has paused the job; it goes on by itself.",
    UNKNOWN: "The service cannot tell the phase right now; look again soon.",
  };
  if (FINAL.includes(phase)) return;

  const phaseEl = document.getElementById("phase");
  const helpEl = document.getElementById("phase-help");
  const progressEl = document.getElementById("progress");

  // The text of the first element with this local name (any namespace prefix).
  const textOf = (doc, name) => {
    const el = doc.getElementsByTagNameNS("*", name)[0];
    return el ? el.textContent.trim() : null;
  };

  const show = (doc) => {
    const now = textOf(doc, "phase");
    if (now && now !== phase) {
      phase = now;
      live.dataset.phase = now;
      phaseEl.textContent = now;
      phaseEl.className = "phase-" + now.toLowerCase();
      if (helpEl && HELP[now]) helpEl.textContent = HELP[now];
      // The forms that only a PENDING job accepts go once it has left PENDING.
      if (now !== "PENDING") {
        for (const f of document.querySelectorAll("form.when-pending")) f.hidden = true;
      }
    }
    for (const [name, id] of [["startTime", "s-started"], ["endTime", "s-ended"]]) {
      const value = textOf(doc, name);
      const cell = document.getElementById(id);
      if (value && cell) cell.textContent = value;
    }
    const rows = textOf(doc, "rows");
    if (progressEl) {
      progressEl.textContent = now === "EXECUTING" ? `${rows || 0} rows written so far` : "";
    }
    return now;
  };

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const watch = async () => {
    let pause = 1000;
    for (;;) {
      const asked = Date.now();
      let now = null;
      try {
        const r = await fetch(`${url}?WAIT=30&PHASE=${encodeURIComponent(phase)}`, {
          headers: { Accept: "application/xml" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (r.status === 404) {
          phaseEl.textContent = "DELETED";
          if (helpEl) helpEl.textContent = "This job no longer exists.";
          return;
        }
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const doc = new DOMParser().parseFromString(await r.text(), "application/xml");
        now = show(doc);
      } catch (e) {
        // The service is away or restarting: try again, less and less often.
        await sleep(pause);
        pause = Math.min(pause * 2, 60000);
        continue;
      }
      pause = 1000;
      if (now && FINAL.includes(now)) {
        window.location.reload();
        return;
      }
      // WAIT answers at once for phases it does not block on (HELD, SUSPENDED, UNKNOWN) and
      // when the server's cap is short: never ask again sooner than every few seconds then.
      const took = Date.now() - asked;
      if (!ACTIVE.includes(now) || took < 2000) await sleep(Math.max(0, 3000 - took));
    }
  };
  // Says the page is live (and lets a test tell that scripts ran).
  live.dataset.watching = "yes";
  watch();
})();
