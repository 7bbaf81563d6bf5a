// Draft hints under the composer: a suggestion button replaces the misspelled word in the
// draft; sending clears the hints. The hints themselves come from the server (htmx).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-replace-with]");
    if (!button) return;
    var box = document.getElementById("composer-text");
    if (!box) return;
    var word = button.dataset.word;
    var start = Number(button.dataset.replaceStart), end = Number(button.dataset.replaceEnd);
    if (box.value.slice(start, end) !== word) {  // typed on since the check: find the word
      start = box.value.indexOf(word);
      if (start < 0) return;
      end = start + word.length;
    }
    box.value = box.value.slice(0, start) + button.dataset.replaceWith + box.value.slice(end);
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt && event.detail.elt.matches && event.detail.elt.matches("form.composer")
        && event.detail.successful) {
      var hints = document.getElementById("draft-hints");
      if (hints) hints.innerHTML = "";
    }
  });
})();
