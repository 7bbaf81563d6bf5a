// The rule form: of the empty step rows only the first shows, and "Add a step" shows the next.
// Without JavaScript every row shows (an empty amount means no step). No inline script (CSP).
(() => {
  const steps = document.querySelector("[data-steps]");
  if (!steps) return;
  const rows = [...steps.querySelectorAll("[data-step]")];
  const button = steps.querySelector("[data-add-step]");
  const empty = (row) => !row.querySelector("input").value && !row.querySelector(".field-errors");
  let shownEmpty = false;
  rows.forEach((row) => {
    if (!empty(row)) return;
    if (shownEmpty) row.hidden = true;
    shownEmpty = true;
  });
  const update = () => { button.hidden = !rows.some((row) => row.hidden); };
  button.addEventListener("click", () => {
    const next = rows.find((row) => row.hidden);
    if (!next) return;
    next.hidden = false;
    next.querySelector("input").focus();
    update();
  });
  update();
})();
