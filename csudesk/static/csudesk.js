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
