// The calendar. The server computes where each appointment and working interval sits (per cent
// of the visible day, and its lane beside overlapping ones); the CSP allows no style attributes,
// so the positions travel in data-* and are applied here through the CSSOM. Without JavaScript
// each column is a plain list in time order. No inline script (CSP).
(() => {
  const place = (root) => {
    root.querySelectorAll("[data-calendar]").forEach((calendar) => {
      const hours = (Number(calendar.dataset.last) - Number(calendar.dataset.first)) / 60;
      calendar.style.setProperty("--cal-hours", String(hours)); // an hour's height is CSS's
      calendar.querySelectorAll("[data-top]").forEach((el) => {
        el.style.top = `${el.dataset.top}%`;
        if (el.dataset.height) el.style.height = `${el.dataset.height}%`;
        if (el.dataset.lanes) {
          const lanes = Number(el.dataset.lanes);
          el.style.left = `${(Number(el.dataset.lane) / lanes) * 100}%`;
          el.style.width = `${100 / lanes}%`;
        }
      });
      calendar.classList.add("cal-ready");
    });
  };

  place(document);
  document.addEventListener("htmx:afterSettle", () => place(document));

  // A click on a free place in a column opens the booking form at that time (the "+" in each
  // column's head does the same from the keyboard).
  document.addEventListener("click", (event) => {
    const column = event.target.closest(".cal-ready .cal-col");
    if (!column || event.target.closest("a, button")) return;
    const calendar = column.closest("[data-calendar]");
    const first = Number(calendar.dataset.first);
    const last = Number(calendar.dataset.last);
    const box = column.getBoundingClientRect();
    const minute = Math.floor((first + ((event.clientY - box.top) / box.height) * (last - first)) / 15) * 15;
    const pad = (n) => String(n).padStart(2, "0");
    const params = new URLSearchParams({ date: column.dataset.day, time: `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}` });
    if (column.dataset.doctor) params.set("doctor", column.dataset.doctor);
    window.htmx.ajax("GET", `${calendar.dataset.newUrl}?${params}`, { target: "#calendar-side" });
  });

  // What opens in the side panel gets the focus, so keyboard and screen-reader users follow it;
  // on a narrow screen, where the panel is below the calendar, it also scrolls into view.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id !== "calendar-side") return;
    const heading = event.detail.target.querySelector("[data-autofocus]");
    if (heading && !event.detail.target.contains(document.activeElement)) {
      heading.focus({ preventScroll: true });
      heading.scrollIntoView({ block: "nearest" });
    }
  });
})();
