// The emergency desk. (1) While an alert sends, every 2 seconds fetch its page again and
// swap in the progress region; without JavaScript the region has a "Refresh" link.
// (2) On compose, a map of the town's zones: a click on a zone ticks its checkbox (the
// form stays the truth), and "Draw an area" turns clicks into the corners of a polygon
// written into the area text box as GeoJSON (the same box works by hand without
// JavaScript; the service checks it). (3) On an alert's page, a map of its zones and area.
(function () {
  "use strict";

  // readJson and baseMap are map.js's (loaded first): one base map for every page.
  // Without map.js (it did not load) the maps are skipped and the forms remain.
  var shared = window.Town311Map;
  var readJson = shared ? shared.readJson : function () { return null; };
  var baseMap = shared && shared.baseMap;

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

  // The polygon in the text box, as [lat, long] corners (the closing corner dropped).
  function cornersOf(text) {
    try {
      var shape = JSON.parse(text);
      if (shape && shape.type === "Feature") { shape = shape.geometry; }
      if (!shape || shape.type !== "Polygon" || !shape.coordinates || !shape.coordinates[0]) { return []; }
      var ring = shape.coordinates[0].map(function (p) { return [p[1], p[0]]; });
      if (ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1]) { ring.pop(); }
      return ring;
    } catch (e) { return []; }
  }

  function composeMap() {
    var box = document.getElementById("alert-compose-map");
    var zones = readJson("alert-compose-shapes");
    var field = document.getElementById("area");
    var tools = document.getElementById("alert-map-tools");
    if (!box || !zones || !zones.length || !field || !tools) { return; }
    var map = baseMap(box);
    tools.hidden = false;
    var toggle = tools.querySelector("[data-draw-toggle]");
    var status = tools.querySelector("[data-draw-status]");
    var drawing = false;
    var corners = cornersOf(field.value);
    var drawn = L.polygon([], { className: "alert-drawn", weight: 3, fillOpacity: 0.2 }).addTo(map);
    var dots = L.layerGroup().addTo(map);

    function show() {
      drawn.setLatLngs(corners);
      dots.clearLayers();
      corners.forEach(function (c) {
        L.circleMarker(c, { radius: 4, className: "alert-drawn", interactive: false }).addTo(dots);
      });
      if (drawing) { status.textContent = status.getAttribute("data-drawing") + " " + status.getAttribute("data-some") + " " + corners.length; }
      else { status.textContent = corners.length ? status.getAttribute("data-some") + " " + corners.length : status.getAttribute("data-none"); }
    }
    function write() {
      // Three corners make an area; the ring is closed and written [long, lat].
      if (corners.length < 3) { field.value = ""; return; }
      var ring = corners.map(function (c) { return [Number(c[1].toFixed(6)), Number(c[0].toFixed(6))]; });
      ring.push(ring[0].slice());
      field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    }
    function add(latlng) { corners.push([latlng.lat, latlng.lng]); write(); show(); }

    var all = L.featureGroup().addTo(map);
    zones.forEach(function (z) {
      var tick = document.getElementById("zone-" + z.code);
      var layer = L.geoJSON(z.geometry, { style: { className: "town-zone", weight: 2 } });
      layer.bindTooltip(z.name);
      layer.on("click", function () {
        // While drawing, the click bubbles to the map, which adds the corner once.
        if (drawing) { return; }
        if (tick) { tick.checked = !tick.checked; tick.dispatchEvent(new Event("change")); }
      });
      if (tick) {
        var paint = function () {
          layer.setStyle({ fillColor: tick.checked ? "#f2a900" : "#1f5f8b", fillOpacity: tick.checked ? 0.5 : 0.15 });
        };
        tick.addEventListener("change", paint);
        paint();
      }
      all.addLayer(layer);
    });
    map.on("click", function (event) { if (drawing) { add(event.latlng); } });
    toggle.addEventListener("click", function () {
      drawing = !drawing;
      toggle.setAttribute("aria-pressed", drawing ? "true" : "false");
      box.classList.toggle("is-drawing", drawing);
      show();
    });
    tools.querySelector("[data-draw-undo]").addEventListener("click", function () { corners.pop(); write(); show(); });
    tools.querySelector("[data-draw-clear]").addEventListener("click", function () { corners = []; write(); show(); });
    // Typed or pasted by hand: the map follows the box.
    field.addEventListener("change", function () { corners = cornersOf(field.value); show(); });
    map.fitBounds(corners.length ? L.latLngBounds(corners).extend(all.getBounds()) : all.getBounds(), { padding: [12, 12] });
    show();
  }

  function areaMap() {
    var box = document.getElementById("alert-area-map");
    var data = readJson("alert-area-shapes");
    if (!box || !data) { return; }
    var map = baseMap(box);
    var all = L.featureGroup().addTo(map);
    (data.zones || []).forEach(function (z) {
      var chosen = (data.chosen || []).indexOf(z.code) >= 0;
      if (!chosen && data.chosen && data.chosen.length) { return; }
      var layer = L.geoJSON(z.geometry, { style: { className: "town-zone", weight: 2, fillColor: "#f2a900", fillOpacity: 0.35 } });
      layer.bindTooltip(z.name);
      all.addLayer(layer);
    });
    if (data.area) { all.addLayer(L.geoJSON(data.area, { style: { className: "alert-drawn", weight: 3, fillOpacity: 0.2 } })); }
    if (all.getLayers().length) { map.fitBounds(all.getBounds(), { padding: [12, 12] }); } else { box.hidden = true; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    poll();
    if (typeof L === "undefined") { return; }  // Leaflet did not load: the forms remain
    composeMap();
    areaMap();
  });
})();
