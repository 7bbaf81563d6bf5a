// The scorecard page: clicking a checklist item scrolls to the messages that decided it and
// highlights them. No inline script or handler (CSP): the page loads this file, and the items
// carry their message ids in data-evidence ("12 15"); the messages are #m12, #m15.
(() => {
  const HIGHLIGHT = "evidence-highlight";
  const SELECTED = "selected";
  let selectedCode = null;

  const clear = () => {
    for (const el of document.querySelectorAll(`.${HIGHLIGHT}`)) el.classList.remove(HIGHLIGHT);
    for (const el of document.querySelectorAll(`.qa-item.${SELECTED}`)) {
      el.classList.remove(SELECTED);
    }
  };

  const show = (trigger, scroll) => {
    clear();
    const item = trigger.closest(".qa-item");
    if (item) {
      item.classList.add(SELECTED);
      selectedCode = item.dataset.code;
    }
    const messages = (trigger.dataset.evidence || "").split(/\s+/).filter(Boolean)
      .map((id) => document.getElementById(`m${id}`)).filter(Boolean);
    for (const message of messages) message.classList.add(HIGHLIGHT);
    if (scroll && messages.length) {
      messages[0].scrollIntoView({ behavior: "smooth", block: "center" });
    }
  };

  document.addEventListener("click", (event) => {
    const trigger = event.target.closest("[data-evidence]");
    if (trigger) show(trigger, true);
  });

  // An override swaps the items panel: the item being looked at stays selected. After the
  // settle, as htmx puts the new elements' attributes (their class) in place only then.
  document.body.addEventListener("htmx:afterSettle", () => {
    if (!selectedCode) return;
    const item = document.querySelector(`.qa-item[data-code="${CSS.escape(selectedCode)}"]`);
    const trigger = item && item.querySelector("[data-evidence]");
    if (trigger) show(trigger, false);
  });
})();
