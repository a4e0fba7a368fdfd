// Town311 pages work without JavaScript; this only adds comfort where it runs.
// No inline script is allowed (Content-Security-Policy): page areas add their own files.
(function () {
  "use strict";
  // After a form comes back with errors, move the reader to the error summary.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  });
})();
