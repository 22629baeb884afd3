// The product page's map: the sample's features (or its rows' positions), read from the element's data-map
// attribute, drawn as SVG by the vendored Leaflet. No tiles unless the server names a tile URL: nothing is fetched
// from anywhere but this site. Leaflet's stylesheet is added here, so a page without script loads none of it.
(function () {
  "use strict";

  function addStylesheet(href) {
    if (!href || document.querySelector('link[href="' + href + '"]')) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  function draw(element) {
    var data;
    try {
      data = JSON.parse(element.getAttribute("data-map"));
    } catch (e) {
      return;
    }
    if (!window.L || !data || !data.features || !data.features.length) return;
    addStylesheet(element.getAttribute("data-css"));
    var figure = element.closest("figure");
    if (figure) figure.hidden = false;
    var map = L.map(element, {
      preferCanvas: false, attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false,
      zoomControl: false
    });
    L.control.zoom({
      zoomInTitle: element.getAttribute("data-zoom-in") || "Zoom in",
      zoomOutTitle: element.getAttribute("data-zoom-out") || "Zoom out"
    }).addTo(map);
    var tiles = element.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
      var credit = element.getAttribute("data-attribution");
      if (credit) {
        L.control.attribution({ prefix: false }).addAttribution(credit).addTo(map);
      }
    }
    var layer = L.geoJSON(data, {
      // Applied to every layer (points included, after pointToLayer): a point's class says it is one.
      style: function (feature) {
        var point = /Point$/.test((feature.geometry || {}).type || "");
        return { className: point ? "map-feature map-point" : "map-feature", weight: point ? 1 : 1.5 };
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 4, className: "map-feature map-point" });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], maxZoom: 15 });
    } else {
      map.setView([22.3, 114.17], 10);
    }
  }

  function start() {
    var maps = document.querySelectorAll(".product-map[data-map]");
    for (var i = 0; i < maps.length; i++) draw(maps[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
