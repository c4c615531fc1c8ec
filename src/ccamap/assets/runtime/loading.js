  // Add a layer: its page data, or a packed layer ({kind, packed}: inflated in the background;
  // the group is returned at once for the layer control, and addControls waits for the data).
  // firstParts: packed layers whose first part is not read yet; restOf: per layer whose lines
  // come in two parts, its first part's promise (of its group) until the rest is in.
  var layerCount = 0, whenLoaded = [], firstParts = 0, restOf = {}, drawnSoon = false;
  ccamap.pending = 0;
  ccamap.addLayer = function (map, key, data, show) {
    var seq = layerCount;
    layerCount += 1;
    if (!data.packed) { return fillLayer(map, key, data, show, seq, null); }
    var group = new LineGroup(null); // a packed layer is drawn by the shared canvas
    // the drawing helper starts meanwhile (a worker's start waits on this thread)
    if (data.kind === "line") { startHelper(); }
    ccamap.groups[key] = group;
    ccamap.map = map;
    if (show !== false) { group.addTo(map); }
    ccamap.pending += data.rest ? 2 : 1;
    firstParts += 1;
    var filled = unpack(data.packed).then(function (full) {
      fillLayer(map, key, full, false, seq, group);
      firstParts -= 1;
      checkDrawn();
      loaded();
      return group;
    });
    filled.catch(function (err) { loadFailed(key, err); });
    if (data.rest) { restOf[key] = filled; }
    return group;
  };

  // The rest of a packed layer's lines (text, or an inert script element's after the map's,
  // "ccamap-rest-" + key): read once the first part is drawn (two frames after it is in: the
  // page's thread draws it meanwhile), then the lines are completed.
  ccamap.addRest = function (key, text) {
    if (!restOf[key]) { return; }
    restOf[key].then(function () {
      return new Promise(function (done) {
        var go = function () { if (done) { done(); done = null; } };
        L.Util.requestAnimFrame(function () { L.Util.requestAnimFrame(go); });
        setTimeout(go, 1000); // not drawing (a hidden tab): read all the same
      });
    }).then(function () {
      if (text === undefined) {
        var node = document.getElementById("ccamap-rest-" + key);
        if (!node) { throw new Error("its rest (#ccamap-rest-" + key + ") is missing"); }
        text = node.textContent;
        node.textContent = ""; // read once: the page need not hold it twice
      }
      return Promise.all([restOf[key], unpack(text)]);
    }).then(function (got) {
      delete restOf[key];
      got[0].set.complete(got[1]);
      loaded();
    }).catch(function (err) { loadFailed(key, err); });
  };

  // ccamap.drawnAt: when every layer was first on screen, each line as detailed as it stays
  // at that zoom (every packed layer's first part read, the line canvas's last frame complete
  // and covering); timed once the frame is shown (the canvas is rasterized as it is).
  function checkDrawn() {
    var lc = ccamap.lineCanvas;
    if (drawnSoon || firstParts > 0) { return; }
    if (lc && lc._map && (!lc.covered || lc._pending || lc._frame !== null ||
        lc._pointsFrame !== null)) { return; }
    drawnSoon = true;
    L.Util.requestAnimFrame(function () {
      L.Util.requestAnimFrame(function () {
        if (ccamap.drawnAt === undefined) { ccamap.drawnAt = performance.now(); }
      });
    });
  }

  function loaded() {
    ccamap.pending -= 1;
    if (!ccamap.pending) { whenLoaded.splice(0).forEach(function (f) { f(); }); }
  }

  function loadFailed(key, err) {
    ccamap.loadError = String(err);
    if (window.console) { window.console.error("ccamap: layer " + key + " could not be read: " + err); }
  }

  function fillLayer(map, key, data, show, seq, given) {
    var src = { key: key, geometry: data.geometry, bands: data.bands, scale: Math.pow(10, data.precision),
      data: data, canvas: Boolean(data.canvas) };
    var points = data.kind === "point" ? decode(data.points || "", src.scale).xy : null;
    var band = bandAt(src, map.getZoom() || 0);
    var layers = [], fast = src.canvas, mine = [], set = null;
    if (fast) {
      set = src.set = points ? new PointSet(key, src, mine, points) : new LineSet(key, src, mine);
      if (!points && !data.rest) { shareSet(set); } // (lines in two parts: once complete)
    }
    data.rows.forEach(function (row, i) {
      var d = {};
      data.columns.forEach(function (c, j) { d[c] = row[j]; });
      var p = { layer: key, _first_year: data.first[i], _style: data.styles[data.style[i]],
        _data: d, _km: data.km ? data.km[i] : undefined };
      CORE.forEach(function (k) { p[k] = d[k] === undefined ? null : d[k]; });
      var entry = { key: key, feature: { type: "Feature", properties: p }, layer: null, group: null,
        visible: true, src: src, row: i, seq: seq, canvas: src.canvas };
      Object.defineProperty(entry.feature, "geometry", { get: function () { return geometryOf(entry); } });
      var layer;
      if (points) { entry.latlng = [points[2 * i + 1], points[2 * i]]; }
      if (fast) {
        entry.layer = points ? new PointFeature(set, entry) : new LineFeature(set, entry);
        ccamap.entries.push(entry);
        mine.push(entry);
        return;
      }
      if (points) {
        layer = L.circleMarker(entry.latlng, data.styles[data.style[i]]);
      } else {
        entry.band = storedBand(entry, band);
        layer = L.polyline(lineLatLngs(entry, entry.band), data.styles[data.style[i]]);
      }
      entry.layer = layer;
      ccamap.entries.push(entry);
      layers.push(layer);
      layer.bindTooltip(function () { return el("span", null, displayName(p)); }, { sticky: true });
      layer.on("click", function (ev) {
        if (ev && ev.originalEvent) { ev.originalEvent._ccamapHandled = true; }
        ccamap.openCard(entry, null);
      });
      layer.on("add", function () {
        var node = layer.getElement && layer.getElement();
        if (node) { node.removeAttribute("tabindex"); node.setAttribute("aria-hidden", "true"); }
      });
    });
    var group = given;
    if (!group) { group = fast ? new LineGroup(set) : L.featureGroup(layers); }
    else if (fast) { group.attach(set); }
    else { layers.forEach(function (l) { group.addLayer(l); }); }
    ccamap.entries.forEach(function (e) { if (e.key === key) { e.group = group; } });
    ccamap.groups[key] = group;
    ccamap.map = map;
    if (!points && !fast && data.bands) {
      map.on("zoomend viewreset", function () { ccamap.setBand(key, bandAt(src, map.getZoom())); });
    }
    if (show !== false) { group.addTo(map); }
    return group;
  }

  // Draw a line layer's features at a zoom band's level of detail; return how many changed.
  ccamap.setBand = function (key, band) {
    var changed = 0;
    ccamap.entries.forEach(function (e) {
      if (e.key !== key || e.latlng || !e.layer.setLatLngs) { return; }
      var stored = storedBand(e, band);
      if (stored !== e.band) {
        e.band = stored;
        e.layer.setLatLngs(lineLatLngs(e, stored));
        changed += 1;
      }
    });
    return changed;
  };

