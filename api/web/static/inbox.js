// Alert inbox: render, keep live from /v1/alerts/stream (SSE), acknowledge and resolve.
// No framework, no CDN: the machine this runs on may be offline.
"use strict";
(function () {
  const T = JSON.parse(document.getElementById("text").textContent);
  const RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  const alerts = new Map();
  for (const a of JSON.parse(document.getElementById("initial-alerts").textContent)) alerts.set(a.id, a);
  const list = document.getElementById("alerts");
  const banner = document.getElementById("banner");
  const live = document.getElementById("live");
  const soundButton = document.getElementById("sound");
  let soundOn = localStorage.getItem("dolbom-sound") !== "off";
  let audio = null;

  function esc(text) {
    return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function when(iso) {
    const d = new Date(iso);
    return d.toLocaleString(document.documentElement.lang === "ko" ? "ko-KR" : "en-GB",
      { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }
  function snoozed(a) { return a.snoozed_until && new Date(a.snoozed_until) > new Date(); }
  function order(a, b) {
    return (RANK[a.severity] - RANK[b.severity]) || (snoozed(a) - snoozed(b)) ||
      (new Date(a.opened_at) - new Date(b.opened_at));
  }
  function card(a) {
    const li = document.createElement("li");
    li.className = `alert sev-${a.severity} st-${a.status}` + (snoozed(a) ? " snoozed" : "");
    li.id = `alert-${a.id}`;
    li.dataset.id = a.id;
    li.innerHTML = `
      <div class="head">
        <span class="sev ${esc(a.severity)}">${esc(T["sev_" + a.severity] || a.severity)}</span>
        <b class="kind">${esc(T["kind_" + a.kind] || a.kind)}</b>
        <a class="who" href="/app/enrollees/${a.enrollee_id}">${esc(a.enrollee_name)}</a>
        <span class="status">${esc(T["st_" + a.status] || a.status)}</span>
      </div>
      <p class="summary">${esc(a.summary)}</p>
      <p class="meta">${esc(T.opened)} ${when(a.opened_at)} · ${esc(T.updated)} ${when(a.updated_at)}${a.occurrences > 1 ? " · ×" + a.occurrences : ""}</p>
      <div class="actions">
        ${a.status === "open" ? `<button class="ack" type="button">${esc(T.acknowledge)}</button>` : ""}
        <button class="resolve-open" type="button">${esc(T.resolve)}</button>
        <button class="snooze link" type="button">${esc(T.snooze)}</button>
      </div>`;
    return li;
  }
  function render() {
    const open = [...alerts.values()].filter((a) => a.status !== "resolved").sort(order);
    const keepForm = new Map();
    for (const form of list.querySelectorAll("form.resolve")) keepForm.set(form.closest("li").dataset.id, form);
    list.replaceChildren(...open.map((a) => {
      const li = card(a);
      const form = keepForm.get(String(a.id));
      if (form) li.appendChild(form);
      if (fresh.has(a.id)) li.classList.add("new");
      return li;
    }));
    document.getElementById("empty").hidden = open.length > 0;
    const critical = open.filter((a) => a.severity === "critical" && a.status === "open").length;
    document.title = (critical ? `(${critical}) ` : "") + T.inbox + " · " + T.app_name;
  }
  const fresh = new Set();

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
  function announce(a) {
    banner.hidden = false;
    banner.className = "banner flash";
    banner.textContent = `${T.new_critical}: ${T["kind_" + a.kind] || a.kind} · ${a.enrollee_name} · ${a.summary}`;
    beep();
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  }
  soundButton.textContent = soundOn ? T.sound_off : T.sound_on;
  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem("dolbom-sound", soundOn ? "on" : "off");
    soundButton.textContent = soundOn ? T.sound_off : T.sound_on;
    if (soundOn) beep();
  });
  banner.addEventListener("click", () => { banner.hidden = true; });

  function upsert(a) {
    const before = alerts.get(a.id);
    const becameCritical = a.severity === "critical" && a.status === "open" &&
      (!before || before.severity !== "critical" || before.status !== "open");
    alerts.set(a.id, a);
    if (becameCritical) { fresh.add(a.id); announce(a); }
    render();
  }

  async function act(id, action, body) {
    const response = await fetch(`/v1/alerts/${id}/${action}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (response.status === 401) { location.href = "/app/login"; return; }
    const data = await response.json();
    if (!response.ok) { alert(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)); return; }
    fresh.delete(id);
    upsert(data);
  }

  list.addEventListener("click", (ev) => {
    const li = ev.target.closest("li.alert");
    if (!li) return;
    const id = Number(li.dataset.id);
    if (ev.target.classList.contains("ack")) act(id, "acknowledge", {});
    else if (ev.target.classList.contains("snooze")) act(id, "snooze", { minutes: 60 });
    else if (ev.target.classList.contains("resolve-open") && !li.querySelector("form.resolve")) {
      li.appendChild(document.getElementById("resolve-form").content.cloneNode(true));
      li.querySelector("textarea").focus();
    } else if (ev.target.classList.contains("cancel")) li.querySelector("form.resolve").remove();
  });
  list.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = ev.target, id = Number(form.closest("li").dataset.id);
    act(id, "resolve", { note: form.note.value, outcome: form.outcome.value });
  });

  function connect() {
    const source = new EventSource("/v1/alerts/stream");
    source.onopen = () => { live.textContent = T.live; live.className = "pill on"; };
    source.addEventListener("alert", (ev) => upsert(JSON.parse(ev.data)));
    source.onerror = () => { live.textContent = T.offline; live.className = "pill off"; };
  }
  render();
  connect();
})();
