  /* ------------------------------------------------------------------ page data */

  /* A layer arrives as one table (columns, rows) with styles, card data and compact geometry
   * (ccamap.render.pagedata, ccamap.render.geometry): each coordinate is the difference from
   * the previous one in units of 10^-precision degrees, x then y, written as zigzag varints of
   * 5-bit chunks, one character a chunk (bit 5 set while more follow); a space starts the next
   * part of a multi-line. A line simplified for lower zooms also lists, per zoom band, the
   * indices of the vertices that band keeps ("" = as the next band). */
  var CODE = (function () {
    var a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    var table = new Int8Array(128).fill(-1);
    for (var i = 0; i < a.length; i += 1) { table[a.charCodeAt(i)] = i; }
    return table;
  })();

  // Return {xy: [x0, y0, x1, y1, ...], parts: [first vertex of each part]}. Values stay under
  // 2^31 (deltas of degrees at 5 decimals), so 32-bit operations are exact.
  function decode(text, scale) {
    var xy = [], parts = [0], x = 0, y = 0, value = 0, shift = 0, odd = false;
    for (var i = 0; i < text.length; i += 1) {
      var ch = text.charCodeAt(i);
      if (ch === 32) { parts.push(xy.length / 2); continue; }
      var c = CODE[ch];
      value |= (c & 31) << shift;
      shift += 5;
      if (c < 32) {
        var d = (value >>> 1) ^ -(value & 1);
        value = 0;
        shift = 0;
        if (odd) { y += d; xy.push(x / scale, y / scale); } else { x += d; }
        odd = !odd;
      }
    }
    return { xy: xy, parts: parts };
  }
  ccamap.decode = decode;

  // The levels of a line's n vertices: two to a character, the first in the low 3 bits. Band
  // b draws the vertices of level b or less (every part's ends are level 0).
  function decodeLevels(text, n) {
    var out = new Uint8Array(n);
    for (var i = 0; i < text.length && 2 * i < n; i += 1) {
      var c = CODE[text.charCodeAt(i)];
      out[2 * i] = c & 7;
      if (2 * i + 1 < n) { out[2 * i + 1] = c >> 3; }
    }
    return out;
  }
  ccamap.decodeLevels = decodeLevels;

  function fullShape(entry) {
    if (!entry.shape && entry.src.set) { entry.shape = entry.src.set.shapeOf(entry.row); }
    if (!entry.shape) {
      var g = entry.src.geometry[entry.row];
      entry.shape = decode(typeof g === "string" ? g : g[g.length - 1], entry.src.scale);
      entry.shape.levels = typeof g === "string" ? null : decodeLevels(g[0], entry.shape.xy.length / 2);
    }
    return entry.shape;
  }

  // The band drawn at a zoom: the first whose last zoom is at or above it.
  function bandAt(src, zoom) {
    var bands = src.bands || [];
    for (var b = 0; b < bands.length; b += 1) { if (zoom <= bands[b][1]) { return b; } }
    return bands.length - 1;
  }

  // The band a line draws at a zoom band: -1 (every vertex) when it has no levels or at the
  // last band.
  function storedBand(entry, band) {
    var bands = entry.src.bands || [];
    if (band >= bands.length - 1) { return -1; }
    return entry.src.set || typeof entry.src.geometry[entry.row] !== "string" ? band : -1;
  }

  function lineLatLngs(entry, band) {
    var shape = fullShape(entry), xy = shape.xy, parts = shape.parts, n = xy.length / 2;
    var levels = band < 0 ? null : shape.levels;
    var out = [];
    for (var k = 0; k < parts.length; k += 1) {
      var from = parts[k], to = k + 1 < parts.length ? parts[k + 1] : n, part = [];
      for (var j = from; j < to; j += 1) {
        if (!levels || levels[j] <= band) { part.push([xy[2 * j + 1], xy[2 * j]]); }
      }
      out.push(part);
    }
    return out.length === 1 ? out[0] : out;
  }

  // GeoJSON geometry of an entry at full detail (for "download what I see").
  function geometryOf(entry) {
    if (entry.latlng) { return { type: "Point", coordinates: [entry.latlng[1], entry.latlng[0]] }; }
    var shape = fullShape(entry), xy = shape.xy, parts = shape.parts, n = xy.length / 2, lines = [];
    for (var k = 0; k < parts.length; k += 1) {
      var line = [], to = k + 1 < parts.length ? parts[k + 1] : n;
      for (var j = parts[k]; j < to; j += 1) { line.push([xy[2 * j], xy[2 * j + 1]]); }
      lines.push(line);
    }
    return lines.length === 1 ? { type: "LineString", coordinates: lines[0] }
      : { type: "MultiLineString", coordinates: lines };
  }

  var CORE = ["id", "name", "name_zh", "name_ru", "status", "status_year", "start_year",
    "completion_year", "countries"];


  /* ------------------------------------------------------------------ large line layers */

  /* A large line layer (data.canvas) is not a Leaflet polyline per feature: its vertices are
   * decoded once into one typed array (Web Mercator pixels at zoom 0), and one shared canvas
   * draws every visible feature of every such layer, batched by style (a few features a
   * stroke), at the zoom band's level of detail, skipping features outside the view. Clicks
   * and hovers are hit-tested on the same arrays (the canvas takes no pointer events, so point
   * layers drawn above or below stay clickable). Each feature's entry gets a small stand-in for
   * a polyline (getLatLngs, getBounds, setStyle) and its layer a stand-in for a group. */
  var MAX_LAT = 85.0511287798;
  function worldX(lon) { return 256 * (0.5 + lon / 360); }
  function worldY(lat) {
    var s = Math.sin(Math.max(Math.min(lat, MAX_LAT), -MAX_LAT) * Math.PI / 180);
    return 256 * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI));
  }

  // Inflate a packed layer (ccamap.render.packing): base64 of raw deflate holding a uint32
  // head length, the head (the page data as JSON) and, for lines, the binary geometry.
  function unpack(text) {
    var bytes;
    if (Uint8Array.fromBase64) { bytes = Uint8Array.fromBase64(text); } else {
      var bin = atob(text);
      bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i += 1) { bytes[i] = bin.charCodeAt(i); }
    }
    var stream = new ReadableStream({ start: function (c) { c.enqueue(bytes); c.close(); } })
      .pipeThrough(new DecompressionStream("deflate-raw"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      var all = new Uint8Array(buffer), size = new DataView(buffer).getUint32(0, true);
      var data = JSON.parse(new TextDecoder().decode(all.subarray(4, 4 + size)));
      data.binary = all.subarray(4 + size);
      return data;
    });
  }
  ccamap.unpack = unpack;

  // The count zigzagged values stored in byte planes (each plane's offset in bytes), as an
  // Int32Array: each plane added in one pass, then unzigzagged in place.
  function planeValues(bytes, offsets, count) {
    var acc = new Uint32Array(count), h, q, o, shift;
    for (q = 0; q < offsets.length; q += 1) {
      o = offsets[q];
      shift = 8 * q;
      for (h = 0; h < count; h += 1) { acc[h] += bytes[o + h] << shift; }
    }
    var out = new Int32Array(acc.buffer);
    for (h = 0; h < count; h += 1) { q = acc[h]; out[h] = (q >>> 1) ^ -(q & 1); }
    return out;
  }

  // Decode a packed layer's lines: {xy: the vertices in Web Mercator pixels at zoom 0, levels:
  // each vertex's level, start: each feature's first vertex (and the end), parts: per feature
  // null or its part starts, box: per feature [minX, minY, maxX, maxY]}. After the levels come
  // each line's first vertex (two int32), then the other vertices' zigzagged deltas in
  // data.planes byte planes; the binary data is let go once read.
  function decodePacked(data, scale) {
    var counts = data.counts, n = counts.length, total = 0, lines = 0, i;
    for (i = 0; i < n; i += 1) { total += counts[i]; if (counts[i]) { lines += 1; } }
    var b = data.binary, view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    var m = 2 * (total - lines), first = total, planes = [];
    for (i = 0; i < data.planes; i += 1) { planes.push(total + 8 * lines + i * m); }
    var d = planeValues(b, planes, m);
    var xy = new Float64Array(2 * total), start = new Int32Array(n + 1);
    var box = new Float64Array(4 * n), v = 0, h = 0;
    // lines in two parts: the rest's differences count from these positions
    var ints = data.rest ? new Int32Array(2 * total) : null;
    for (i = 0; i < n; i += 1) {
      var x = 0, y = 0;
      start[i] = v;
      for (var c = 0; c < counts[i]; c += 1, v += 1) {
        if (c === 0) {
          x = view.getInt32(first, true);
          y = view.getInt32(first + 4, true);
          first += 8;
        } else {
          x += d[h];
          y += d[h + 1];
          h += 2;
        }
        if (ints) { ints[2 * v] = x; ints[2 * v + 1] = y; }
        xy[2 * v] = worldX(x / scale);
        xy[2 * v + 1] = worldY(y / scale);
      }
      lineBox(xy, start[i], v, box, i);
    }
    start[n] = v;
    var levels = b.slice(0, total);
    delete data.binary;
    return { xy: xy, ints: ints, levels: levels, start: start, parts: data.parts, box: box,
      band: data.rest ? data.preview_band : Infinity };
  }

  // Line i's box in box ([minX, minY, maxX, maxY]) from its vertices from..to of xy.
  function lineBox(xy, from, to, box, i) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (var v = from; v < to; v += 1) {
      var px = xy[2 * v], py = xy[2 * v + 1];
      if (px < x0) { x0 = px; }
      if (px > x1) { x1 = px; }
      if (py < y0) { y0 = py; }
      if (py > y1) { y1 = py; }
    }
    box[4 * i] = x0;
    box[4 * i + 1] = y0;
    box[4 * i + 2] = x1;
    box[4 * i + 3] = y1;
  }

  // Decode a packed layer's whole lines from the shape of its first part (decodePacked) and
  // the rest (ccamap.render.packing): every vertex's level says which part holds it; the first
  // part's are decoded already, the others each a difference from the vertex before it.
  function decodeWhole(rest, scale, shown) {
    var counts = rest.counts, n = counts.length, total = 0, i;
    for (i = 0; i < n; i += 1) { total += counts[i]; }
    var b = rest.binary, bp = [], r = 2 * (total - shown.levels.length);
    for (i = 0; i < rest.planes; i += 1) { bp.push(total + i * r); }
    var db = planeValues(b, bp, r), lv = b.subarray(0, total), top = rest.band;
    var xy = new Float64Array(2 * total), start = new Int32Array(n + 1), box = new Float64Array(4 * n);
    var sxy = shown.xy, si = shown.ints, v = 0, u = 0, h = 0, x = 0, y = 0;
    for (i = 0; i < n; i += 1) {
      start[i] = v;
      for (var c = 0; c < counts[i]; c += 1, v += 1) {
        if (lv[v] <= top) { // the first part's next vertex
          x = si[2 * u];
          y = si[2 * u + 1];
          xy[2 * v] = sxy[2 * u];
          xy[2 * v + 1] = sxy[2 * u + 1];
          u += 1;
        } else {
          x += db[h];
          y += db[h + 1];
          h += 2;
          xy[2 * v] = worldX(x / scale);
          xy[2 * v + 1] = worldY(y / scale);
        }
      }
      lineBox(xy, start[i], v, box, i);
    }
    start[n] = v;
    return { xy: xy, ints: null, levels: lv.slice(), start: start, parts: rest.parts, box: box,
      band: Infinity };
  }

  // Degrees from world pixels at zoom 0, back to the data's decimals (exact: the projection
  // moves a coordinate by far less than half a unit of the last decimal).
  function worldLon(x, scale) { return Math.round((x / 256 - 0.5) * 360 * scale) / scale; }
  function worldLat(y, scale) {
    var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * y / 256))) * 180 / Math.PI;
    return Math.round(lat * scale) / scale;
  }

  // One layer drawn by the shared canvas.
  function LineSet(key, src, entries) {
    this.key = key;
    this.src = src;
    this.entries = entries;
    this.shape = decodePacked(src.data, src.scale);
    this.shown = false;
  }

  // The whole lines, once the rest of a packed layer is read: drawn at every zoom from now on.
  LineSet.prototype.complete = function (rest) {
    var before = this.shape.band;
    this.shape = decodeWhole(rest, this.src.scale, this.shape);
    staleSet(this);
    this.entries.forEach(function (e) {
      e.shape = null;
      if (rest.waypoints) { e.feature.properties._data.waypoints = rest.waypoints[e.row]; }
    });
    // drawn again only where the first part was not the whole drawing
    var map = ccamap.map;
    if (ccamap.lineCanvas && map && bandAt(this.src, map.getZoom()) > before) {
      ccamap.lineCanvas.redraw();
    }
  };

  // Feature i as decode() returns a line (degrees), with its levels.
  LineSet.prototype.shapeOf = function (i) {
    var s = this.shape, from = s.start[i], to = s.start[i + 1], xy = [], scale = this.src.scale;
    for (var v = from; v < to; v += 1) {
      xy.push(worldLon(s.xy[2 * v], scale), worldLat(s.xy[2 * v + 1], scale));
    }
    return { xy: xy, parts: s.parts[i] || [0], levels: s.levels.subarray(from, to) };
  };

  // The length of feature i through every vertex its shape holds (all of them once the rest
  // of a layer in two parts is read), in world pixels at zoom 0.
  LineSet.prototype.length = function (i) {
    var s = this.shape;
    if (!s.lengths) { s.lengths = lineLengths(s); }
    return s.lengths[i];
  };

  // Every feature's length (world pixels at zoom 0): one pass over the shape's vertices, made
  // the first time a frame asks.
  function lineLengths(s) {
    var n = s.start.length - 1, out = new Float64Array(n), xy = s.xy;
    for (var i = 0; i < n; i += 1) {
      var parts = s.parts[i], from = s.start[i], next = parts && parts.length > 1 ? from + parts[1] : Infinity;
      var pi = 1, sum = 0;
      for (var v = from + 1; v < s.start[i + 1]; v += 1) {
        if (v === next) { pi += 1; next = pi < parts.length ? from + parts[pi] : Infinity; continue; }
        var dx = xy[2 * v] - xy[2 * v - 2], dy = xy[2 * v + 1] - xy[2 * v - 1];
        sum += Math.sqrt(dx * dx + dy * dy);
      }
      out[i] = sum;
    }
    return out;
  }

  // Add feature i's path at a band (-1: every vertex) to ctx, in layer pixels, leaving out the
  // segments wholly beyond one side of clip ([x0, y0, x1, y1]).
  LineSet.prototype.trace = function (ctx, i, band, k, ox, oy, clip) {
    var s = this.shape;
    traceLine(ctx, s.xy, s.levels, s.start[i], s.start[i + 1], s.parts[i], band, k, ox, oy, clip, 0, 0);
  };

