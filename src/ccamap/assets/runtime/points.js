  /* A large point layer (data.canvas) is drawn by the shared canvas too, on its second canvas,
   * over the lines: not a Leaflet circle marker per feature (an object, a path and a redraw
   * each), but one array of positions (Web Mercator pixels at zoom 0), each point its style's
   * circle (a sprite, below). Hover and click are hit-tested on the same array, points before
   * lines. */
  function PointSet(key, src, entries, lonlat) {
    var n = lonlat.length / 2, xy = new Float64Array(2 * n);
    for (var i = 0; i < n; i += 1) {
      xy[2 * i] = worldX(lonlat[2 * i]);
      xy[2 * i + 1] = worldY(lonlat[2 * i + 1]);
    }
    this.key = key;
    this.src = src;
    this.entries = entries;
    this.points = true;
    this.xy = xy; // where each point is drawn (a stacked point is moved aside: spreadStacks)
    this.shown = false;
  }

  // Fill then stroke the path in ctx as Leaflet draws a circle marker of this style.
  function fillStroke(ctx, st) {
    if (st.fill !== false) {
      ctx.globalAlpha = st.fillOpacity === undefined ? 0.2 : st.fillOpacity;
      ctx.fillStyle = st.fillColor || st.color || "#3388ff";
      ctx.fill();
    }
    if (st.stroke !== false && st.weight !== 0) {
      stroke(ctx, { color: st.color, opacity: st.opacity, weight: st.weight, dashArray: st.dashArray,
        lineCap: st.lineCap || "round", lineJoin: st.lineJoin || "round" });
    }
  }

  function radiusOf(st) { return st.radius === undefined ? 10 : st.radius; }
  function weightOf(st) { return st.stroke === false ? 0 : st.weight === undefined ? 3 : st.weight; }

  /* Sprites: a style's circle is drawn once (in device pixels) into an atlas canvas, and copied
   * to each point of that style: a copy costs a fraction of filling and stroking a circle's
   * path (100,000 circles: about 0.4 s against 1.1 s one by one, 1.6 s as one path). A copy
   * lands on whole device pixels, so a point is drawn up to half a pixel from where a path
   * would be; it is hit-tested where it is. */
  var ATLAS = 1024; // a page of the atlas: 4 MB
  function Sprites(m) { this.m = m; this.pages = []; this.of = {}; this.x = 0; this.y = 0; this.row = 0; }
  // Style sn's sprite: {page, x, y, size, h (its centre's offset)}, or null if it would not fit.
  Sprites.prototype.get = function (sn, st) {
    if (this.of[sn] !== undefined) { return this.of[sn]; }
    var m = this.m, h = Math.ceil((radiusOf(st) + weightOf(st) / 2 + 1) * m), size = 2 * h;
    if (size > ATLAS) { return (this.of[sn] = null); }
    if (this.x + size > ATLAS) { this.x = 0; this.y += this.row; this.row = 0; }
    if (!this.pages.length || this.y + size > ATLAS) {
      var c = document.createElement("canvas");
      c.width = c.height = ATLAS;
      this.pages.push(c);
      this.x = this.y = this.row = 0;
    }
    var page = this.pages[this.pages.length - 1], g = page.getContext("2d");
    g.setTransform(m, 0, 0, m, this.x + h, this.y + h);
    g.beginPath();
    g.arc(0, 0, radiusOf(st), 0, 2 * Math.PI);
    fillStroke(g, st);
    g.globalAlpha = 1;
    var sprite = (this.of[sn] = { page: page, x: this.x, y: this.y, size: size, h: h });
    this.x += size;
    this.row = Math.max(this.row, size);
    return sprite;
  };

  // Draw the visible points in a frame's view in their order (a later one over an earlier),
  // each its style's sprite; those whose style is overridden (highlighted) last, as paths.
  // Every sprite is made before the first is copied (a canvas drawn from is copied whole
  // when it changes). Return how many were drawn.
  PointSet.prototype.draw = function (ctx, frame) {
    var v = frame.v, m = frame.m, min = frame.min, xy = this.xy, clip = frame.clip;
    var style = this.src.data.style, styles = this.src.data.styles, over = [], shown = [];
    if (!this.sprites || this.sprites.m !== m) { this.sprites = new Sprites(m); }
    var i, sp;
    for (i = 0; i < this.entries.length; i += 1) {
      var e = this.entries[i];
      if (!e.visible) { continue; }
      var sn = style[i], st = styles[sn], r = radiusOf(st) + weightOf(st) / 2;
      var x = xy[2 * i] * v.k - v.ox, y = xy[2 * i + 1] * v.k - v.oy;
      if (x + r < clip[0] || x - r > clip[2] || y + r < clip[1] || y - r > clip[3]) { continue; }
      if (e.layer.over || !this.sprites.get(sn, st)) { over.push(i); } else { shown.push(i); }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    for (var n = 0; n < shown.length; n += 1) {
      i = shown[n];
      sp = this.sprites.of[style[i]];
      ctx.drawImage(sp.page, sp.x, sp.y, sp.size, sp.size,
        Math.round((xy[2 * i] * v.k - v.ox - min.x) * m) - sp.h,
        Math.round((xy[2 * i + 1] * v.k - v.oy - min.y) * m) - sp.h, sp.size, sp.size);
    }
    ctx.setTransform(m, 0, 0, m, -m * min.x, -m * min.y);
    for (var j = 0; j < over.length; j += 1) {
      var k = over[j], own = Object.assign({}, styles[style[k]], this.entries[k].layer.over);
      ctx.beginPath();
      ctx.arc(xy[2 * k] * v.k - v.ox, xy[2 * k + 1] * v.k - v.oy, radiusOf(own), 0, 2 * Math.PI);
      fillStroke(ctx, own);
    }
    return shown.length + over.length;
  };

  // The entry of the visible point nearest layer point p whose circle (with half its stroke and
  // tol pixels) reaches it, or null.
  PointSet.prototype.hit = function (v, p, tol) {
    var xy = this.xy, style = this.src.data.style, styles = this.src.data.styles, best = null;
    var dist = Infinity;
    for (var i = 0; i < this.entries.length; i += 1) {
      var e = this.entries[i];
      if (!e.visible) { continue; }
      var st = styles[style[i]], reach = radiusOf(st) + weightOf(st) / 2 + tol;
      var dx = xy[2 * i] * v.k - v.ox - p.x, dy = xy[2 * i + 1] * v.k - v.oy - p.y;
      if (dx > reach || dx < -reach || dy > reach || dy < -reach) { continue; }
      var d = Math.sqrt(dx * dx + dy * dy);
      if (d <= reach && d < dist) {
        dist = d;
        best = e;
      }
    }
    return best;
  };

  // A feature of a large point layer's stand-in for its circle marker.
  function PointFeature(set, entry) { this.set = set; this.entry = entry; this.over = null; this.at = null; }
  PointFeature.prototype.getLatLng = function () {
    return this.at || L.latLng(this.entry.latlng[0], this.entry.latlng[1]);
  };
  // Draw the point elsewhere (the data keeps its position: entry.latlng).
  PointFeature.prototype.setLatLng = function (latlng) {
    var ll = (this.at = L.latLng(latlng)), i = this.entry.row;
    this.set.xy[2 * i] = worldX(ll.lng);
    this.set.xy[2 * i + 1] = worldY(ll.lat);
    if (ccamap.lineCanvas) { ccamap.lineCanvas.redrawPoints(); }
    return this;
  };
  PointFeature.prototype.getRadius = function () {
    return radiusOf(this.entry.feature.properties._style);
  };
  PointFeature.prototype.setStyle = LineFeature.prototype.setStyle;

