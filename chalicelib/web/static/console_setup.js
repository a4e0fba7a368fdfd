// The setup screens' maps (console_setup): the town's zones over OpenStreetMap on the zones
// screen and on the routing dry run, where a click on the map fills the latitude and
// longitude. The pages work without it: the table of zones and the typed fields are always
// there (keyboards, screen readers, no JavaScript). Data comes from JSON blocks (the CSP
// allows no inline script); names are set as text, never as HTML.
(function () {
  "use strict";

  // readJson and baseMap are map.js's (loaded first): one base map for every page.
  // Without map.js (it did not load) the maps are skipped and the forms remain.
  var shared = window.Town311Map;
  var readJson = shared ? shared.readJson : function () { return null; };
  var baseMap = shared && shared.baseMap;

  // Every zone, outlined; those in ``marked`` (the one just saved, or where the dry run's
  // point fell) filled stronger. Their names show on hover or focus.
  function drawZones(map, zones, marked) {
    var all = L.featureGroup().addTo(map);
    (zones || []).forEach(function (z) {
      var on = marked.indexOf(z.code) >= 0;
      var layer = L.geoJSON(z.geometry, {
        style: { className: "town-zone" + (on ? " console-zone--marked" : ""), weight: on ? 3 : 2,
                 fillOpacity: on ? 0.4 : 0.12 }
      });
      var label = document.createElement("span");
      label.textContent = z.name + " (" + z.code + ")";
      layer.bindTooltip(label);
      all.addLayer(layer);
    });
    return all;
  }

  function zonesScreen() {
    var box = document.getElementById("setup-zones-map");
    var data = readJson("setup-zones-shapes");
    if (!box || !data || !data.zones || !data.zones.length) { return; }
    var map = baseMap(box);
    var all = drawZones(map, data.zones, data.highlight || []);
    map.fitBounds(all.getBounds(), { padding: [12, 12] });
  }

  function dryRunScreen() {
    var box = document.getElementById("dry-run-map");
    var data = readJson("dry-run-shapes");
    var lat = document.getElementById("lat");
    var long = document.getElementById("long");
    if (!box || !data || !lat || !long) { return; }
    var map = baseMap(box);
    var point = data.point;
    var all = drawZones(map, data.zones, point ? point.zones : []);
    var marker = null;
    function mark(latlng) {
      if (marker) { marker.setLatLng(latlng); return; }
      marker = L.circleMarker(latlng, { radius: 8, weight: 3, color: "#1b1b1b",
                                        fillOpacity: 0.9, className: "console-point" }).addTo(map);
    }
    if (point) {
      map.setView([point.lat, point.long], 15);  // a view first: a marker needs one
      mark([point.lat, point.long]);
    } else {
      map.fitBounds(all.getBounds(), { padding: [12, 12] });
    }
    var said = document.getElementById("dry-run-picked");
    map.on("click", function (e) {
      var y = e.latlng.lat.toFixed(6);
      var x = L.Util.wrapNum(e.latlng.lng, [-180, 180], true).toFixed(6);
      lat.value = y;
      long.value = x;
      // The point is what is tried now, not an address typed before.
      var address = document.getElementById("address");
      if (address) { address.value = ""; }
      mark(e.latlng);
      if (said) {
        said.textContent = (box.getAttribute("data-picked") || "")
          .replace("{lat}", y).replace("{long}", x);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }  // Leaflet did not load: the forms remain
    zonesScreen();
    dryRunScreen();
  });
})();
