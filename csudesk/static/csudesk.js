/* Progressive enhancement only: every page works without this file.
   After an action the page comes back with its confirmation (#confirmation): move focus to it,
   so that keyboard and screen-reader users land on what just happened, not on <body>.
   A redirect to another fragment (#historique) scrolls there once the page has loaded and
   drops focus back on <body>: focus the message again then. */
(function () {
  "use strict";
  function focusMessage() {
    var message = document.getElementById("confirmation");
    var active = document.activeElement;
    if (message && (active === null || active === document.body)) {
      message.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusMessage);
  } else {
    focusMessage();
  }
  window.addEventListener("load", function () {
    window.setTimeout(focusMessage, 0);
  });
})();

/* Réponses types: "Insérer" puts the chosen one, already filled for the ticket (its <template>),
   at the cursor of its textarea without posting the form; the posted path stays for no-JS. */
(function () {
  "use strict";
  function insert(picker, event) {
    var select = picker.querySelector("select");
    var textarea = document.getElementById(picker.getAttribute("data-target"));
    var source = select && select.value
      ? picker.querySelector('template[data-response="' + select.value + '"]')
      : null;
    if (!textarea || !source) {
      return; /* nothing chosen: the post answers with its message */
    }
    event.preventDefault();
    var text = source.content.textContent;
    var start, end;
    if (textarea.getAttribute("data-cursor") === "oui") {
      start = textarea.selectionStart;
      end = textarea.selectionEnd;
    } else {
      /* never placed a cursor: at the end, as the posted path does */
      textarea.value = textarea.value.replace(/\s+$/, "");
      start = end = textarea.value.length;
      if (start) {
        text = "\n\n" + text;
      }
    }
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    textarea.value = before + text + after;
    textarea.focus();
    textarea.setSelectionRange(start + text.length, start + text.length);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    var status = picker.querySelector("[data-insert-status]");
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = "Réponse type insérée."; }, 50);
    }
  }
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target.tagName === "TEXTAREA" && document.querySelector(
      '.csu-response-picker[data-target="' + target.id + '"]')) {
      target.setAttribute("data-cursor", "oui");
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert]") : null;
    var picker = button ? button.closest(".csu-response-picker") : null;
    if (picker) {
      insert(picker, event);
    }
  });
})();
