  // Add the path of the line of vertices from..to of xy (world pixels at zoom 0, less bx, by)
  // at a band to ctx. Standalone: the drawing helper (a worker) runs the same source.
  function traceLine(ctx, xy, lv, from, to, parts, band, k, ox, oy, clip, bx, by) {
    var next = parts && parts.length > 1 ? from + parts[1] : Infinity, pi = 1;
    var top = band < 0 ? 255 : band, pen = false, last = 0, lx = 0, ly = 0;
    for (var v = from; v < to; v += 1) {
      if (lv[v] > top) { continue; }
      var x = (xy[2 * v] + bx) * k - ox, y = (xy[2 * v + 1] + by) * k - oy;
      // which sides of the canvas the vertex lies beyond (a segment beyond one side of it,
      // as most are when zoomed in on a long line, is not drawn)
      var code = (x < clip[0] ? 1 : x > clip[2] ? 2 : 0) | (y < clip[1] ? 4 : y > clip[3] ? 8 : 0);
      var first = v === from || v === next;
      if (v === next) { pi += 1; next = pi < parts.length ? from + parts[pi] : Infinity; }
      if (first || (code & last)) { pen = false; }
      else if (pen) { ctx.lineTo(x, y); }
      else {
        ctx.moveTo(lx, ly);
        ctx.lineTo(x, y);
        pen = true;
      }
      lx = x;
      ly = y;
      last = code;
    }
  }

  // The distance in pixels from (px, py) to feature i as drawn at a band (zoom scale k, origin).
  LineSet.prototype.distance = function (i, band, k, ox, oy, px, py) {
    var s = this.shape, xy = s.xy, lv = s.levels, from = s.start[i], to = s.start[i + 1];
    var parts = s.parts[i], next = parts && parts.length > 1 ? from + parts[1] : Infinity, pi = 1;
    var top = band < 0 ? 255 : band, best = Infinity, ax = 0, ay = 0;
    for (var v = from; v < to; v += 1) {
      if (lv[v] > top) { continue; }
      var bx = xy[2 * v] * k - ox, by = xy[2 * v + 1] * k - oy, dd;
      if (v === from || v === next) {
        if (v === next) { pi += 1; next = pi < parts.length ? from + parts[pi] : Infinity; }
        dd = (bx - px) * (bx - px) + (by - py) * (by - py);
      } else {
        var dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
        var tt = len ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len)) : 0;
        var ex = ax + tt * dx - px, ey = ay + tt * dy - py;
        dd = ex * ex + ey * ey;
      }
      if (dd < best) { best = dd; }
      ax = bx;
      ay = by;
    }
    return Math.sqrt(best);
  };

  // Features stroked together: one stroke per feature costs a call each, one per style makes
  // paths so large that rasterizing them costs more than the calls (Chromium, no GPU).
  var STROKE_EVERY = 8;

  // Stroke the lines d.rows (at d.bands) in d.style, a few a stroke, leaving out those whose
  // box lies wholly outside world rows [y0, y1]; trace(i, band) adds line i's path. The page
  // and its drawing helper draw with it.
  function strokeRows(ctx, d, box, y0, y1, trace) {
    for (var a = 0; a < d.rows.length; a += STROKE_EVERY) {
      var any = false;
      ctx.beginPath();
      for (var z = a; z < Math.min(a + STROKE_EVERY, d.rows.length); z += 1) {
        var i = d.rows[z];
        if (box[4 * i + 1] > y1 || box[4 * i + 3] < y0) { continue; }
        trace(i, d.bands[z]);
        any = true;
      }
      if (any) { stroke(ctx, d.style); }
    }
  }

  function dash(style) {
    return style.dashArray ? String(style.dashArray).split(/[ ,]+/).map(Number) : [];
  }

  function stroke(ctx, style, over) {
    var st = over ? Object.assign({}, style, over) : style;
    ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
    ctx.strokeStyle = st.color || "#3388ff";
    ctx.lineWidth = st.weight === undefined ? 3 : st.weight;
    // Mitred joins (bevelled where sharp) and butt caps: a third cheaper to rasterize than
    // Leaflet's round ones (each dash of a dashed line has two caps), alike a few pixels wide.
    ctx.lineCap = st.lineCap || "butt";
    ctx.lineJoin = st.lineJoin || "miter";
    ctx.miterLimit = 2;
    ctx.setLineDash(dash(st));
    ctx.stroke();
  }

  /* The drawing helper. A 2D canvas is drawn on the page's one thread, and stroking lines a
   * few pixels wide is most of the time taken when tens of thousands are in view; a worker
   * drawing the lower part of the canvas (an OffscreenCanvas, returned as an image) halves the
   * wait on a machine with two cores. It runs this script's own dash, stroke, traceLine and
   * strokeRows. */
  var HELPER_MAX_ZOOM = 12;

  function helperMain() {
    var sets = [], canvas = null, ctx = null;
    self.onmessage = function (ev) {
      var m = ev.data;
      if (m.set) { sets[m.set.id] = m.set; return; }
      try {
        if (!canvas || canvas.width !== m.width || canvas.height !== m.height) {
          canvas = new OffscreenCanvas(m.width, m.height);
          ctx = canvas.getContext("2d");
        }
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, m.width, m.height);
        ctx.setTransform(m.ratio, 0, 0, m.ratio, -m.ratio * m.left, -m.ratio * m.top);
        var y0 = (m.top - 20 + m.oy) / m.k; // (lines below the view are not asked for)
        m.draws.forEach(function (d) {
          var set = sets[d.set];
          strokeRows(ctx, d, set.box, y0, Infinity, function (i, band) {
            traceLine(ctx, set.xy, set.levels, set.start[i], set.start[i + 1], set.parts[i],
              band, m.k, m.ox, m.oy, m.clip, set.bx, set.by);
          });
        });
        var bitmap = canvas.transferToImageBitmap();
        self.postMessage({ job: m.job, bitmap: bitmap }, [bitmap]);
      } catch (err) {
        self.postMessage({ job: m.job, error: String(err) });
      }
    };
  }

  // The page's helper: {worker, shared: the sets it holds}; worker undefined until started,
  // null where the browser cannot run it.
  var helper = { worker: undefined, shared: [], stale: [] };

  // A set the helper lacks, or holds in an older shape: sent before its next drawing, or when
  // the page is idle (a copy of a 100k-line layer takes half a second).
  function staleSet(set) {
    if (!helper.worker || helper.stale.indexOf(set) >= 0) { return; }
    helper.stale.push(set);
    var again = function () { if (helper.stale.indexOf(set) >= 0) { shareSet(set); } };
    if (window.requestIdleCallback) { window.requestIdleCallback(again, { timeout: 5000 }); }
    else { setTimeout(again, 1000); }
  }

  function startHelper() {
    if (helper.worker !== undefined) { return helper.worker !== null; }
    helper.worker = null;
    if (typeof Worker === "undefined" || typeof OffscreenCanvas === "undefined" ||
        typeof Blob === "undefined" || !window.URL || !URL.createObjectURL) { return false; }
    try {
      var source = [dash, stroke, traceLine, strokeRows, helperMain].map(String).join("\n") +
        "\nvar STROKE_EVERY = " + STROKE_EVERY + ";\nhelperMain();\n";
      var url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      helper.worker = new Worker(url);
      URL.revokeObjectURL(url);
    } catch (err) {
      helper.worker = null;
      return false;
    }
    helper.worker.onmessage = function (ev) {
      if (ccamap.lineCanvas) { ccamap.lineCanvas._helped(ev.data); } else if (ev.data.bitmap) { ev.data.bitmap.close(); }
    };
    helper.worker.onerror = function () { if (ccamap.lineCanvas) { ccamap.lineCanvas._helperFailed(); } else { stopHelper(); } };
    return true;
  }

  ccamap.startHelper = startHelper;

  function stopHelper() {
    if (helper.worker) { helper.worker.terminate(); }
    helper.worker = null;
    helper.shared = [];
    helper.stale = [];
  }

  // The helper's id of a set, sending it the set's lines the first time: its vertices as
  // 32-bit floats less the set's corner (exact to a small fraction of a pixel up to
  // HELPER_MAX_ZOOM), levels, line starts, parts and boxes.
  function shareSet(set) {
    var id = helper.shared.indexOf(set), stale = helper.stale.indexOf(set);
    if ((id >= 0 && stale < 0) || !helper.worker) { return id; }
    if (stale >= 0) { helper.stale.splice(stale, 1); }
    var s = set.shape, box = s.box, bx = Infinity, by = Infinity, j;
    for (j = 0; j < box.length; j += 4) { bx = Math.min(bx, box[j]); by = Math.min(by, box[j + 1]); }
    if (!isFinite(bx)) { bx = 0; by = 0; }
    var xy = new Float32Array(s.xy.length);
    for (j = 0; j < xy.length; j += 2) { xy[j] = s.xy[j] - bx; xy[j + 1] = s.xy[j + 1] - by; }
    var copy = { id: id >= 0 ? id : helper.shared.length, xy: xy, levels: s.levels.slice(), start: s.start.slice(),
      parts: s.parts, box: box.slice(), bx: bx, by: by };
    helper.worker.postMessage({ set: copy }, [copy.xy.buffer, copy.levels.buffer, copy.start.buffer,
      copy.box.buffer]);
    helper.shared[copy.id] = set;
    return copy.id;
  }

