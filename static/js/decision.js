/*
 * The decision form: one submission per click, and errors where the eye is.
 *
 * The server already stores one decision per form (its idempotency key); disabling
 * the button only spares the clinician a second round trip. After a refused
 * submission the page opens at the form (#decision), and focus moves to the
 * message so a screen reader reads it first.
 */
(function () {
  "use strict";

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        // After this tick, so the browser still sends the form.
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });

  var alert = document.getElementById("decision-alert") || document.getElementById("decision-errors");
  if (alert) {
    // After the browser has scrolled to the URL's #fragment, which would otherwise take the focus away again.
    window.addEventListener("load", function () {
      window.setTimeout(function () { alert.focus(); }, 0);
    });
  }
})();
