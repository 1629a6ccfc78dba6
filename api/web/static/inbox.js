// Alert inbox. The page comes rendered from the server with its filters applied; this keeps it
// live from /v1/alerts/stream (SSE): a frame that matches the page's filters brings that
// alert's card from /app/inbox/alerts/{id} (the server's own rendering, times in the
// enrollee's zone), and a new critical alert shows the banner whatever the filters.
// Actions wait UNDO_MS before they are sent, so they can be undone; a page hidden or closed
// meanwhile sends them at once (fetch keepalive), so none is lost (docs/api.md, "Web app").
// No framework, no CDN: the machine this runs on may be offline.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("inbox-data").textContent);
  const T = DATA.text, F = DATA.filters;
  const UNDO_MS = 5000;
  const RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  const PAGE_TIME = Date.parse(DATA.now);  // the server's clock when it rendered the page
  const alerts = new Map(DATA.alerts.map((a) => [a.id, a]));
  const list = document.getElementById("alerts");
  const banner = document.getElementById("banner");
  const bannerText = document.getElementById("banner-text");
  const live = document.getElementById("live");
  const soundButton = document.getElementById("sound");
  const pending = new Map();   // alert id -> the action waiting to be sent
  const critical = new Map();  // alert id -> new critical alerts the banner shows, newest last
  const fetches = new Map();   // alert id -> number of the latest card fetch
  let jumpWanted = null;
  let soundOn = localStorage.getItem("dolbom-sound") !== "off";
  let audio = null;

  const fmt = (text, values) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const snoozed = (a) => Boolean(a.snoozed_until) && Date.parse(a.snoozed_until) > Date.now();

  function matches(a) {
    if (F.status ? a.status !== F.status : a.status === "resolved") return false;
    if (F.severity && a.severity !== F.severity) return false;
    if (F.kind && a.kind !== F.kind) return false;
    if (F.enrollee_id && a.enrollee_id !== F.enrollee_id) return false;
    if (F.q && !String(a.enrollee_name).toLowerCase().includes(F.q.toLowerCase())) return false;
    return true;
  }
  // The server's order: the history newest first; the inbox critical first, snoozed last
  // within a severity, then longest waiting first.
  function order(a, b) {
    if (F.status === "resolved") return b.id - a.id;
    return (RANK[a.severity] - RANK[b.severity]) || (snoozed(a) - snoozed(b)) ||
      (Date.parse(a.opened_at) - Date.parse(b.opened_at)) || (a.id - b.id);
  }
  function place(li, a) {
    const focused = li.contains(document.activeElement) ? document.activeElement : null;
    let next = null;
    for (const other of list.children) {
      if (other === li) continue;
      const b = alerts.get(Number(other.dataset.id));
      if (b && order(a, b) < 0) { next = other; break; }
    }
    if (li.parentNode !== list || li.nextElementSibling !== next) list.insertBefore(li, next);
    if (focused) focused.focus({ preventScroll: true });
  }
  function counted() {
    const n = list.children.length;
    document.getElementById("empty").hidden = n > 0;
    document.getElementById("count").textContent = fmt(T.shown_n, { n });
    const open = [...alerts.values()].filter((a) => a.severity === "critical" && a.status === "open").length;
    document.title = (open ? `(${open}) ` : "") + document.title.replace(/^\(\d+\) /, "");
  }
  function editing() {
    const active = document.activeElement;
    return pending.size > 0 || Boolean(list.querySelector("form.resolve")) ||
      (active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName));
  }
  function inView(el) {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }

  // A card as the server renders it; an open resolve form (and its note) stays where it is.
  async function refresh(id, { fresh = false } = {}) {
    const n = (fetches.get(id) || 0) + 1;
    fetches.set(id, n);
    let response;
    try {
      response = await fetch(`/app/inbox/alerts/${id}`, { credentials: "same-origin", headers: { Accept: "text/html" } });
    } catch (e) { return; }
    if (response.redirected && new URL(response.url).pathname === "/app/login") { location.href = "/app/login"; return; }
    const old = document.getElementById(`alert-${id}`);
    if (fetches.get(id) !== n || pending.has(id)) return;  // a newer fetch, or an action waiting
    if (!response.ok) { if (response.status === 404 && old) { old.remove(); counted(); } return; }
    const holder = document.createElement("template");
    holder.innerHTML = (await response.text()).trim();
    const card = holder.content.querySelector("li.alert");
    const a = alerts.get(id);
    if (!card || !a || fetches.get(id) !== n || pending.has(id)) return;
    if (!matches(a)) { if (old) { old.remove(); counted(); } return; }
    let li = card;
    if (old) {
      const form = old.querySelector(":scope > form.resolve");
      for (const child of [...old.children]) if (child !== form) child.remove();
      for (const child of [...card.children]) old.insertBefore(child, form);
      if (form && a.status === "resolved") form.remove();
      old.className = card.className;
      old.dataset.updated = card.dataset.updated;
      li = old;
    }
    if (fresh) li.classList.add("new");
    place(li, a);
    counted();
    if (jumpWanted === id) { jumpWanted = null; jump(id); }
    else if (fresh && !editing() && !inView(li)) li.scrollIntoView({ block: "center" });
  }

  // The stream.
  function onAlert(a) {
    const before = alerts.get(a.id);
    alerts.set(a.id, a);
    const isCritical = a.severity === "critical" && a.status === "open";
    const becameCritical = isCritical && (before ? before.severity !== "critical" || before.status !== "open"
      : Date.parse(a.opened_at) >= PAGE_TIME);  // unseen here: new if it opened after the page
    if (becameCritical) announce(a);
    if (!isCritical) clearBanner(a.id);
    const li = document.getElementById(`alert-${a.id}`);
    if (pending.has(a.id)) return;  // refreshed once the action is sent or undone
    if (!matches(a)) { if (li) { li.remove(); counted(); } return; }
    if (!li && F.status === "resolved" && !DATA.first_page) return;  // newer than this page
    if (li && Date.parse(li.dataset.updated) >= Date.parse(a.updated_at)) return;
    refresh(a.id, { fresh: becameCritical });
  }

  // The banner: the newest critical alert not yet taken by anyone; a button that jumps to it.
  function showBanner() {
    const ids = [...critical.keys()];
    if (!ids.length) { banner.hidden = true; delete banner.dataset.id; return; }
    const a = critical.get(ids[ids.length - 1]);
    const more = ids.length > 1 ? ` (${fmt(T.more_critical, { n: ids.length - 1 })})` : "";
    bannerText.textContent = `${T.new_critical}: ${T["kind_" + a.kind] || a.kind} · ${a.enrollee_name} · ${(a.summary_text || {})[document.documentElement.lang] || a.summary}${more}`;
    banner.dataset.id = a.id;
    banner.hidden = false;
  }
  function announce(a) {
    critical.delete(a.id);
    critical.set(a.id, a);
    showBanner();
    banner.classList.remove("flash");
    void banner.offsetWidth;  // restart the animation
    banner.classList.add("flash");
    beep();
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  }
  function clearBanner(id) { if (critical.delete(id)) showBanner(); }
  function jump(id) {
    const li = document.getElementById(`alert-${id}`);
    if (li) {
      li.scrollIntoView({ block: "center", behavior: "smooth" });
      li.focus({ preventScroll: true });
      li.classList.add("new");
    } else if (alerts.has(id) && matches(alerts.get(id))) {
      jumpWanted = id;  // its card is on its way
    } else {
      location.href = `/app#alert-${id}`;  // filtered out here: the whole inbox
    }
  }
  document.getElementById("banner-go").addEventListener("click", () => jump(Number(banner.dataset.id)));
  document.getElementById("banner-close").addEventListener("click", () => clearBanner(Number(banner.dataset.id)));

  function beep() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      for (const [i, f] of [[0, 880], [1, 660], [2, 880]]) {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = f; osc.connect(gain); gain.connect(audio.destination);
        const t0 = audio.currentTime + i * 0.22;
        gain.gain.setValueAtTime(0.2, t0); gain.gain.exponentialRampToValueAtTime(0.001, t0 + 0.2);
        osc.start(t0); osc.stop(t0 + 0.21);
      }
    } catch (e) { /* audio not allowed until the user interacts: the banner still shows */ }
  }
  soundButton.textContent = soundOn ? T.sound_off : T.sound_on;
  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem("dolbom-sound", soundOn ? "on" : "off");
    soundButton.textContent = soundOn ? T.sound_off : T.sound_on;
    if (soundOn) beep();
  });

  // Actions, each sent UNDO_MS after the tap unless undone.
  function schedule(li, action, body) {
    const id = Number(li.dataset.id);
    if (pending.has(id)) return;
    for (const old of li.querySelectorAll(":scope > .error")) old.remove();
    const bar = document.getElementById("undo-bar").content.firstElementChild.cloneNode(true);
    const entry = { id, li, action, body, bar, deadline: Date.now() + UNDO_MS };
    entry.timer = setTimeout(() => send(id, false), UNDO_MS);
    entry.ticker = setInterval(() => tick(entry), 250);
    pending.set(id, entry);
    li.classList.add("pending");
    li.appendChild(bar);
    tick(entry);
    bar.querySelector("button.undo").focus({ preventScroll: true });
  }
  function tick(entry) {
    const seconds = Math.max(0, Math.ceil((entry.deadline - Date.now()) / 1000));
    entry.bar.querySelector(".undo-text").textContent = `${T["pending_" + entry.action]} · ${fmt(T.pending_in, { n: seconds })}`;
  }
  function settle(entry) {
    clearTimeout(entry.timer);
    clearInterval(entry.ticker);
    pending.delete(entry.id);
    entry.bar.remove();
    entry.li.classList.remove("pending");
  }
  function undo(id) {
    const entry = pending.get(id);
    if (!entry) return;
    settle(entry);
    const a = alerts.get(id);
    if (a && Date.parse(entry.li.dataset.updated) < Date.parse(a.updated_at)) onAlert(a);  // changed meanwhile
  }
  function send(id, keepalive) {
    const entry = pending.get(id);
    if (!entry) return;
    settle(entry);
    fetch(`/v1/alerts/${id}/${entry.action}`, {
      method: "POST", credentials: "same-origin", keepalive,
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(entry.body),
    }).then(async (response) => {
      if (response.status === 401) { location.href = "/app/login"; return; }
      const data = await response.json().catch(() => ({}));
      if (response.ok) {
        const form = entry.li.querySelector(":scope > form.resolve");
        if (form && entry.action === "resolve") form.remove();
        onAlert(data);
      } else {
        failed(entry, typeof data.detail === "string" ? data.detail : "");
      }
    }, () => failed(entry, ""));
  }
  function failed(entry, detail) {
    const message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = detail ? `${T.action_failed}: ${detail}` : T.action_failed;
    // The alert as it is now (someone else may have acted), then why nothing was saved.
    refresh(entry.id).then(() => (document.getElementById(`alert-${entry.id}`) || entry.li).appendChild(message));
  }
  function flush() { for (const id of [...pending.keys()]) send(id, true); }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });

  function snoozeMinutes(button) {
    if (!button.dataset.until) return Number(button.dataset.minutes);
    let minutes = Math.ceil((Date.parse(button.dataset.until) - Date.now()) / 60000);
    while (minutes < 30) minutes += 24 * 60;  // the page is older than that morning: the next one
    return Math.max(5, Math.min(24 * 60, minutes));
  }
  list.addEventListener("click", (ev) => {
    const button = ev.target.closest("button");
    const li = button && button.closest("li.alert");
    if (!li) return;
    const id = Number(li.dataset.id);
    if (button.classList.contains("undo")) undo(id);
    else if (button.classList.contains("ack")) schedule(li, "acknowledge", {});
    else if (button.classList.contains("snooze")) {
      button.closest("details").open = false;
      schedule(li, "snooze", { minutes: snoozeMinutes(button) });
    } else if (button.classList.contains("resolve-open")) {
      if (!li.querySelector(":scope > form.resolve")) li.appendChild(document.getElementById("resolve-form").content.cloneNode(true));
      li.querySelector("textarea").focus();
    } else if (button.classList.contains("cancel")) li.querySelector(":scope > form.resolve").remove();
  });
  list.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = ev.target, li = form.closest("li.alert");
    if (!form.note.value.trim()) { form.note.setCustomValidity(T.note_needed); form.reportValidity(); return; }
    schedule(li, "resolve", { note: form.note.value, outcome: form.outcome.value });
  });
  list.addEventListener("input", (ev) => { if (ev.target.name === "note") ev.target.setCustomValidity(""); });

  // Filters: open on a wide screen, folded on a phone (its summary shows the ones applied) so
  // the alerts come first; a choice applies at once (the button stays for no script).
  document.getElementById("filters-box").open = window.matchMedia("(min-width: 700px)").matches;
  document.getElementById("filters").addEventListener("change", (ev) => {
    if (ev.target.tagName === "SELECT") ev.currentTarget.requestSubmit();
  });
  const target = location.hash.match(/^#alert-(\d+)$/);
  if (target) jump(Number(target[1]));

  function connect() {
    const source = new EventSource("/v1/alerts/stream");
    source.onopen = () => { live.textContent = T.live; live.className = "pill on"; };
    source.addEventListener("alert", (ev) => onAlert(JSON.parse(ev.data)));
    source.onerror = () => {
      live.textContent = T.offline; live.className = "pill off";
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);  // refused: try again
    };
  }
  counted();
  connect();
})();
