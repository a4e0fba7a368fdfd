// The map over a page's list of points (the requests map; the alert zones on sign-up),
// and the shared pieces every map page uses (window.Town311Map).
// The page works without it: the list (or the zone checkboxes) is always there. Markers are
// circles drawn by Leaflet, so no marker images are needed; the map keeps a plain background
// under the tiles, so it still shows where things are when OpenStreetMap cannot be reached.
(function () {
  "use strict";

  function readJson(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;  // never innerHTML: what residents typed stays text
    if (cls) { el.className = cls; }
    return el;
  }

  function baseMap(box) {
    box.hidden = false;
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", box.getAttribute("data-label") || "");
    var map = L.map(box, { scrollWheelZoom: false });
    L.tileLayer(box.getAttribute("data-tiles"), {
      maxZoom: 19,
      attribution: box.getAttribute("data-attribution") || ""
    }).addTo(map);
    return map;
  }

  // The console's own map screens (console_setup.js, console_alerts.js) build on these
  // three instead of keeping copies; this file is loaded before them.
  window.Town311Map = { readJson: readJson, baseMap: baseMap, text: text };

  function requestsMap() {
    var box = document.getElementById("requests-map");
    var points = readJson("requests-map-points");
    if (!box || !points || !points.length) { return; }
    var map = baseMap(box);
    var bounds = [];
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.long], {
        radius: 8, weight: 2, color: "#1b1b1b", fillOpacity: 0.85,
        className: "town-marker town-marker--" + (p.status === "closed" ? "closed" : "open")
      }).addTo(map);
      var popup = document.createElement("div");
      popup.appendChild(text("strong", p.service));
      if (p.address) { popup.appendChild(text("div", p.address)); }
      popup.appendChild(text("div", p.status_text, "town-marker__status"));
      if (p.number) {
        var link = text("a", p.number);
        // The console's points carry their own page; the resident map's link to tracking.
        link.href = p.link || (box.getAttribute("data-track") || "") + encodeURIComponent(p.number);
        popup.appendChild(link);
      }
      marker.bindPopup(popup);
      bounds.push([p.lat, p.long]);
    });
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  }

  function zonesMap() {
    var box = document.getElementById("zones-map");
    var zones = readJson("zones-map-shapes");
    if (!box || !zones || !zones.length) { return; }
    var map = baseMap(box);
    var all = L.featureGroup().addTo(map);
    zones.forEach(function (z) {
      var tick = document.getElementById("zone-" + z.code);
      var layer = L.geoJSON(z.geometry, { style: { className: "town-zone", weight: 2 } });
      layer.bindTooltip(z.name);
      layer.on("click", function () {
        // Clicking an area ticks (or unticks) its checkbox: the form stays the truth.
        if (tick) { tick.checked = !tick.checked; tick.dispatchEvent(new Event("change")); }
      });
      if (tick) {
        var paint = function () {
          layer.setStyle({ fillColor: tick.checked ? "#f2a900" : "#1f5f8b",
                           fillOpacity: tick.checked ? 0.5 : 0.15 });
        };
        tick.addEventListener("change", paint);
        paint();
      }
      all.addLayer(layer);
    });
    map.fitBounds(all.getBounds(), { padding: [12, 12] });
  }

  // The dashboard's busiest zones: each zone shaded by its level (0-4, set by the page
  // from its count; the colours are classes in charts.css), its name and count on hover.
  // The table beside it has the same figures.
  function zoneCountsMap() {
    var box = document.getElementById("zone-counts-map");
    var zones = readJson("zone-counts-map-shapes");
    if (!box || !zones || !zones.length) { return; }
    var map = baseMap(box);
    var all = L.featureGroup().addTo(map);
    zones.forEach(function (z) {
      var layer = L.geoJSON(z.geometry, {
        style: { className: "town-zone town-zone--level-" + z.level, weight: 2 }
      });
      layer.bindTooltip(text("span", z.name + ": " + z.shown));  // text, never HTML
      all.addLayer(layer);
    });
    map.fitBounds(all.getBounds(), { padding: [12, 12] });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }  // Leaflet did not load: the list remains
    requestsMap();
    zonesMap();
    zoneCountsMap();
  });
})();
