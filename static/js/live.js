// Live inbox: every second ask the server for the clinic's inbox version (a cache read, no list
// query); when it moved, the list and the open thread fetch themselves again ("inbox-changed").
// Their own 30-second polls are the fallback. No inline script (CSP).
(() => {
  const root = document.querySelector("[data-live-url]");
  if (!root) return;
  const INTERVAL_MS = 1000;
  let version = null;

  const poll = async () => {
    try {
      const response = await fetch(root.dataset.liveUrl, {credentials: "same-origin",
        headers: {Accept: "application/json"}});
      if (response.ok) {
        const {v} = await response.json();
        if (version !== null && v !== version) {
          for (const id of ["conversation-list", "messages"]) {
            const element = document.getElementById(id);
            if (element) htmx.trigger(element, "inbox-changed");
          }
        }
        version = v;
      }
    } catch (error) {
      // Offline for a moment: the next poll tries again.
    }
    setTimeout(poll, INTERVAL_MS);
  };
  poll();
})();
