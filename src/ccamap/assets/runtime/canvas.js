  var LineCanvas = L.Renderer.extend({
    // padding: Leaflet's own, the canvas a tenth larger than the view on each side (zoomed in on
    // dense lines, the segments drawn follow its area)
    // split: the vertices in view (at full detail) from which a helper draws part of the canvas;
    // helperWait: how long (ms) a frame waits for the helper's part before it is drawn alone
    // thin: how many times over the lines in view, at their width, would cover the view before
    // they are drawn 1 px wide instead (see draw)
    options: { padding: 0.1, tolerance: 5, split: 150000, helperWait: 30000, thin: 4 },

    initialize: function (options) {
      L.Renderer.prototype.initialize.call(this, options);
      this.sets = [];
      this.drawn = 0; // lines drawn by the last frame
      this.drawnPoints = 0; // points drawn by the last frame of the points
      this._frame = null;
      this._pointsFrame = null;
      this._job = 0;
      this._pending = null; // a frame whose helper's part is not in yet
      this._thin = null; // whether lines are drawn thin at _thinZoom (null: to decide)
      this._thinZoom = null;
      this.thin = false; // whether the last frame drew thin lines
      this.ink = 0; // how many times over the last frame's lines, at their width, cover the view
    },

    // The lines' canvas (_container); with a point layer, a second canvas over it for the points
    // (_points), so that a point layer read, filtered or highlighted redraws only the points.
    _initContainer: function () {
      this._container = this._canvas("ccamap-lines");
      this._ctx = this._container.getContext("2d");
    },

    _canvas: function (className) {
      var c = document.createElement("canvas");
      c.className = className;
      c.setAttribute("aria-hidden", "true");
      c.style.pointerEvents = "none";
      return c;
    },

    // The points' canvas, made (over the lines') when the first point layer is shown.
    _pointsCanvas: function () {
      if (!this._points && this._map) {
        this._points = this._canvas("ccamap-points");
        if (this._zoomAnimated) { L.DomUtil.addClass(this._points, "leaflet-zoom-animated"); }
        this._pointsCtx = this._points.getContext("2d");
        this._size(this._points);
        this._updateTransform(this._center, this._zoom);
        this.getPane().appendChild(this._points);
      }
      return this._points;
    },

    _destroyContainer: function () {
      L.DomUtil.remove(this._container);
      if (this._points) { L.DomUtil.remove(this._points); }
      delete this._ctx;
      delete this._container;
      delete this._pointsCtx;
      delete this._points;
    },

    _size: function (c) {
      var b = this._bounds, size = b.getSize(), m = window.devicePixelRatio || 1;
      L.DomUtil.setPosition(c, b.min);
      c.width = m * size.x;
      c.height = m * size.y;
      c.style.width = size.x + "px";
      c.style.height = size.y + "px";
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) { return; }
      L.Renderer.prototype._update.call(this);
      this._size(this._container);
      if (this._points) { this._size(this._points); }
      this.fire("update");
    },

    // The points' canvas moves and scales with the lines' (zoom animation).
    _updateTransform: function (center, zoom) {
      L.Renderer.prototype._updateTransform.call(this, center, zoom);
      if (!this._points) { return; }
      var from = this._container.style, to = this._points.style;
      to.transform = from.transform;
      to.left = from.left;
      to.top = from.top;
    },

    // drawn at the next frame (before it is shown): the view changes and layers added in one
    // task (a zoom resets the view, then ends a move) make one drawing
    _updatePaths: function () { this.redraw(); },

    onAdd: function (map) {
      L.Renderer.prototype.onAdd.call(this, map);
      if (this._points) { this.getPane().appendChild(this._points); }
      map.on("click", this._onClick, this);
      map.on("mousemove", this._onMove, this);
      map.on("mouseout", this._onOut, this);
      this.redraw();
    },

    onRemove: function (map) {
      map.off("click", this._onClick, this);
      map.off("mousemove", this._onMove, this);
      map.off("mouseout", this._onOut, this);
      this._onOut();
      L.Renderer.prototype.onRemove.call(this, map);
    },

    // Redraw at the next frame (filters, styles, layers shown or hidden): the lines and the
    // points, or (redrawPoints) the points alone.
    redraw: function () {
      var self = this;
      if (!this._map || this._frame !== null) { return; }
      this._frame = L.Util.requestAnimFrame(function () { self._frame = null; self.draw(); });
    },

    redrawPoints: function () {
      var self = this;
      if (!this._map || this._frame !== null || this._pointsFrame !== null) { return; }
      this._pointsFrame = L.Util.requestAnimFrame(function () {
        self._pointsFrame = null;
        self.drawPoints();
        checkDrawn();
        self.fire("drawn");
      });
    },

    // What changes with a set (shown, hidden, filtered, restyled) is drawn again.
    redrawSet: function (set) {
      if (set.points) { this.redrawPoints(); } else { this.redraw(); }
    },

    // Draw the points of every shown point layer on their canvas.
    drawPoints: function () {
      if (this._pointsFrame !== null) {
        L.Util.cancelAnimFrame(this._pointsFrame);
        this._pointsFrame = null;
      }
      var any = this.sets.some(function (set) { return set.points && set.shown; });
      var c = any ? this._pointsCanvas() : this._points, m = window.devicePixelRatio || 1;
      var ctx = this._pointsCtx, b = this._bounds;
      if (!this._map || !c) { return; }
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, c.width, c.height);
      var frame = { v: this._view(), m: m, min: b.min, clip: [b.min.x, b.min.y, b.max.x, b.max.y] };
      var drawn = 0;
      this.sets.forEach(function (set) {
        if (set.points && set.shown) { drawn += set.draw(ctx, frame); }
      });
      ctx.globalAlpha = 1;
      this.drawnPoints = drawn;
    },

    // The view in world pixels at zoom 0, the zoom scale and the layer-pixel origin.
    _view: function () {
      var map = this._map, zoom = map.getZoom(), k = Math.pow(2, zoom), o = map.getPixelOrigin();
      var b = this._bounds;
      return { k: k, ox: o.x, oy: o.y, zoom: zoom,
        x0: (b.min.x + o.x) / k, y0: (b.min.y + o.y) / k,
        x1: (b.max.x + o.x) / k, y1: (b.max.y + o.y) / k };
    },

    draw: function () {
      if (this._frame !== null) { L.Util.cancelAnimFrame(this._frame); this._frame = null; }
      if (!this._map || !this._ctx) { this._pending = null; this.fire("drawn"); return; }
      this.drawPoints();
      var ctx = this._ctx, c = this._container, m = window.devicePixelRatio || 1, b = this._bounds;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, c.width, c.height);
      var v = this._view(), selected = [], edge = 20; // a margin for wide lines
      this.covered = false;
      var frame = { job: (this._job += 1), m: m, min: b.min, v: v, selected: selected,
        clip: [b.min.x - edge, b.min.y - edge, b.max.x + edge, b.max.y + edge], draws: [] };
      var weight = [], total = 0, ink = 0;
      this.sets.forEach(function (set) {
        if (!set.shown || set.points) { return; }
        var band = bandAt(set.src, v.zoom), box = set.shape.box, style = set.src.data.style;
        var styles = set.src.data.styles;
        var start = set.shape.start, byStyle = {};
        set.entries.forEach(function (e, i) {
          if (!e.visible || box[4 * i] > v.x1 || box[4 * i + 2] < v.x0 ||
              box[4 * i + 1] > v.y1 || box[4 * i + 3] < v.y0) { return; }
          e.band = storedBand(e, band);
          if (e.layer.over) { selected.push(e); return; }
          (byStyle[style[i]] = byStyle[style[i]] || []).push(e);
          var n = start[i + 1] - start[i];
          weight.push((box[4 * i + 1] + box[4 * i + 3]) / 2, n);
          total += n;
          // the area its stroke would cover in view (layer pixels)
          ink += set.length(i) * v.k * shareInView(box, i, v) * (styles[style[i]].weight || 3);
        });
        Object.keys(byStyle).forEach(function (sn) {
          var list = byStyle[sn], rows = new Int32Array(list.length), bands = new Int8Array(list.length);
          list.forEach(function (e, z) { rows[z] = e.row; bands[z] = e.band; });
          frame.draws.push({ set: set, style: set.src.data.styles[sn], rows: rows, bands: bands });
        });
      });
      // Dense views in thin lines: where the lines in view, at their width, would cover it more
      // than options.thin times over, they are drawn 1 px wide (a selected or highlighted one
      // keeps its width). They then show the network rather than a solid mass, and are drawn
      // several times sooner (Chromium with no GPU draws a line of 1 px by another, far
      // cheaper way than a wider one). Decided when the zoom, a filter or the layers shown
      // change, not as the map is moved.
      this.ink = ink / ((v.x1 - v.x0) * (v.y1 - v.y0) * v.k * v.k);
      if (this._thin === null || this._thinZoom !== v.zoom) {
        this._thin = this.ink > this.options.thin;
        this._thinZoom = v.zoom;
      }
      this.thin = this._thin;
      if (this._thin) { frame.draws.forEach(function (d) { d.style = thinStyle(d.style); }); }
      // Many lines in view: a helper draws the lower part of the canvas meanwhile (not thin
      // lines: cheap to draw, they would wait for the copies to and from the helper)
      var split = this._thin ? null : this._splitRow(frame, weight, total);
      if (split !== null) {
        frame.split = split;
        helper.worker.postMessage(this._jobMessage(frame, split, c));
        // a helper that never answers (its thread lost) is let go, and the frame drawn alone
        var self = this;
        setTimeout(function () {
          if (self._pending === frame) { self._helperFailed(); }
        }, this.options.helperWait);
      }
      this._drawPart(ctx, frame, 0, split === null ? c.height : split);
      this.drawn = selected.length;
      frame.draws.forEach(function (d) { this.drawn += d.rows.length; }, this);
      if (split === null) { this._finish(frame); } else { this._pending = frame; }
    },

    // Draw the rows [top, bottom) of the canvas (device pixels) of a frame: the lines of every
    // style of every set, a few a stroke, leaving out those wholly outside the rows.
    _drawPart: function (ctx, frame, top, bottom) {
      var m = frame.m, v = frame.v, c = this._container;
      var y0 = (frame.min.y + top / m - 20 + v.oy) / v.k, y1 = (frame.min.y + bottom / m + 20 + v.oy) / v.k;
      ctx.save();
      if (top > 0 || bottom < c.height) {
        ctx.beginPath();
        ctx.rect(0, top, c.width, bottom - top);
        ctx.clip();
      }
      ctx.setTransform(m, 0, 0, m, -m * frame.min.x, -m * frame.min.y);
      frame.draws.forEach(function (d) {
        strokeRows(ctx, d, d.set.shape.box, y0, y1, function (i, band) {
          d.set.trace(ctx, i, band, v.k, v.ox, v.oy, frame.clip);
        });
      });
      ctx.restore();
    },

    // The selected and highlighted lines, over the rest; then the frame is done.
    _finish: function (frame) {
      var ctx = this._ctx, m = frame.m, v = frame.v;
      ctx.setTransform(m, 0, 0, m, -m * frame.min.x, -m * frame.min.y);
      frame.selected.forEach(function (e) {
        ctx.beginPath();
        e.layer.set.trace(ctx, e.row, e.band, v.k, v.ox, v.oy, frame.clip);
        stroke(ctx, e.feature.properties._style, e.layer.over);
      });
      ctx.globalAlpha = 1;
      this._pending = null;
      // whether every line in view is as detailed as at this zoom it will be
      this.covered = this.sets.every(function (set) {
        return !set.shown || set.points || set.shape.band >= bandAt(set.src, v.zoom);
      });
      checkDrawn();
      this.fire("drawn");
    },

    // The canvas row (device pixels) from which the helper draws, or null to draw alone: with
    // at least options.split vertices in view, where half of them lie above (by the middle of
    // each line's box). Not while the page is still read: the page's thread is then busy with
    // the rest of the data anyway, and a first picture drawn alone is on screen sooner.
    _splitRow: function (frame, weight, total) {
      var c = this._container, v = frame.v, m = frame.m;
      if (total < this.options.split || v.zoom > HELPER_MAX_ZOOM || document.readyState === "loading" ||
          !startHelper()) { return null; }
      var bins = new Float64Array(64), span = v.y1 - v.y0, sum = 0, b;
      for (var j = 0; j < weight.length; j += 2) {
        b = Math.floor((weight[j] - v.y0) / span * 64);
        bins[Math.max(0, Math.min(63, b))] += weight[j + 1];
      }
      for (b = 0; b < 63 && sum + bins[b] < total / 2; b += 1) { sum += bins[b]; }
      var row = Math.round(((b + 1) / 64) * c.height);
      return row > 0 && row < c.height ? row : null;
    },

    // The message that asks the helper for rows [split, height) of a frame.
    _jobMessage: function (frame, split, c) {
      var top = frame.min.y + split / frame.m;
      return { job: frame.job, width: c.width, height: c.height - split, ratio: frame.m,
        left: frame.min.x, top: top, k: frame.v.k, ox: frame.v.ox, oy: frame.v.oy, clip: frame.clip,
        draws: frame.draws.map(function (d) {
          return { set: shareSet(d.set), style: d.style, rows: d.rows, bands: d.bands };
        }) };
    },

    // The helper's part of a frame: drawn into its rows, unless a newer frame began.
    _helped: function (m) {
      var frame = this._pending;
      if (m.error) { this._helperFailed(); return; }
      if (!frame || m.job !== frame.job || !this._ctx) { m.bitmap.close(); return; }
      this._ctx.setTransform(1, 0, 0, 1, 0, 0);
      this._ctx.drawImage(m.bitmap, 0, frame.split);
      m.bitmap.close();
      this._finish(frame);
    },

    // The helper cannot draw here: draw alone from now on.
    _helperFailed: function () {
      stopHelper();
      if (this._pending) { this._pending = null; this.draw(); }
    },

    // Call done once the canvases show every line and point (at once, or when the helper's
    // part is in).
    whenDrawn: function (done) {
      if (!this._pending && this._frame === null && this._pointsFrame === null) { done(); return; }
      this.once("drawn", function () { this.whenDrawn(done); }, this);
    },

    // The entry drawn nearest a map event's point, within the tolerance, or null: a point's
    // before a line's (points are drawn over the lines), a later layer's before an earlier's.
    hit: function (ev) {
      if (!this._map || !this._bounds) { return null; }
      var v = this._view(), p = this._map.latLngToLayerPoint(ev.latlng), best = null, dist = Infinity;
      var s, set, point;
      for (s = this.sets.length - 1; s >= 0; s -= 1) {
        set = this.sets[s];
        point = set.points && set.shown ? set.hit(v, p, this.options.tolerance) : null;
        if (point) { return point; }
      }
      for (s = this.sets.length - 1; s >= 0; s -= 1) {
        set = this.sets[s];
        if (!set.shown || set.points) { continue; }
        var box = set.shape.box, styles = set.src.data.styles, style = set.src.data.style;
        for (var i = 0; i < set.entries.length; i += 1) {
          var e = set.entries[i];
          var tol = this.options.tolerance + ((styles[style[i]].weight || 3) / 2);
          var wx = (p.x + v.ox) / v.k, wy = (p.y + v.oy) / v.k, t0 = tol / v.k;
          if (!e.visible || box[4 * i] - t0 > wx || box[4 * i + 2] + t0 < wx ||
              box[4 * i + 1] - t0 > wy || box[4 * i + 3] + t0 < wy) { continue; }
          var d = set.distance(i, storedBand(e, bandAt(set.src, v.zoom)), v.k, v.ox, v.oy, p.x, p.y);
          if (d <= tol && d < dist) { dist = d; best = e; }
        }
        if (best) { return best; }
      }
      return null;
    },

    _onClick: function (ev) {
      if (ev.originalEvent && ev.originalEvent._ccamapHandled) { return; }
      var e = this.hit(ev);
      if (e) {
        if (ev.originalEvent) { ev.originalEvent._ccamapHandled = true; }
        ccamap.openCard(e, null);
      }
    },

    _onMove: function (ev) {
      var e = (ev.originalEvent && ev.originalEvent._ccamapHandled) ? null : this.hit(ev);
      var map = this._map;
      map.getContainer().style.cursor = e ? "pointer" : "";
      if (!e) { this._onOut(); return; }
      if (!this._tip) { this._tip = L.tooltip({ sticky: true, direction: "auto" }); }
      if (this._tipEntry !== e) {
        this._tipEntry = e;
        this._tip.setContent(el("span", null, displayName(e.feature.properties)));
      }
      this._tip.setLatLng(ev.latlng);
      if (!map.hasLayer(this._tip)) { this._tip.addTo(map); }
    },

    _onOut: function () {
      if (this._tip && this._map && this._map.hasLayer(this._tip)) { this._map.removeLayer(this._tip); }
      this._tipEntry = null;
      if (this._map) { this._map.getContainer().style.cursor = ""; }
    }
  });

  // The share of line i's box ([x0, y0, x1, y1] at 4 i) inside the view: about the share of
  // its length there (a long line crossing the view has most of it beyond).
  function shareInView(box, i, v) {
    var w = box[4 * i + 2] - box[4 * i], h = box[4 * i + 3] - box[4 * i + 1];
    var fx = w > 0 ? (Math.min(box[4 * i + 2], v.x1) - Math.max(box[4 * i], v.x0)) / w : 1;
    var fy = h > 0 ? (Math.min(box[4 * i + 3], v.y1) - Math.max(box[4 * i + 1], v.y0)) / h : 1;
    return Math.max(0, Math.min(1, fx)) * Math.max(0, Math.min(1, fy));
  }

  // A style drawn 1 px wide (its colour, opacity and dashes kept).
  function thinStyle(style) {
    return Object.assign({}, style, { weight: 1 });
  }

  function lineCanvas(map) {
    if (!ccamap.lineCanvas) { ccamap.lineCanvas = new LineCanvas(); }
    if (!map.hasLayer(ccamap.lineCanvas)) { map.addLayer(ccamap.lineCanvas); }
    return ccamap.lineCanvas;
  }

  // A large layer's stand-in for a group: shown and hidden with the layer control, and told
  // (addLayer, removeLayer) when a filter changes what it shows.
  var LineGroup = L.Layer.extend({
    initialize: function (set) { this.set = set; },
    // The layer's lines or points, once a packed layer is read (shown if the group already is).
    attach: function (set) {
      this.set = set;
      if (this._map) { this.onAdd(this._map); }
    },
    onAdd: function (map) {
      if (!this.set) { return; }
      var canvas = lineCanvas(map);
      if (canvas.sets.indexOf(this.set) < 0) { canvas.sets.push(this.set); }
      this.set.shown = true;
      this._changed();
    },
    onRemove: function () {
      if (!this.set) { return; }
      this.set.shown = false;
      this._changed();
    },
    addLayer: function () { this._changed(); return this; },
    removeLayer: function () { this._changed(); return this; },
    _changed: function () {
      if (ccamap.lineCanvas && this.set) {
        if (!this.set.points) { ccamap.lineCanvas._thin = null; } // what is in view changed
        ccamap.lineCanvas.redrawSet(this.set);
      }
    }
  });

  // A feature of a large line layer's stand-in for its polyline.
  function LineFeature(set, entry) { this.set = set; this.entry = entry; this.over = null; }
  // As a polyline's: L.LatLng objects (arrays of them for a multi-line), at the zoom's band.
  LineFeature.prototype.getLatLngs = function () {
    var map = ccamap.map, e = this.entry;
    function wrap(a) { return typeof a[0] === "number" ? L.latLng(a[0], a[1]) : a.map(wrap); }
    return lineLatLngs(e, storedBand(e, bandAt(e.src, map ? map.getZoom() : 0))).map(wrap);
  };
  LineFeature.prototype.getBounds = function () {
    var xy = fullShape(this.entry).xy, b = L.latLngBounds([]);
    for (var j = 0; j < xy.length; j += 2) { b.extend([xy[j + 1], xy[j]]); }
    return b;
  };
  // As a path's (points share it): a style other than the feature's own is drawn over it.
  LineFeature.prototype.setStyle = function (style) {
    this.over = style === this.entry.feature.properties._style ? null : style;
    if (ccamap.lineCanvas) { ccamap.lineCanvas.redrawSet(this.set); }
    return this;
  };

