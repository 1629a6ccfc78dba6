// The caseload (api/web/templates/caseload.html): narrows the list as a name is typed. The
// search form still asks the server (?q=), which is what works without this script.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("page-data").textContent);
  const T = DATA.text;
  const input = document.getElementById("q");
  const table = document.getElementById("caseload");
  const count = document.getElementById("count");
  const noMatch = document.getElementById("no-match");
  if (!input || !table) return;
  const rows = [...table.querySelectorAll("tbody tr.person")];

  function narrow() {
    const typed = input.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const hit = !typed || row.dataset.name.includes(typed);
      row.hidden = !hit;
      if (hit) shown += 1;
    }
    count.textContent = T.cl_count.replace("{n}", shown);
    table.hidden = shown === 0;
    noMatch.hidden = shown !== 0;
    noMatch.textContent = T.cl_no_match.replace("{q}", input.value.trim());
  }
  input.addEventListener("input", narrow);
})();
