// Town311 pages work without JavaScript; this only adds comfort where it runs.
// No inline script is allowed (Content-Security-Policy): page areas add their own files.
(function () {
  "use strict";
  // After a form comes back with errors, move the reader to the error summary.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
    // The home page's "near me": only offered where the browser can tell where it is.
    var near = document.querySelector("[data-near-me]");
    if (near && navigator.geolocation) {
      near.hidden = false;
      near.querySelector("[data-near-me-button]").addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (where) {
          var url = new URL(window.location.href);
          url.searchParams.set("lat", where.coords.latitude.toFixed(6));
          url.searchParams.set("long", where.coords.longitude.toFixed(6));
          url.hash = "recent";
          window.location.assign(url.toString());
        });
      });
    }
  });
})();
