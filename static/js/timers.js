// Reply clocks, the waiting count in the tab title and the notification bell, on every page.
// No inline script (CSP). Times come from the server ("data-server-now"), not the PC's clock.
(() => {
  const body = document.body;
  const offsetMs = Number(body.dataset.serverNow || 0) * 1000 - Date.now();
  const AMBER_SECONDS = 60;
  const FAR_SECONDS = 3600;  // further away, the server's "reply by Mon 10:03" stays
  const fill = (template, n) => (template || "%(n)s").replace("%(n)s", n);

  const tick = () => {
    const now = (Date.now() + offsetMs) / 1000;
    for (const clock of document.querySelectorAll(".countdown[data-due]")) {
      const left = Number(clock.dataset.due) - now;
      if (left > FAR_SECONDS) continue;
      let state;
      let text;
      if (left <= 0) {
        const late = Math.floor(-left);
        state = "overdue";
        text = late < 60 ? fill(body.dataset.tOverdueSec, late)
          : fill(body.dataset.tOverdueMin, Math.floor(late / 60));
      } else {
        const seconds = Math.floor(left);
        state = seconds <= AMBER_SECONDS ? "soon" : "ok";
        text = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
      }
      for (const name of ["ok", "soon", "overdue"]) {
        clock.classList.toggle(`countdown-${name}`, name === state);
      }
      if (clock.textContent !== text) clock.textContent = text;
    }
  };

  // The tab title starts with the number of waiting patients, kept fresh by the list's poll.
  const baseTitle = document.title.replace(/^\(\d+\) /, "");
  const retitle = () => {
    const list = document.getElementById("conversation-list");
    if (!list || list.dataset.waiting === undefined) return;
    const waiting = Number(list.dataset.waiting);
    document.title = waiting ? `(${waiting}) ${baseTitle}` : baseTitle;
  };

  // A new unread notice becomes a browser notification when the person has allowed them.
  const announce = () => {
    const bell = document.getElementById("bell");
    if (!bell || !bell.dataset.newestId) return;
    const newest = Number(bell.dataset.newestId);
    const seen = Number(sessionStorage.getItem("bell-seen") || 0);
    if (newest <= seen) return;
    sessionStorage.setItem("bell-seen", String(newest));
    if (seen && "Notification" in window && Notification.permission === "granted") {
      new Notification(bell.dataset.newestText);
    }
  };

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-ask-notifications]") && "Notification" in window) {
      Notification.requestPermission();
    }
  });
  document.addEventListener("htmx:afterSettle", () => { tick(); retitle(); announce(); });
  tick();
  retitle();
  announce();
  setInterval(tick, 1000);
})();
