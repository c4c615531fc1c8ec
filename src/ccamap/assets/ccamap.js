/* ccamap map runtime: draws the layers, binds tooltips and cards, filters, search, controls.
 *
 * Safety: the only HTML this file inserts is feature.properties._card and ._tooltip, which
 * ccamap.render builds from escaped text. Every other string (names, countries, statuses) is
 * put in the page with textContent.
 */
(function () {
  "use strict";
  var ccamap = (window.ccamap = window.ccamap || {});
  ccamap.entries = []; // one per feature: {key, feature, layer, group, visible}
  ccamap.groups = {}; // layer key -> L.GeoJSON
  ccamap.config = { countries: {}, statuses: [], years: [null, null], layers: {} };
  var state = { statuses: null, country: "", year: null };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  ccamap.configure = function (config) {
    ccamap.config = config;
  };

  ccamap.addOutlines = function (map, data) {
    if (!map.getPane("ccamap-outlines")) {
      map.createPane("ccamap-outlines");
      map.getPane("ccamap-outlines").style.zIndex = 250;
    }
    ccamap.outlinesData = data;
    return L.geoJSON(data, {
      pane: "ccamap-outlines",
      interactive: false,
      style: { color: "#7f8c8d", weight: 0.8, fillColor: "#f4f1ea", fillOpacity: 1 }
    });
  };

  ccamap.addLayer = function (map, key, data, show) {
    var group = L.geoJSON(data, {
      style: function (f) { return f.properties._style; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, f.properties._style); },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties._tooltip, { sticky: true });
        layer.bindPopup(f.properties._card, { maxWidth: 440, className: "ccamap-popup" });
        ccamap.entries.push({ key: key, feature: f, layer: layer, group: null, visible: true });
      }
    });
    ccamap.entries.forEach(function (e) { if (e.key === key) { e.group = group; } });
    ccamap.groups[key] = group;
    ccamap.map = map;
    if (show) { group.addTo(map); }
    return group;
  };

  /* ------------------------------------------------------------------ filtering */

  function matches(entry) {
    var p = entry.feature.properties;
    if (state.statuses && state.statuses.indexOf(p.status) < 0) { return false; }
    if (state.country && (p.countries || []).indexOf(state.country) < 0) { return false; }
    if (state.year !== null && p._first_year !== null && p._first_year > state.year) {
      return false;
    }
    return true;
  }

  ccamap.applyFilters = function () {
    var shown = 0;
    ccamap.entries.forEach(function (e) {
      var ok = matches(e);
      if (ok && !e.visible) { e.group.addLayer(e.layer); }
      if (!ok && e.visible) { e.group.removeLayer(e.layer); }
      e.visible = ok;
      if (ok) { shown += 1; }
    });
    ccamap.visibleCount = shown;
    if (ccamap.countNode) {
      ccamap.countNode.textContent = shown + " of " + ccamap.entries.length + " features";
    }
    if (ccamap.halo.on) { ccamap.drawHalos(); }
    return shown;
  };

  ccamap.setFilter = function (name, value) {
    state[name] = value;
    return ccamap.applyFilters();
  };

  /* ------------------------------------------------------------------ route uncertainty halos */

  // A line's style carries haloKm, its route_error_km: the estimated maximum distance between
  // the drawing and the real route. With the halo on (off by default), a wide translucent line
  // is drawn under each visible line, 2 x haloKm wide on the ground; its pixel width follows
  // the scale at the line's latitude and is recomputed on every zoom.
  ccamap.halo = { on: false, group: null, drawn: 0 };

  function metresPerPixel(map, lat) {
    return 40075016.686 * Math.cos(lat * Math.PI / 180) / Math.pow(2, map.getZoom() + 8);
  }

  ccamap.drawHalos = function () {
    var map = ccamap.map;
    var halo = ccamap.halo;
    if (!map) { return 0; }
    if (!halo.group) {
      map.createPane("ccamap-halos");
      map.getPane("ccamap-halos").style.zIndex = 390; // under the layers, over the basemap
      map.getPane("ccamap-halos").style.pointerEvents = "none";
      halo.group = L.layerGroup().addTo(map);
    }
    halo.group.clearLayers();
    halo.drawn = 0;
    if (!halo.on) { return 0; }
    ccamap.entries.forEach(function (e) {
      var style = e.feature.properties._style || {};
      if (!style.haloKm || !e.visible || !map.hasLayer(e.group) || !e.layer.getLatLngs) { return; }
      var lat = e.layer.getBounds().getCenter().lat;
      L.polyline(e.layer.getLatLngs(), {
        pane: "ccamap-halos", interactive: false, className: "ccamap-halo",
        color: style.color, opacity: 0.2, lineCap: "round", lineJoin: "round",
        weight: Math.max(1, 2 * style.haloKm * 1000 / metresPerPixel(map, lat))
      }).addTo(halo.group);
      halo.drawn += 1;
    });
    return halo.drawn;
  };

  ccamap.setHalo = function (on) {
    ccamap.halo.on = Boolean(on);
    return ccamap.drawHalos();
  };

  /* ------------------------------------------------------------------ search */

  function haystack(p) {
    return [p.name, p.name_zh, p.name_ru].filter(Boolean).join(" \u0001 ").toLowerCase();
  }

  ccamap.search = function (query) {
    var q = String(query || "").trim().toLowerCase();
    if (!q) { return []; }
    return ccamap.entries.filter(function (e) { return haystack(e.feature.properties).indexOf(q) >= 0; });
  };

  ccamap.focus = function (entry) {
    var map = ccamap.map;
    if (!entry.visible) { entry.group.addLayer(entry.layer); entry.visible = true; }
    if (!map.hasLayer(entry.group)) { map.addLayer(entry.group); }
    if (entry.layer.getBounds) {
      map.fitBounds(entry.layer.getBounds(), { maxZoom: 9, padding: [30, 30] });
    } else {
      map.setView(entry.layer.getLatLng(), Math.max(map.getZoom(), 9));
    }
    entry.layer.openPopup();
    return entry;
  };

  ccamap.focusId = function (id) {
    var found = ccamap.entries.filter(function (e) { return e.feature.properties.id === id; });
    return found.length ? ccamap.focus(found[0]) : null;
  };

  /* ------------------------------------------------------------------ controls */

  function panel(map) {
    var Panel = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = el("div", "ccamap-panel leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);

        var search = el("input", "ccamap-search");
        search.type = "search";
        search.placeholder = "Search: English, 中文, русский";
        search.setAttribute("aria-label", "Search features by name");
        var results = el("div", "ccamap-results");
        function showResults() {
          results.textContent = "";
          ccamap.search(search.value).slice(0, 8).forEach(function (e) {
            var b = el("button", "ccamap-result", e.feature.properties.name);
            b.type = "button";
            b.addEventListener("click", function () { ccamap.focus(e); results.textContent = ""; });
            results.appendChild(b);
          });
        }
        search.addEventListener("input", showResults);
        search.addEventListener("keydown", function (ev) {
          if (ev.key === "Enter") {
            var hits = ccamap.search(search.value);
            if (hits.length) { ccamap.focus(hits[0]); results.textContent = ""; }
          }
        });
        box.appendChild(search);
        box.appendChild(results);

        var statusBox = el("fieldset", "ccamap-statuses");
        statusBox.appendChild(el("legend", null, "Status"));
        var checks = [];
        ccamap.config.statuses.forEach(function (s) {
          var label = el("label");
          var cb = el("input");
          cb.type = "checkbox";
          cb.checked = true;
          cb.value = s;
          cb.addEventListener("change", function () {
            var on = checks.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
            ccamap.setFilter("statuses", on.length === checks.length ? null : on);
          });
          checks.push(cb);
          label.appendChild(cb);
          label.appendChild(document.createTextNode(" " + s));
          statusBox.appendChild(label);
        });
        box.appendChild(statusBox);

        var country = el("select", "ccamap-country");
        country.setAttribute("aria-label", "Country");
        var all = el("option", null, "All countries");
        all.value = "";
        country.appendChild(all);
        Object.keys(ccamap.config.countries).forEach(function (code) {
          var o = el("option", null, ccamap.config.countries[code] + " (" + code + ")");
          o.value = code;
          country.appendChild(o);
        });
        country.addEventListener("change", function () { ccamap.setFilter("country", country.value); });
        box.appendChild(country);

        var years = ccamap.config.years;
        if (years[0] !== null) {
          var yearBox = el("div", "ccamap-year");
          var label = el("label", null, "Year: ");
          var value = el("span", "ccamap-year-value", years[1]);
          var slider = el("input", "ccamap-year-slider");
          slider.type = "range";
          slider.min = years[0];
          slider.max = years[1];
          slider.step = 1;
          slider.value = years[1];
          slider.setAttribute("aria-label", "Year");
          slider.addEventListener("input", function () {
            value.textContent = slider.value;
            ccamap.setFilter("year", Number(slider.value) >= years[1] ? null : Number(slider.value));
          });
          label.appendChild(value);
          yearBox.appendChild(label);
          yearBox.appendChild(slider);
          yearBox.appendChild(el("div", "ccamap-hint",
            "built or under construction by then; undated features stay shown"));
          box.appendChild(yearBox);
        }
        var haloLabel = el("label", "ccamap-halo-toggle");
        var haloBox = el("input");
        haloBox.type = "checkbox";
        haloBox.checked = ccamap.halo.on;
        haloBox.addEventListener("change", function () { ccamap.setHalo(haloBox.checked); });
        haloLabel.appendChild(haloBox);
        haloLabel.appendChild(document.createTextNode(" Route uncertainty"));
        box.appendChild(haloLabel);
        box.appendChild(el("div", "ccamap-hint",
          "shade around each line: how far the drawing may be from the real route"));
        ccamap.countNode = el("div", "ccamap-count");
        box.appendChild(ccamap.countNode);
        return box;
      }
    });
    return new Panel();
  }

  var ICONS = {
    fullscreen: "M3 9V3h6M15 3h6v6M21 15v6h-6M9 21H3v-6",
    measure: "M3 17L17 3l4 4L7 21zM7 13l2 2M10 10l2 2M13 7l2 2"
  };

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "#333");
    path.setAttribute("stroke-width", "2");
    svg.appendChild(path);
    return svg;
  }

  function buttonControl(position, iconName, title, onClick) {
    var Ctl = L.Control.extend({
      options: { position: position },
      onAdd: function () {
        var box = el("div", "leaflet-bar ccamap-button ccamap-" + iconName);
        var a = el("a");
        a.appendChild(icon(iconName));
        a.href = "#";
        a.title = title;
        a.setAttribute("role", "button");
        a.setAttribute("aria-label", title);
        L.DomEvent.on(a, "click", function (ev) { L.DomEvent.preventDefault(ev); onClick(a); });
        L.DomEvent.disableClickPropagation(box);
        box.appendChild(a);
        return box;
      }
    });
    return new Ctl();
  }

  function fullscreen(map) {
    return buttonControl("topleft", "fullscreen", "Full screen", function () {
      var node = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (node.requestFullscreen) { node.requestFullscreen(); }
    });
  }

  function measure(map) {
    var active = false;
    var points = [];
    var line = null;
    var readout = null;
    function km(latlngs) {
      var d = 0;
      for (var i = 1; i < latlngs.length; i += 1) { d += map.distance(latlngs[i - 1], latlngs[i]); }
      return d / 1000;
    }
    function onClick(ev) {
      points.push(ev.latlng);
      if (!line) { line = L.polyline(points, { color: "#111", dashArray: "4 4", weight: 2 }).addTo(map); }
      line.setLatLngs(points);
      ccamap.measuredKm = km(points);
      readout.textContent = ccamap.measuredKm.toFixed(1) + " km";
    }
    return buttonControl("topleft", "measure", "Measure a distance (click points, click the ruler to stop)", function (a) {
      active = !active;
      a.classList.toggle("ccamap-active", active);
      map.getContainer().classList.toggle("ccamap-measuring", active);
      map.closePopup();
      if (active) {
        points = [];
        ccamap.measuredKm = 0;
        readout = el("div", "ccamap-measure-readout", "0.0 km");
        map.getContainer().appendChild(readout);
        map.on("click", onClick);
      } else {
        map.off("click", onClick);
        if (line) { map.removeLayer(line); line = null; }
        if (readout) { readout.remove(); readout = null; }
      }
    });
  }

  function minimap(map) {
    var Ctl = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = el("div", "ccamap-minimap leaflet-bar");
        var self = this;
        setTimeout(function () {
          var mini = L.map(box, {
            attributionControl: false, zoomControl: false, dragging: false,
            scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false
          });
          mini.setView(map.getCenter(), Math.max(map.getZoom() - 4, 0), { animate: false });
          if (ccamap.outlinesData) {
            L.geoJSON(ccamap.outlinesData, {
              interactive: false,
              style: { color: "#95a5a6", weight: 0.5, fillColor: "#f4f1ea", fillOpacity: 1 }
            }).addTo(mini);
          }
          var frame = L.rectangle(map.getBounds(), { color: "#c0392b", weight: 1, fillOpacity: 0.1 }).addTo(mini);
          function sync() {
            mini.setView(map.getCenter(), Math.max(map.getZoom() - 4, 0), { animate: false });
            frame.setBounds(map.getBounds());
          }
          map.on("moveend zoomend", sync);
          self._mini = mini;
        }, 0);
        return box;
      }
    });
    return new Ctl();
  }

  ccamap.addControls = function (map) {
    fullscreen(map).addTo(map);
    measure(map).addTo(map);
    panel(map).addTo(map);
    minimap(map).addTo(map);
    map.on("zoomend overlayadd overlayremove", function () {
      if (ccamap.halo.on) { ccamap.drawHalos(); }
    });
    ccamap.applyFilters();
    function fromHash() {
      // The fragment is the reader's (or a link's) text: a malformed escape ("#id=%") or an
      // unknown id is ignored, never thrown, and the id is only ever compared, never inserted.
      var m = /[#&]id=([^&]*)/.exec(window.location.hash);
      if (!m) { return; }
      var id;
      try { id = decodeURIComponent(m[1]); } catch (e) { id = m[1]; }
      ccamap.focusId(id);  // compares ids only: an unknown one finds nothing
    }
    window.addEventListener("hashchange", fromHash);
    fromHash();
    ccamap.ready = true;
    document.documentElement.setAttribute("data-ccamap-ready", "1");
  };
})();
