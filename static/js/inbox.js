// The inbox: keyboard use and a composer that clears after sending. No inline script (CSP).
(() => {
  const rows = () => [...document.querySelectorAll("#conversation-list [data-row]")];

  document.addEventListener("keydown", (event) => {
    const composer = event.target.closest("[data-composer]");
    if (composer && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      composer.requestSubmit();
      return;
    }
    if (event.key === "Escape") {
      document.getElementById("quick-reply-results")?.replaceChildren();
      document.activeElement.blur();
      return;
    }
    if (event.target.matches("input, textarea, select")) return;
    const list = rows();
    if (!list.length) return;
    const current = list.indexOf(document.activeElement);
    if (event.key === "j" || event.key === "k") {
      const next = event.key === "j" ? Math.min(current + 1, list.length - 1) : Math.max(current - 1, 0);
      list[next].focus();
      event.preventDefault();
    }
  });

  // "/" in an empty reply opens the quick replies; a chosen one is put into the reply.
  document.addEventListener("input", (event) => {
    if (event.target.id === "composer-text" && event.target.value === "/") {
      event.target.value = "";
      document.getElementById("quick-reply-q")?.focus();
    }
  });
  document.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-insert]");
    if (!choice) return;
    const text = document.getElementById("composer-text");
    text.value = choice.dataset.insert;
    document.getElementById("quick-reply-results").replaceChildren();
    document.getElementById("quick-reply-q").value = "";
    text.focus();
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (form.matches && form.matches("[data-composer]") && event.detail.successful) {
      const error = document.getElementById("composer-error");
      if (!error || !error.textContent.trim()) form.reset();
    }
  });
})();

// "Prices" in the composer: a service's price sentence goes into the reply at the cursor (the
// reply keeps its greeting and question); the list comes from scheduling's price search.
(() => {
  const popover = () => document.querySelector("[data-price-popover]");

  document.addEventListener("toggle", (event) => {
    if (event.target.matches && event.target.matches("[data-price-popover]") && event.target.open) {
      document.getElementById("price-q")?.focus();
    }
  }, true);  // "toggle" does not bubble

  document.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-insert-price]");
    if (!choice) return;
    const text = document.getElementById("composer-text");
    const sentence = choice.dataset.insertPrice;
    const start = text.selectionStart ?? text.value.length;
    const before = text.value.slice(0, start);
    const after = text.value.slice(text.selectionEnd ?? start);
    const lead = before && !/\s$/.test(before) ? " " : "";
    const tail = after && !/^\s/.test(after) ? " " : "";
    text.value = before + lead + sentence + tail + after;
    const caret = (before + lead + sentence).length;
    const details = popover();
    if (details) details.open = false;
    document.getElementById("price-results")?.replaceChildren();
    const search = document.getElementById("price-q");
    if (search) search.value = "";
    text.focus();
    text.setSelectionRange(caret, caret);
  });

  document.addEventListener("keydown", (event) => {
    const details = popover();
    if (event.key === "Escape" && details && details.open) details.open = false;
  });
})();
