// The contract form without a page reload: rows added and removed, the estimate kept live.
// Without JavaScript the form still works: the estimate shows after saving.
(function () {
  "use strict";
  const form = document.getElementById("contract-form");
  if (!form) return;

  function addRow(prefix, values) {
    const total = form.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
    const template = form.querySelector(`template[data-empty-form="${prefix}"]`);
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const holder = form.querySelector(`[data-formset="${prefix}"]`);
    holder.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const row = holder.lastElementChild;
    Object.entries(values || {}).forEach(([name, value]) => {
      const input = row.querySelector(`[name="${prefix}-${index}-${name}"]`);
      if (input) input.value = value;
    });
    const first = row.querySelector("input, select");
    if (first && !values) first.focus();
    return row;
  }

  form.querySelectorAll("[data-add-row]").forEach((button) => {
    button.addEventListener("click", () => addRow(button.dataset.addRow));
  });

  const fill = form.querySelector("[data-fill-days]");
  if (fill) {
    fill.addEventListener("click", () => {
      const first = form.querySelector('[name="first_day"]').value;
      const last = form.querySelector('[name="last_day"]').value;
      if (!first || !last || last < first) return;
      const existing = new Set(
        Array.from(form.querySelectorAll('[data-formset="days"] input[type="date"]')).map((i) => i.value)
      );
      for (let day = new Date(first + "T12:00:00Z"); day.toISOString().slice(0, 10) <= last; day.setUTCDate(day.getUTCDate() + 1)) {
        const iso = day.toISOString().slice(0, 10);
        if (!existing.has(iso)) addRow("days", { day: iso, hours: "8" });
      }
    });
  }

  const target = document.getElementById("estimate");
  let timer = null;
  let pending = null;
  function refresh() {
    if (pending) pending.abort();
    pending = new AbortController();
    const data = new FormData(form);
    fetch(form.dataset.estimateUrl, { method: "POST", body: data, signal: pending.signal, credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => { target.innerHTML = html; })
      .catch(() => {});
  }
  form.addEventListener("input", (event) => {
    if (event.target.type === "file") return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
