/* Progressive enhancement only: every page works without this file.
   After an action the page comes back with its confirmation (#message): move focus to it,
   so that keyboard and screen-reader users land on what just happened, not on <body>. */
(function () {
  "use strict";
  function focusMessage() {
    var message = document.getElementById("message");
    if (message && (document.activeElement === document.body || document.activeElement === null)) {
      message.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusMessage);
  } else {
    focusMessage();
  }
})();
