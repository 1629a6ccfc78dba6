// Enrollee page: record a contact (POST /v1/enrollees/{id}/contacts, JSON, the session
// cookie) and put it on the timeline; show a chart's value under it on hover or tap.
// Times follow dolbom/timefmt.py: the enrollee's zone, with the label the server gave.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("enrollee-data").textContent);
  const T = data.text;
  const locale = data.lang === "ko" ? "ko-KR" : "en-GB";

  function parts(date, options) {
    const out = {};
    for (const p of new Intl.DateTimeFormat(locale, { timeZone: data.zone, ...options }).formatToParts(date)) {
      out[p.type] = p.value;
    }
    return out;
  }
  // "08:15 KST" today, else with the day ("12월 3일" / "3 Dec"), as timefmt.when does.
  function when(iso) {
    const at = new Date(iso);
    const time = parts(at, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const clock = `${time.hour}:${time.minute} ${data.zone_label}`;
    const day = (d) => parts(d, { year: "numeric", month: "numeric", day: "numeric" });
    const a = day(at), today = day(new Date());
    if (a.year === today.year && a.month === today.month && a.day === today.day) return clock;
    return `${dayText(+a.year, +a.month, +a.day, a.year !== today.year)} ${clock}`;
  }
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function dayText(year, month, day, withYear) {
    if (data.lang === "en") return `${day} ${MONTHS[month - 1]}` + (withYear ? ` ${year}` : "");
    return (withYear ? `${year}년 ` : "") + `${month}월 ${day}일`;
  }
  function followUpText(iso) {  // a calendar day, YYYY-MM-DD
    const [year, month, day] = iso.split("-").map(Number);
    const thisYear = +parts(new Date(), { year: "numeric" }).year;
    return dayText(year, month, day, year !== thisYear);
  }
  function cell(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const form = document.getElementById("contact-form");
  const status = document.getElementById("contact-status");
  const body = document.getElementById("timeline-body");

  function addToTimeline(contact, channelText, outcomeText) {
    const row = cell("tr", "tl-contact fresh");
    row.appendChild(cell("td", "when", when(contact.at)));
    const what = cell("td", "what");
    what.appendChild(cell("b", "", `${T.tl_contact}: ${channelText}`));
    what.appendChild(cell("div", "text", contact.note));
    const facts = [];
    if (outcomeText) facts.push(outcomeText);
    if (contact.follow_up) facts.push(`${T.follow_up} ${followUpText(contact.follow_up)}`);
    if (facts.length) {
      const box = cell("div", "facts");
      for (const f of facts) box.appendChild(cell("span", "", f));
      what.appendChild(box);
    }
    row.appendChild(what);
    row.appendChild(cell("td", "who", contact.username || ""));
    const empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    body.prepend(row);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const note = form.elements.note.value.trim();
    if (!note) { status.textContent = T.note_needed; status.className = "status error"; form.elements.note.focus(); return; }
    const payload = { channel: form.elements.channel.value, note };
    if (form.elements.outcome.value) payload.outcome = form.elements.outcome.value;
    if (form.elements.follow_up.value) payload.follow_up = form.elements.follow_up.value;
    const save = document.getElementById("contact-save");
    save.disabled = true;
    try {
      const response = await fetch(`/v1/enrollees/${data.enrollee_id}/contacts`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(payload),
      });
      if (response.status === 401) { location.href = "/app/login"; return; }
      const answer = await response.json();
      if (!response.ok) {
        const detail = typeof answer.detail === "string" ? answer.detail : JSON.stringify(answer.detail);
        status.textContent = `${T.contact_failed}: ${detail}`;
        status.className = "status error";
        return;
      }
      const channel = form.elements.channel;
      const outcome = form.elements.outcome;
      addToTimeline(answer, channel.options[channel.selectedIndex].text,
        outcome.value ? outcome.options[outcome.selectedIndex].text : "");
      form.elements.note.value = "";
      form.elements.follow_up.value = "";
      outcome.value = "";
      status.textContent = T.contact_saved;
      status.className = "status ok";
    } catch (error) {
      status.textContent = `${T.contact_failed}: ${error}`;
      status.className = "status error";
    } finally {
      save.disabled = false;
    }
  });

  // Charts: each bucket has a transparent strip (rect.hit) whose data-label says when and
  // what (its <title> is the mouse tooltip); pointing at or tapping it shows it under the chart.
  function show(hit) {
    const figure = hit.closest("figure");
    const readout = figure && figure.querySelector("output.readout");
    if (!readout) return;
    for (const on of figure.querySelectorAll("rect.hit.on")) on.classList.remove("on");
    hit.classList.add("on");
    readout.textContent = hit.dataset.label;
  }
  for (const svg of document.querySelectorAll("svg.chart")) {
    svg.addEventListener("pointerover", (event) => {
      if (event.target instanceof Element && event.target.matches("rect.hit")) show(event.target);
    });
    svg.addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.matches("rect.hit")) show(event.target);
    });
  }
})();
