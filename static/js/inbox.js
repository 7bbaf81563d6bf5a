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
