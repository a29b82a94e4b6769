/*
 * The printable summary: a Print button, and "Copy as text" for the EHR note.
 *
 * Both buttons are hidden until this script shows them, so without JavaScript the
 * page offers what still works: the browser's own print and a selectable text.
 */
(function () {
  "use strict";

  var print = document.querySelector("[data-print]");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }

  var copy = document.querySelector("[data-copy]");
  var status = document.getElementById("copy-status");
  if (copy) {
    var source = document.getElementById(copy.getAttribute("data-copy"));
    copy.hidden = false;
    copy.addEventListener("click", function () {
      function done(text) { if (status) { status.textContent = text; } }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(
          function () { done("Copied: paste it into the note."); },
          function () { source.select(); done("Select all and copy (Ctrl+C): the browser refused direct copying."); });
      } else {
        source.focus();
        source.select();
        done(document.execCommand && document.execCommand("copy") ? "Copied: paste it into the note."
                                                                    : "Selected: press Ctrl+C to copy.");
      }
    });
  }
})();
