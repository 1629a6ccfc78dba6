// Today's worklist (api/web/templates/worklist.html): one tap for "called" or "visited"
// records a contact through the API (POST /v1/enrollees/{id}/contacts, JSON; the session
// cookie carries the login, same origin), with the optional note and follow-up day, then
// marks the item done. A new day in the picker shows that day's worklist.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("page-data").textContent);
  const T = DATA.text;
  const LABELS = { phone: T.out_called, visit: T.out_visited };

  const picker = document.getElementById("date");
  if (picker) picker.addEventListener("change", () => { if (picker.value) picker.form.requestSubmit(); });

  const list = document.getElementById("worklist");
  if (!list) return;

  // The contact's time in the enrollee's zone, with the zone's label (dolbom.timefmt's rule:
  // a contact recorded now is today there, so no date).
  function localTime(iso, zone, label) {
    const format = new Intl.DateTimeFormat(DATA.lang === "en" ? "en-GB" : "ko-KR",
      { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    return `${format.format(new Date(iso))} ${label}`;
  }

  function detailText(detail) {
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((error) => error.msg || JSON.stringify(error)).join("; ");
    return JSON.stringify(detail);
  }

  async function record(item, channel) {
    const note = item.querySelector("textarea[name=note]");
    const followUp = item.querySelector("input[name=follow_up]");
    const status = item.querySelector(".done-note");
    const taps = item.querySelectorAll("button.tap");
    const body = { channel, note: note.value.trim() };
    if (followUp.value) body.follow_up = followUp.value;
    taps.forEach((button) => { button.disabled = true; });
    try {
      const response = await fetch(`/v1/enrollees/${item.dataset.enrollee}/contacts`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body),
      });
      if (response.status === 401) {
        location.href = "/app/login?next=" + encodeURIComponent(location.pathname + location.search);
        return;
      }
      const answer = await response.json();
      if (!response.ok) {
        status.textContent = `${T.wl_failed}: ${detailText(answer.detail)}`;
        status.classList.add("error");
        return;
      }
      status.classList.remove("error");
      status.textContent = `✓ ${LABELS[channel]} · ${localTime(answer.at, item.dataset.zone, item.dataset.zoneLabel)}`;
      item.classList.add("done");
      item.dataset.contactId = answer.id;
      note.value = "";
      followUp.value = "";
      item.querySelector("details.more").open = false;
    } catch (error) {
      status.textContent = T.wl_failed;
      status.classList.add("error");
    } finally {
      taps.forEach((button) => { button.disabled = false; });
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button.tap");
    if (button) record(button.closest("li.work-item"), button.dataset.channel);
  });
})();
