// zoomadmin: the little JavaScript the dashboard has. Loaded with the CSP nonce.
// htmx swaps error answers in place (see the htmx-config meta tag); this file covers
// the failures that bring no answer at all, so a click never seems to do nothing.
(function () {
  "use strict";

  function flash(text) {
    var box = document.getElementById("flash");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  function clearFlash() {
    var box = document.getElementById("flash");
    if (box) { box.hidden = true; box.textContent = ""; }
  }

  document.addEventListener("htmx:beforeRequest", clearFlash);

  document.addEventListener("htmx:sendError", function () {
    flash("The dashboard could not be reached. Check your connection; " +
          "if you were forcing a log out, look in the audit log before trying again.");
  });

  document.addEventListener("htmx:timeout", function () {
    flash("The dashboard took too long to answer. If you were forcing a log out, " +
          "look in the audit log before trying again.");
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    // Our own error answers carry a message that htmx has swapped in; only an empty
    // answer (a proxy or a crash) needs a word from here.
    if (!xhr || !xhr.responseText) {
      flash("The server answered with an error (HTTP " + (xhr ? xhr.status : "?") + ").");
    }
  });
})();
