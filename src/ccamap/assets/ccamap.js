/* ccamap map runtime: draws the layers, binds tooltips and cards, filters, search. */
(function () {
  "use strict";
  var ccamap = (window.ccamap = window.ccamap || {});
  ccamap.entries = [];   // one per feature: {key, feature, layer, group}
  ccamap.groups = {};    // layer key -> L.GeoJSON

  ccamap.addLayer = function (map, key, data, show) {
    var group = L.geoJSON(data, {
      style: function (f) { return f.properties._style; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, f.properties._style); },
      onEachFeature: function (f, layer) {
        // _tooltip and _card are escaped HTML built by ccamap.render.
        layer.bindTooltip(f.properties._tooltip, { sticky: true });
        layer.bindPopup(f.properties._card, { maxWidth: 440, className: "ccamap-popup" });
        ccamap.entries.push({ key: key, feature: f, layer: layer, group: null });
      }
    });
    ccamap.entries.forEach(function (e) { if (e.key === key) { e.group = group; } });
    ccamap.groups[key] = group;
    ccamap.map = map;
    if (show) { group.addTo(map); }
    return group;
  };
})();
