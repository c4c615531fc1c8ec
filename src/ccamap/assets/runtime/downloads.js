  /* ------------------------------------------------------------------ downloads */

  function exportFeatures() {
    var sources = ccamap.config.sources || {};
    return ccamap.visibleEntries().map(function (e) {
      var p = e.feature.properties, props = {};
      var d = p._data || {};
      Object.keys(d).forEach(function (k) { props[k] = d[k]; });
      if (typeof props.waypoints === "number") {  // that many unnamed waypoints
        props.waypoints = new Array(props.waypoints).fill("");
      }
      if (typeof props.waypoints === "string") { props.waypoints = waypointList(props); }
      props.layer = e.key;
      props.sources = (d.sources || []).map(function (sid) {
        var s = Object.prototype.hasOwnProperty.call(sources, sid) ? sources[sid] : null;
        return s ? { id: sid, title: s[0], publisher: s[1], date: s[2], url: s[3] } : { id: sid };
      });
      return { type: "Feature", properties: props, geometry: e.feature.geometry };
    });
  }

  function wkt(g) {
    function pt(c) { return c[0] + " " + c[1]; }
    function line(cs) { return "(" + cs.map(pt).join(", ") + ")"; }
    if (!g) { return ""; }
    if (g.type === "Point") { return "POINT (" + pt(g.coordinates) + ")"; }
    if (g.type === "LineString") { return "LINESTRING " + line(g.coordinates); }
    if (g.type === "MultiLineString") { return "MULTILINESTRING (" + g.coordinates.map(line).join(", ") + ")"; }
    return "";
  }

  function csvCell(v) {
    if (v === null || v === undefined) { return ""; }
    if (Array.isArray(v)) {
      v = v.map(function (x) { return typeof x === "object" && x ? (x.url || x.id) : x; }).join("; ");
    }
    var s = String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  ccamap.exportText = function (format) {
    var features = exportFeatures();
    if (format === "csv") {
      var cols = [];
      features.forEach(function (f) {
        Object.keys(f.properties).forEach(function (k) { if (cols.indexOf(k) < 0) { cols.push(k); } });
      });
      var rows = [cols.concat(["WKT"]).map(csvCell).join(",")];
      features.forEach(function (f) {
        rows.push(cols.map(function (k) { return csvCell(f.properties[k]); })
          .concat([csvCell(wkt(f.geometry))]).join(","));
      });
      return rows.join("\n") + "\n";
    }
    return JSON.stringify({ type: "FeatureCollection", features: features }, null, 1) + "\n";
  };

  ccamap.download = function (format) {
    var text = ccamap.exportText(format);
    var name = "ccamap-view." + (format === "csv" ? "csv" : "geojson");
    var blob = new Blob([text], { type: format === "csv" ? "text/csv" : "application/geo+json" });
    var a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    ccamap.lastDownload = { name: name, text: text };
    return text;
  };

  /* ------------------------------------------------------------------ statistics */

  function fmt(n) { return Math.round(n).toLocaleString("en-US"); }

  function sortedPairs(obj) {
    return Object.keys(obj).map(function (k) { return [k, obj[k]]; })
      .sort(function (a, b) { return b[1] - a[1]; });
  }

  ccamap.stats = function () {
    var s = { km: 0, kmStatus: {}, kmCountry: {}, mw: 0, mwTech: {}, ports: 0, portModes: {} };
    ccamap.visibleEntries().forEach(function (e) {
      var p = e.feature.properties, d = p._data || {};
      if (!e.layer.getLatLng) {
        var km = Number(d.length_km) || 0;
        s.km += km;
        s.kmStatus[p.status] = (s.kmStatus[p.status] || 0) + km;
        var byC = p._km || {};
        Object.keys(byC).forEach(function (c) { s.kmCountry[c] = (s.kmCountry[c] || 0) + byC[c]; });
      } else if (e.key === "power_plants" && d.capacity_unit === "MW" && d.capacity) {
        s.mw += Number(d.capacity);
        s.mwTech[d.technology] = (s.mwTech[d.technology] || 0) + Number(d.capacity);
      } else if (e.key === "border_ports") {
        s.ports += 1;
        (d.modes || []).forEach(function (m) { s.portModes[m] = (s.portModes[m] || 0) + 1; });
      }
    });
    return s;
  };

  function renderStats() {
    var nodes = document.querySelectorAll(".ccamap-stats");
    if (!nodes.length) { return; }
    var s = ccamap.stats(), parts = [];
    if (s.km > 0) {
      parts.push([t("lines") + " " + fmt(s.km) + " km: " + sortedPairs(s.kmStatus).map(function (x) {
        return statusName(x[0]) + " " + fmt(x[1]);
      }).join(" · ") + (Object.keys(s.kmCountry).length ? "; " + t("byCountry") + ": " +
        sortedPairs(s.kmCountry).slice(0, 6).map(function (x) {
          return countryName(x[0]) + " " + fmt(x[1]);
        }).join(" · ") : ""), "lines"]);
    }
    if (s.mw > 0) {
      parts.push([t("power") + " " + fmt(s.mw) + " MW: " + sortedPairs(s.mwTech).map(function (x) {
        return String(x[0]).replace(/_/g, " ") + " " + fmt(x[1]);
      }).join(" · "), "power"]);
    }
    if (s.ports > 0) {
      parts.push([t("ports") + " " + s.ports + ": " + sortedPairs(s.portModes).map(function (x) {
        return x[0] + " " + x[1];
      }).join(" · "), "ports"]);
    }
    nodes.forEach(function (node) {
      node.textContent = "";
      parts.forEach(function (p) {
        var span = el("span", "ccamap-stat ccamap-stat-" + p[1], p[0]);
        node.appendChild(span);
      });
    });
  }

  /* ------------------------------------------------------------------ the URL */

  var hashTimer = null, restoring = false;

  function writeHash() {
    if (restoring || !ccamap.ready || !ccamap.map) { return; }
    clearTimeout(hashTimer);
    hashTimer = setTimeout(function () {
      var map = ccamap.map, c = map.getCenter(), parts = [];
      parts.push("map=" + map.getZoom() + "/" + c.lat.toFixed(3) + "/" + c.lng.toFixed(3));
      if (state.statuses) { parts.push("status=" + state.statuses.map(encodeURIComponent).join(",")); }
      if (state.country) { parts.push("country=" + encodeURIComponent(state.country)); }
      if (state.year !== null) { parts.push("year=" + state.year); }
      var keys = Object.keys(ccamap.groups);
      var shown = keys.filter(function (k) { return map.hasLayer(ccamap.groups[k]); });
      if (shown.length < keys.length) { parts.push("layers=" + shown.join(",")); }
      if (ccamap.lang !== "en") { parts.push("lang=" + ccamap.lang); }
      if (ccamap.selected) { parts.push("id=" + encodeURIComponent(ccamap.selected.feature.properties.id)); }
      var hash = "#" + parts.join("&");
      if (hash !== window.location.hash && window.history && window.history.replaceState) {
        window.history.replaceState(null, "", hash);
      }
    }, 120);
  }

  function parseHash(hash) {
    // The fragment is the reader's (or a link's) text: a malformed escape ("#id=%") or an
    // unknown value is ignored, never thrown; values are only ever compared, never inserted.
    var out = Object.create(null);
    String(hash || "").replace(/^#/, "").split("&").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i <= 0) { return; }
      var k = pair.slice(0, i), v = pair.slice(i + 1);
      try { v = decodeURIComponent(v); } catch (e) { /* keep the raw text */ }
      if (!(k in out)) { out[k] = v; }
    });
    return out;
  }

  // The view a link's "map=zoom/lat/lng" asks for, [[lat, lng], zoom], or null.
  function hashView(h) {
    var m = "map" in h && /^(\d{1,2})\/(-?\d{1,2}(?:\.\d+)?)\/(-?\d{1,3}(?:\.\d+)?)$/.exec(h.map);
    if (!m) { return null; }
    var z = Math.min(18, Number(m[1])), lat = Number(m[2]), lng = Number(m[3]);
    return Math.abs(lat) <= 85 && Math.abs(lng) <= 180 ? [[lat, lng], z] : null;
  }

  function applyHash() {
    var h = parseHash(window.location.hash), map = ccamap.map;
    restoring = true;
    try {
      if ("lang" in h && (h.lang === "zh" || h.lang === "ru" || h.lang === "en")) { ccamap.setLanguage(h.lang); }
      if ("layers" in h) {
        var want = h.layers.split(",");
        Object.keys(ccamap.groups).forEach(function (k) {
          var g = ccamap.groups[k];
          if (want.indexOf(k) >= 0 && !map.hasLayer(g)) { map.addLayer(g); }
          if (want.indexOf(k) < 0 && map.hasLayer(g)) { map.removeLayer(g); }
        });
      }
      if ("status" in h) {
        var st = h.status.split(",").filter(function (s) { return ccamap.config.statuses.indexOf(s) >= 0; });
        state.statuses = st.length && st.length < ccamap.config.statuses.length ? st : null;
      }
      if ("country" in h) {
        state.country = Object.prototype.hasOwnProperty.call(ccamap.config.countries, h.country) ? h.country : "";
      }
      if ("year" in h) {
        var y = parseInt(h.year, 10), ys = ccamap.config.years;
        state.year = isFinite(y) && ys[0] !== null && y >= ys[0] && y < ys[1] ? y : null;
      }
      ccamap.applyFilters();
      if (ccamap.syncControls) { ccamap.syncControls(); }
      if ("id" in h) { ccamap.focusId(h.id); }
      var view = hashView(h);
      if (view) { map.setView(view[0], view[1], { animate: false }); }
    } finally {
      restoring = false;
    }
  }
  ccamap.applyHash = applyHash;

