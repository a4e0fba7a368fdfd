// The alert's page while it sends: every 2 seconds, fetch the page again and swap in its
// progress region, until the alert is no longer sending. Without JavaScript the region
// has a "Refresh" link instead.
(function () {
  "use strict";
  function poll() {
    var region = document.querySelector("[data-alert-progress][data-live]");
    if (!region || !window.fetch || !window.DOMParser) { return; }
    window.setTimeout(function () {
      window.fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (page) {
          var fresh = new DOMParser().parseFromString(page, "text/html").querySelector("[data-alert-progress]");
          // No region: signed out, or the page changed; the Refresh link still works.
          if (fresh) { region.replaceWith(fresh); poll(); }
        })
        .catch(function () { poll(); });
    }, 2000);
  }
  document.addEventListener("DOMContentLoaded", poll);
})();
