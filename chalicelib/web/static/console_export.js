// The town export's page while the file is written: every 3 seconds, fetch the page again
// and swap in its export region, until the file is ready (or failed). Without JavaScript
// the region has a "Check now" link instead. (Not a meta refresh: reloading the page under
// a screen reader's feet is what WCAG 2.2.1 forbids.)
(function () {
  "use strict";
  function poll() {
    var region = document.querySelector("[data-export-area]");
    if (!region || !region.querySelector("[data-export-progress]") || !window.fetch ||
        !window.DOMParser) { return; }
    window.setTimeout(function () {
      window.fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (page) {
          var fresh = new DOMParser().parseFromString(page, "text/html").querySelector("[data-export-area]");
          if (fresh) { region.replaceWith(fresh); poll(); }
        })
        .catch(function () { poll(); });
    }, 3000);
  }
  document.addEventListener("DOMContentLoaded", poll);
})();
