/* ccamap map runtime: draws the layers, binds tooltips and cards, filters, search, controls.
 *
 * Safety: this file inserts no HTML string. Every text (cards, names, countries, statuses,
 * place names, search results, statistics) is put in the page with createElement and
 * textContent, and links only to http(s) addresses; downloads are built as text and handed
 * to the browser as a Blob. The URL fragment is parsed defensively and its
 * values are only ever compared with known ids, statuses, countries and layer keys.
 */
(function () {
  "use strict";
  var ccamap = (window.ccamap = window.ccamap || {});
  ccamap.entries = []; // one per feature: {key, feature, layer, group, visible}
  ccamap.groups = {}; // layer key -> L.GeoJSON
  ccamap.config = { countries: {}, statuses: [], years: [null, null], layers: {}, sources: {} };
  ccamap.lang = "en";
  var state = { statuses: null, country: "", year: null };
  var NARROW = "(max-width: 760px)";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function narrow() { return window.matchMedia && window.matchMedia(NARROW).matches; }

  /* ------------------------------------------------------------------ languages */

  var I18N = {
    zh: {
      skip: "跳到搜索", asof: "数据截至", menu: "菜单", about: "关于", cite: "引用", licence: "许可",
      table: "表格", download: "下载", dlgeojson: "当前所见 (GeoJSON)", dlcsv: "当前所见 (CSV)",
      language: "语言", details: "项目详情", more: "展开", less: "收起", close: "关闭",
      cutoff: "数据截止", seeds: "起始文件", contribute: "报告错误或提议新来源：见仓库中的 CONTRIBUTING.md。",
      citecff: "仓库中的 CITATION.cff 提供机器可读的同一引用。", legend: "图例", status: "状态",
      filters: "筛选", country: "国家", allCountries: "所有国家", year: "年份", play: "播放",
      pause: "暂停", features: "要素列表", of: " / ", featuresWord: " 个要素",
      yearHint: "到该年已建成或在建；无日期的要素始终显示", search: "搜索：English, 中文, русский",
      noResults: "无结果", lines: "线路", power: "电力", ports: "口岸", byCountry: "按国家",
      statistics: "统计", halo: "路线不确定性", haloHint: "每条线周围的阴影：绘制线与实际路线可能相距多远",
      locality: "虚线圈：置于最近的地名处（具体位置不详）",
      statusNames: { announced: "已宣布", "pre-construction": "前期", construction: "在建",
        operating: "运营中", shelved: "搁置", cancelled: "取消", mothballed: "封存", retired: "退役" },
      layerNames: { railways: "铁路与铁路走廊", pipelines: "管道", highways: "公路与公路走廊",
        power_plants: "电站与能源设施", border_ports: "边境口岸", sites: "枢纽、中心及其他" },
      card: { "Sources": "来源", "not reported": "未报告", "status as of": "状态截至",
        "Owners": "所有者", "Operators": "运营方", "Builders": "建设方", "Capacity": "能力",
        "Precision": "几何精度", "Start year": "开工年份", "Completion year": "建成年份",
        "Reported length (km)": "报告长度 (km)", "Cost (USD million)": "造价（百万美元）",
        "Notes": "备注", "Drawn length (geodesic)": "绘制长度（测地线）", "Waypoints": "途经点" }
    },
    ru: {
      skip: "К поиску", asof: "данные на", menu: "Меню", about: "О карте", cite: "Цитировать",
      licence: "Лицензия", table: "Таблица", download: "Скачать", dlgeojson: "Видимое (GeoJSON)",
      dlcsv: "Видимое (CSV)", language: "Язык", details: "Сведения об объекте", more: "Больше",
      less: "Меньше", close: "Закрыть", cutoff: "Срез данных", seeds: "Исходные документы",
      contribute: "Сообщить об ошибке или предложить источник: см. CONTRIBUTING.md в репозитории.",
      citecff: "Файл CITATION.cff в репозитории содержит то же в машиночитаемом виде.",
      legend: "Легенда", status: "Статус", filters: "Фильтры", country: "Страна",
      allCountries: "Все страны", year: "Год", play: "Пуск", pause: "Пауза",
      features: "Список объектов", of: " из ", featuresWord: " объектов",
      yearHint: "построено или строится к этому году; объекты без даты видны всегда",
      search: "Поиск: English, 中文, русский", noResults: "Ничего не найдено", lines: "Линии",
      power: "Энергетика", ports: "Переходы", byCountry: "по странам", statistics: "Статистика",
      halo: "Неточность трассы",
      haloHint: "полоса вокруг линии: насколько рисунок может отстоять от реальной трассы",
      locality: "пунктирное кольцо: в ближайшем населённом пункте (точное место неизвестно)",
      statusNames: { announced: "объявлен", "pre-construction": "подготовка",
        construction: "строится", operating: "действует", shelved: "отложен",
        cancelled: "отменён", mothballed: "законсервирован", retired: "выведен" },
      layerNames: { railways: "Железные дороги и коридоры", pipelines: "Трубопроводы",
        highways: "Автодороги и коридоры", power_plants: "Электростанции и энергообъекты",
        border_ports: "Пограничные переходы", sites: "Хабы, центры и другие объекты" },
      card: { "Sources": "Источники", "not reported": "нет данных", "status as of": "статус на",
        "Owners": "Владельцы", "Operators": "Операторы", "Builders": "Строители",
        "Capacity": "Мощность", "Precision": "Точность", "Start year": "Начало строительства",
        "Completion year": "Завершение", "Reported length (km)": "Заявленная длина (км)",
        "Cost (USD million)": "Стоимость (млн USD)", "Notes": "Примечания",
        "Drawn length (geodesic)": "Длина на карте (геодезическая)", "Waypoints": "Пункты" }
    }
  };
  var EN = { filters: "Filters", country: "Country", allCountries: "All countries", year: "Year",
    play: "Play", pause: "Pause", features: "Features", of: " of ", featuresWord: " features",
    yearHint: "built or under construction by then; undated features stay shown",
    search: "Search: English, 中文, русский", noResults: "No results", lines: "Lines",
    power: "Power", ports: "Ports", byCountry: "by country", statistics: "Statistics",
    more: "More", less: "Less", status: "Status", halo: "Route uncertainty",
    haloHint: "shade around each line: how far the drawing may be from the real route",
    locality: "dashed ring: placed at the nearest named place (the site itself is unknown)" };

  function t(key) {
    var d = I18N[ccamap.lang];
    return (d && typeof d[key] === "string") ? d[key] : EN[key] || key;
  }
  function statusName(s) {
    var d = I18N[ccamap.lang];
    return (d && d.statusNames[s]) || s;
  }
  function layerName(key) {
    var d = I18N[ccamap.lang];
    return (d && d.layerNames[key]) || ccamap.config.layers[key] || key;
  }
  function countryName(code) {
    var tr = ccamap.config.countriesI18n && ccamap.config.countriesI18n[ccamap.lang];
    return (tr && tr[code]) || ccamap.config.countries[code] || code;
  }
  function displayName(p) {
    if (ccamap.lang === "zh" && p.name_zh) { return p.name_zh; }
    if (ccamap.lang === "ru" && p.name_ru) { return p.name_ru; }
    return p.name || p.id;
  }

  ccamap.configure = function (config) {
    ccamap.config = config;
    if (!ccamap.config.sources) { ccamap.config.sources = {}; }
  };

  /* ------------------------------------------------------------------ basemap */

  var BACKGROUND = "#dfe8ee";

  function fadeBands(bounds) {
    // The outlines end at a rectangle: frames of the background colour, more opaque outward,
    // fade them out over the last 4 degrees instead of a hard edge.
    var w = bounds.getWest(), s = bounds.getSouth(), e = bounds.getEast(), n = bounds.getNorth();
    var steps = 8, width = 4, out = [];
    function ring(d) { return [[s + d, w + d], [s + d, e - d], [n - d, e - d], [n - d, w + d]]; }
    for (var i = 0; i < steps; i += 1) {
      var outer = width * i / steps, inner = width * (i + 1) / steps;
      out.push(L.polygon([ring(outer), ring(inner)], {
        pane: "ccamap-fade", interactive: false, stroke: false, fillColor: BACKGROUND,
        fillOpacity: 1 - (i + 0.5) / steps
      }));
    }
    out.push(L.polygon([[[-85, -179], [-85, 179], [85, 179], [85, -179]], ring(0)], {
      pane: "ccamap-fade", interactive: false, stroke: false, fillColor: BACKGROUND, fillOpacity: 1
    }));
    return out;
  }

  function minPopulation(zoom) {
    if (zoom < 4) { return Infinity; }
    if (zoom < 5) { return 1000000; }
    if (zoom < 6) { return 500000; }
    if (zoom < 7) { return 200000; }
    if (zoom < 8) { return 100000; }
    if (zoom < 9) { return 30000; }
    return 0;
  }

  var Labels = L.Layer.extend({
    initialize: function (extra) { this._extra = extra; },
    onAdd: function (map) {
      this._map = map;
      this._box = el("div", "ccamap-labels");
      this._box.setAttribute("aria-hidden", "true");
      map.getPane("ccamap-labels").appendChild(this._box);
      map.on("zoomend moveend viewreset", this.redraw, this);
      this.redraw();
    },
    onRemove: function (map) {
      map.off("zoomend moveend viewreset", this.redraw, this);
      this._box.remove();
    },
    redraw: function () {
      var map = this._map, box = this._box, zoom = map.getZoom(), extra = this._extra;
      var size = map.getSize(), placed = [], lang = ccamap.lang, frag = document.createDocumentFragment();
      var ctx = ccamap._measure || (ccamap._measure = document.createElement("canvas").getContext("2d"));
      box.textContent = "";
      function fits(r) {
        for (var i = 0; i < placed.length; i += 1) {
          var q = placed[i];
          if (r[0] < q[2] && r[2] > q[0] && r[1] < q[3] && r[3] > q[1]) { return false; }
        }
        return true;
      }
      function put(lat, lon, text, cls, font, dot) {
        if (!text) { return false; }
        var pt = map.latLngToContainerPoint([lat, lon]);
        if (pt.x < -50 || pt.y < -20 || pt.x > size.x + 50 || pt.y > size.y + 20) { return false; }
        ctx.font = font;
        var w = ctx.measureText(text).width + 6, h = Number(/(\d+)px/.exec(font)[1]) + 4;
        var dx = dot ? 5 : -w / 2, dy = -h / 2;
        var r = [pt.x + dx - 2, pt.y + dy - 2, pt.x + dx + w + 2, pt.y + dy + h + 2];
        if (!fits(r) || (dot && !fits([pt.x - 3, pt.y - 3, pt.x + 3, pt.y + 3]))) { return false; }
        placed.push(r);
        if (dot) { placed.push([pt.x - 3, pt.y - 3, pt.x + 3, pt.y + 3]); }
        var lp = map.latLngToLayerPoint([lat, lon]);
        var node = el("div", "ccamap-label " + cls, text);
        node.style.transform = "translate(" + Math.round(lp.x + dx) + "px," + Math.round(lp.y + dy) + "px)";
        frag.appendChild(node);
        if (dot) {
          var d = el("div", "ccamap-town-dot" + (cls.indexOf("capital") >= 0 ? " ccamap-capital-dot" : ""));
          d.style.transform = "translate(" + Math.round(lp.x - 2.5) + "px," + Math.round(lp.y - 2.5) + "px)";
          frag.appendChild(d);
        }
        return true;
      }
      function pick(en, zh, ru) { return (lang === "zh" && zh) || (lang === "ru" && ru) || en; }
      if (zoom <= 8) {
        (extra.countries || []).forEach(function (c) {
          var minArea = zoom <= 3 ? 40 : zoom <= 4 ? 6 : 0.5;
          if (c[2] >= minArea) {
            put(c[1], c[0], pick(c[4], c[5], c[6]).toUpperCase(), "ccamap-country-label",
              "600 12px system-ui, sans-serif", false);
          }
        });
      }
      ((extra.water && extra.water.features) || []).forEach(function (f) {
        var p = f.properties || {};
        if (p.name && p._label && zoom >= 4) {
          put(p._label[1], p._label[0], pick(p.name, p.name_zh, p.name_ru), "ccamap-water-label",
            "italic 12px system-ui, sans-serif", false);
        }
      });
      var minPop = minPopulation(zoom);
      (extra.places || []).forEach(function (c) {
        if ((c[3] && zoom >= 3) || c[2] >= minPop) {
          put(c[1], c[0], pick(c[4], c[5], c[6]), c[3] ? "ccamap-town ccamap-capital" : "ccamap-town",
            (c[3] ? "600 " : "") + "12px system-ui, sans-serif", true);
        }
      });
      box.appendChild(frag);
      ccamap.labelCount = box.querySelectorAll(".ccamap-label").length;
    }
  });

  ccamap.addOutlines = function (map, data, extra) {
    extra = extra || {};
    [["ccamap-outlines", 250], ["ccamap-water", 260], ["ccamap-fade", 270], ["ccamap-labels", 390]]
      .forEach(function (p) {
        if (!map.getPane(p[0])) {
          map.createPane(p[0]);
          map.getPane(p[0]).style.zIndex = p[1];
          map.getPane(p[0]).style.pointerEvents = "none";
        }
      });
    map.getContainer().style.background = BACKGROUND;
    ccamap.outlinesData = data;
    var outlines = L.geoJSON(data, {
      pane: "ccamap-outlines",
      interactive: false,
      style: { color: "#8a8f91", weight: 0.8, fillColor: "#f6f3ec", fillOpacity: 1 }
    });
    var parts = [outlines];
    if (extra.water) {
      extra.water.features.forEach(function (f) {
        if (f.properties && f.properties.name) {
          var c = L.geoJSON(f).getBounds().getCenter();
          f.properties._label = [c.lng, c.lat];
        }
      });
      parts.push(L.geoJSON(extra.water, {
        pane: "ccamap-water", interactive: false,
        style: { color: "#7fa7c0", weight: 0.6, fillColor: "#b9d3e3", fillOpacity: 1 }
      }));
    }
    var b = outlines.getBounds();
    if (b.isValid()) { parts = parts.concat(fadeBands(b)); }
    ccamap.labels = new Labels(extra);
    parts.push(ccamap.labels);
    return L.layerGroup(parts);
  };

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

  function canvasRenderer() {
    return ccamap.canvas || (ccamap.canvas = L.canvas({ padding: 0.5, tolerance: 5 }));
  }


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

  // Add feature i's path at a band (-1: every vertex) to ctx, in layer pixels, leaving out the
  // segments wholly beyond one side of clip ([x0, y0, x1, y1]).
  LineSet.prototype.trace = function (ctx, i, band, k, ox, oy, clip) {
    var s = this.shape;
    traceLine(ctx, s.xy, s.levels, s.start[i], s.start[i + 1], s.parts[i], band, k, ox, oy, clip, 0, 0);
  };

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

  var LineCanvas = L.Renderer.extend({
    // padding: Leaflet's own, the canvas a tenth larger than the view on each side (zoomed in on
    // dense lines, the segments drawn follow its area)
    // split: the vertices in view (at full detail) from which a helper draws part of the canvas;
    // helperWait: how long (ms) a frame waits for the helper's part before it is drawn alone
    options: { padding: 0.1, tolerance: 5, split: 150000, helperWait: 30000 },

    initialize: function (options) {
      L.Renderer.prototype.initialize.call(this, options);
      this.sets = [];
      this.drawn = 0; // features drawn by the last frame
      this._frame = null;
      this._job = 0;
      this._pending = null; // a frame whose helper's part is not in yet
    },

    _initContainer: function () {
      var c = (this._container = document.createElement("canvas"));
      c.className = "ccamap-lines";
      c.setAttribute("aria-hidden", "true");
      c.style.pointerEvents = "none";
      this._ctx = c.getContext("2d");
    },

    _destroyContainer: function () {
      L.DomUtil.remove(this._container);
      delete this._ctx;
      delete this._container;
    },

    _update: function () {
      if (this._map._animatingZoom && this._bounds) { return; }
      L.Renderer.prototype._update.call(this);
      var b = this._bounds, size = b.getSize(), m = window.devicePixelRatio || 1, c = this._container;
      L.DomUtil.setPosition(c, b.min);
      c.width = m * size.x;
      c.height = m * size.y;
      c.style.width = size.x + "px";
      c.style.height = size.y + "px";
      this.fire("update");
    },

    // drawn at the next frame (before it is shown): the view changes and layers added in one
    // task (a zoom resets the view, then ends a move) make one drawing
    _updatePaths: function () { this.redraw(); },

    onAdd: function (map) {
      L.Renderer.prototype.onAdd.call(this, map);
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

    // Redraw at the next frame (filters, styles, layers shown or hidden).
    redraw: function () {
      var self = this;
      if (!this._map || this._frame !== null) { return; }
      this._frame = L.Util.requestAnimFrame(function () { self._frame = null; self.draw(); });
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
      var ctx = this._ctx, c = this._container, m = window.devicePixelRatio || 1, b = this._bounds;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, c.width, c.height);
      var v = this._view(), selected = [], edge = 20; // a margin for wide lines
      this.covered = false;
      var frame = { job: (this._job += 1), m: m, min: b.min, v: v, selected: selected,
        clip: [b.min.x - edge, b.min.y - edge, b.max.x + edge, b.max.y + edge], draws: [] };
      var weight = [], total = 0;
      this.sets.forEach(function (set) {
        if (!set.shown) { return; }
        var band = bandAt(set.src, v.zoom), box = set.shape.box, style = set.src.data.style;
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
        });
        Object.keys(byStyle).forEach(function (sn) {
          var list = byStyle[sn], rows = new Int32Array(list.length), bands = new Int8Array(list.length);
          list.forEach(function (e, z) { rows[z] = e.row; bands[z] = e.band; });
          frame.draws.push({ set: set, style: set.src.data.styles[sn], rows: rows, bands: bands });
        });
      });
      // Many lines in view: a helper draws the lower part of the canvas meanwhile
      var split = this._splitRow(frame, weight, total);
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
        return !set.shown || set.shape.band >= bandAt(set.src, v.zoom);
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
      var self = this;
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

    // Call done once the canvas shows every line (at once, or when the helper's part is in).
    whenDrawn: function (done) {
      if (!this._pending && this._frame === null) { done(); return; }
      this.once("drawn", function () { this.whenDrawn(done); }, this);
    },

    // The entry drawn nearest a map event's point, within the tolerance, or null.
    hit: function (ev) {
      if (!this._map || !this._bounds) { return null; }
      var v = this._view(), p = this._map.latLngToLayerPoint(ev.latlng), best = null, dist = Infinity;
      for (var s = this.sets.length - 1; s >= 0; s -= 1) {
        var set = this.sets[s];
        if (!set.shown) { continue; }
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

  function lineCanvas(map) {
    if (!ccamap.lineCanvas) { ccamap.lineCanvas = new LineCanvas(); }
    if (!map.hasLayer(ccamap.lineCanvas)) { map.addLayer(ccamap.lineCanvas); }
    return ccamap.lineCanvas;
  }

  // A large line layer's stand-in for a group: shown and hidden with the layer control, and
  // told (addLayer, removeLayer) when a filter changes what it shows.
  var LineGroup = L.Layer.extend({
    initialize: function (set) { this.set = set; },
    // The layer's lines, once a packed layer is read (shown if the group already is).
    attach: function (set) {
      this.set = set;
      if (this._map) { this.onAdd(this._map); }
    },
    onAdd: function (map) {
      if (!this.set) { return; }
      var canvas = lineCanvas(map);
      if (canvas.sets.indexOf(this.set) < 0) { canvas.sets.push(this.set); }
      this.set.shown = true;
      canvas.redraw();
    },
    onRemove: function () {
      if (!this.set) { return; }
      this.set.shown = false;
      if (ccamap.lineCanvas) { ccamap.lineCanvas.redraw(); }
    },
    addLayer: function () { if (ccamap.lineCanvas) { ccamap.lineCanvas.redraw(); } return this; },
    removeLayer: function () { if (ccamap.lineCanvas) { ccamap.lineCanvas.redraw(); } return this; }
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
  LineFeature.prototype.setStyle = function (style) {
    this.over = style === this.entry.feature.properties._style ? null : style;
    if (ccamap.lineCanvas) { ccamap.lineCanvas.redraw(); }
    return this;
  };

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
    var group = data.kind === "line" ? new LineGroup(null) : L.featureGroup();
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
    if (lc && lc._map && (!lc.covered || lc._pending || lc._frame !== null)) { return; }
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
    var renderer = src.canvas ? canvasRenderer() : null;
    var options = data.styles.map(function (st) {
      return renderer ? Object.assign({}, st, { renderer: renderer }) : st;
    });
    var points = data.kind === "point" ? decode(data.points || "", src.scale).xy : null;
    var band = bandAt(src, map.getZoom() || 0);
    var layers = [], fast = !points && src.canvas, mine = [];
    var set = fast ? (src.set = new LineSet(key, src, mine)) : null;
    if (set && !data.rest) { shareSet(set); } // (lines in two parts: once complete)
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
      if (fast) {
        entry.layer = new LineFeature(set, entry);
        ccamap.entries.push(entry);
        mine.push(entry);
        return;
      }
      if (points) {
        entry.latlng = [points[2 * i + 1], points[2 * i]];
        layer = L.circleMarker(entry.latlng, options[data.style[i]]);
      } else {
        entry.band = storedBand(entry, band);
        layer = L.polyline(lineLatLngs(entry, entry.band), options[data.style[i]]);
      }
      entry.layer = layer;
      ccamap.entries.push(entry);
      layers.push(layer);
      // a canvas layer's markers share their group's tooltip and click (below): no element,
      // and a listener and a tooltip less for each of thousands
      layer._ccamapEntry = entry;
      if (src.canvas) { return; }
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
    if (src.canvas && !fast) {
      group.bindTooltip(function (layer) {
        return el("span", null, displayName(layer._ccamapEntry.feature.properties));
      }, { sticky: true });
      group.on("click", function (ev) {
        var entry = ev.layer && ev.layer._ccamapEntry;
        if (!entry) { return; }
        if (ev.originalEvent) { ev.originalEvent._ccamapHandled = true; }
        ccamap.openCard(entry, null);
      });
    }
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

  /* ------------------------------------------------------------------ the card */

  // A feature's waypoint names: a large layer's page joins them into one text, a name a line
  // (names holding a line break stay a list).
  function waypointList(d) {
    return typeof d.waypoints === "string" ? d.waypoints.split("\n") : d.waypoints;
  }

  function capitalize(s) { s = String(s || ""); return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(); }

  function commas(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // A value as ccamap.render.cards.format_value shows it: lists joined with "; ", whole
  // numbers of integer columns as they are, other numbers with thousands separators.
  function formatValue(v, integer) {
    if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) { return ""; }
    if (Array.isArray(v)) { return v.map(function (x) { return formatValue(x, true); }).join("; "); }
    if (typeof v === "boolean") { return v ? "True" : "False"; }
    if (typeof v === "number") {
      if (integer) { return String(Math.trunc(v)); }
      var text = String(v);
      var dot = text.indexOf(".");
      return dot < 0 ? commas(text) : commas(text.slice(0, dot)) + text.slice(dot);
    }
    return String(v);
  }

  function append(parent, child) {
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return parent;
  }

  // The card of a feature, built with text nodes from the layer's table: the same card as
  // ccamap.render.cards.card_html (tests compare the two), no HTML string involved.
  function buildCard(entry) {
    var data = entry.src.data, i = entry.row, d = entry.feature.properties._data;
    var sources = ccamap.config.sources || {}, precision = ccamap.config.precision || {};
    var ints = data.ints || [], refsOf = data.refs[i] || {}, claimRows = data.claims[i] || [];
    var claims = {};
    claimRows.forEach(function (c) { (claims[c[0]] = claims[c[0]] || []).push(c); });
    var cited = [];
    function cite(sid) { if (cited.indexOf(sid) < 0) { cited.push(sid); } }
    (d.sources || []).forEach(cite);
    (data.coords[i] || []).forEach(cite);
    claimRows.forEach(function (c) { cite(c[3]); });
    function has(obj, k) { return Object.prototype.hasOwnProperty.call(obj, k); }
    function sups(node, sids) {
      var nums = [];
      sids.forEach(function (s) { var n = cited.indexOf(s) + 1; if (n && nums.indexOf(n) < 0) { nums.push(n); } });
      nums.sort(function (a, b) { return a - b; }).forEach(function (n) {
        node.appendChild(el("sup", "ccamap-ref", "[" + n + "]"));
      });
    }
    function refs(node, name) { sups(node, has(refsOf, name) ? refsOf[name] : []); }
    function also(node, names) {
      var lines = [], byKey = {};
      names.forEach(function (name) {
        (has(claims, name) ? claims[name] : []).forEach(function (c) {
          var k = JSON.stringify([c[1], c[2]]);
          if (!has(byKey, k)) { byKey[k] = { text: c[1], year: c[2], same: [] }; lines.push(byKey[k]); }
          byKey[k].same.push(c);
        });
      });
      lines.forEach(function (line) {
        var div = el("div", "ccamap-claim", "also reported: " + line.text + " ");
        sups(div, line.same.map(function (c) { return c[3]; }));
        if (line.year !== null && line.year !== undefined) { append(div, " (" + line.year + ")"); }
        var notes = [];
        line.same.forEach(function (c) { if (c[4] && notes.indexOf(c[4]) < 0) { notes.push(c[4]); } });
        if (notes.length) {
          append(div, " ");
          div.appendChild(el("span", "ccamap-claim-note", "— " + notes.join("; ")));
        }
        node.appendChild(div);
      });
    }
    var card = el("div", "ccamap-card");
    card.setAttribute("data-id", d.id === null || d.id === undefined ? "" : String(d.id));
    card.appendChild(el("h4", null, d.name === null || d.name === undefined ? "" : d.name));
    var names = ["name_zh", "name_ru"].filter(function (k) { return d[k]; }).map(function (k) { return d[k]; });
    if (names.length) { card.appendChild(el("div", "ccamap-names", names.join(" · "))); }
    var status = el("div", "ccamap-status ccamap-status-" + (d.status || ""),
      capitalize(d.status) + (d.status_year ? " " : ""));
    if (d.status_year) {
      status.appendChild(el("span", "ccamap-status-year", "(status as of " + formatValue(d.status_year, true) + ")"));
    }
    refs(status, "status");
    also(status, ["status", "status_year"]);
    card.appendChild(status);
    card.appendChild(el("div", "ccamap-countries", (d.countries || []).map(function (c) {
      return (ccamap.config.countries[c] || c) + " (" + c + ")";
    }).join(" → ")));
    card.appendChild(el("p", "ccamap-description", d.description === null || d.description === undefined ? "" : d.description));
    var table = el("table", "ccamap-attrs"), tbody = el("tbody"), missing = [];
    table.appendChild(tbody);
    function row(title, td) {
      var tr = el("tr");
      tr.appendChild(el("th", null, title));
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    data.fields.forEach(function (f) {
      var name = f[0], value = formatValue(d[name], f[2] === "int");
      if (!value && !has(claims, name)) { missing.push(f[1]); return; }
      var td = el("td");
      if (!value) { td.appendChild(el("span", "ccamap-missing", "not reported")); }
      else if (name === "route_error_km") { append(td, "drawing within ~" + value + " km of the real route"); }
      else {
        append(td, value + (name === "capacity" && d.capacity_unit ? " " + d.capacity_unit : ""));
        if (name === "geometry_precision" && has(precision, value)) {
          append(td, " ");
          td.appendChild(el("span", "ccamap-hint", "(" + precision[value] + ")"));
        }
      }
      refs(td, name);
      also(td, [name]);
      row(f[1], td);
    });
    data.extras.forEach(function (name) {
      var value = formatValue(d[name], ints.indexOf(name) >= 0);
      if (!value) { missing.push(name); return; }
      row(name, el("td", null, value));
    });
    if (d.length_km !== null && d.length_km !== undefined) {
      row("Drawn length (geodesic)", el("td", null, formatValue(d.length_km, false) + " km"));
    }
    var listed = waypointList(d);
    var waypoints = Array.isArray(listed) ? listed.filter(function (w) {
      return w !== null && String(w).trim();
    }) : [];
    if (waypoints.length) { row("Waypoints", el("td", null, waypoints.join("; "))); }
    card.appendChild(table);
    if (missing.length) { card.appendChild(el("p", "ccamap-missing", "not reported: " + missing.join(", "))); }
    var box = el("div", "ccamap-sources"), list = el("ol");
    box.appendChild(el("b", null, "Sources"));
    cited.forEach(function (sid) {
      var li = el("li");
      if (has(sources, sid)) {
        var s = sources[sid], meta = [s[1], s[2]].filter(Boolean).join(", ");
        if (/^https?:\/\//.test(s[3])) {
          var a = el("a", null, s[0]);
          a.href = s[3];
          a.target = "_blank";
          a.rel = "noopener";
          li.appendChild(a);
        } else { append(li, s[0]); }
        if (meta) { append(li, " — " + meta); }
      } else { append(li, sid + " (unknown source)"); }
      list.appendChild(li);
    });
    box.appendChild(list);
    card.appendChild(box);
    card.appendChild(el("div", "ccamap-id", entry.key + " / " + (d.id === null || d.id === undefined ? "" : d.id)));
    return card;
  }
  ccamap.buildCard = buildCard;

  /* ------------------------------------------------------------------ filtering */

  function layerShown(entry) { return !ccamap.map || ccamap.map.hasLayer(entry.group); }

  function matches(entry) {
    var p = entry.feature.properties;
    if (state.statuses && state.statuses.indexOf(p.status) < 0) { return false; }
    if (state.country && (p.countries || []).indexOf(state.country) < 0) { return false; }
    if (state.year !== null && p._first_year !== null && p._first_year > state.year) {
      return false;
    }
    return true;
  }

  ccamap.visibleEntries = function () {
    return ccamap.entries.filter(function (e) { return e.visible && layerShown(e); });
  };

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
    refreshViews();
    if (ccamap.halo.on) { ccamap.drawHalos(); }
    return shown;
  };

  function refreshViews() {
    if (ccamap.countNode) {
      var seen = ccamap.visibleEntries().length;
      ccamap.countNode.textContent = (ccamap.lang === "en" ? seen + " of " + ccamap.entries.length + " features"
        : seen + t("of") + ccamap.entries.length + t("featuresWord"));
    }
    if (ccamap.refreshList) { ccamap.refreshList(); }
    renderStats();
    writeHash();
  }

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
      if (e.canvas && !halo.canvas) { halo.canvas = L.canvas({ pane: "ccamap-halos" }); }
      L.polyline(e.layer.getLatLngs(), {
        renderer: e.canvas ? halo.canvas : undefined,
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

  function lower(v) { return String(v || "").toLowerCase(); }

  // Rank: 0 exact name, 1 name prefix, 2 a word of the name starts with the query, 3 name
  // contains it, 4 an alias (names on either side of a port, waypoints), 5 the description.
  // Ties: points before lines (a place before a corridor through it), then shorter names.
  function rank(entry, q) {
    var p = entry.feature.properties, d = p._data || {};
    var names = [p.name, p.name_zh, p.name_ru].filter(Boolean).map(lower);
    var best = 9;
    names.forEach(function (n) {
      var r = n === q ? 0 : n.indexOf(q) === 0 ? 1
        : n.split(/[\s\-–—(),/·]+/).some(function (w) { return w && w.indexOf(q) === 0; }) ? 2
        : n.indexOf(q) >= 0 ? 3 : 9;
      if (r < best) { best = r; }
    });
    if (best === 9) {
      // a number: unnamed ones; a text: a large layer's names, joined (searched as one)
      var named = typeof d.waypoints === "string" ? [d.waypoints]
        : Array.isArray(d.waypoints) ? d.waypoints : [];
      var aliases = [d.name_a, d.name_b].concat(named).filter(Boolean).map(lower);
      if (aliases.some(function (a) { return a.indexOf(q) >= 0; })) { best = 4; }
      else if (lower(d.description).indexOf(q) >= 0) { best = 5; }
    }
    return best;
  }

  ccamap.search = function (query) {
    var q = lower(query).trim();
    if (!q) { return []; }
    return ccamap.entries
      .map(function (e) { return { e: e, r: rank(e, q) }; })
      .filter(function (x) { return x.r < 9; })
      .sort(function (a, b) {
        var la = a.e.layer.getLatLng ? 0 : 1, lb = b.e.layer.getLatLng ? 0 : 1;
        return a.r - b.r || la - lb || String(a.e.feature.properties.name).length -
          String(b.e.feature.properties.name).length;
      })
      .map(function (x) { return x.e; });
  };

  ccamap.focus = function (entry, opener) {
    var map = ccamap.map;
    if (!entry.visible) { entry.group.addLayer(entry.layer); entry.visible = true; }
    if (!map.hasLayer(entry.group)) { map.addLayer(entry.group); }
    ccamap.openCard(entry, opener === undefined ? null : opener);
    if (entry.layer.getBounds) {
      map.fitBounds(entry.layer.getBounds(), { maxZoom: 9, padding: [30, 30] });
    } else {
      map.setView(entry.layer.getLatLng(), Math.max(map.getZoom(), 8));
    }
    return entry;
  };

  ccamap.focusId = function (id) {
    var found = ccamap.entries.filter(function (e) { return e.feature.properties.id === id; });
    return found.length ? ccamap.focus(found[0]) : null;
  };

  /* ------------------------------------------------------------------ the card panel */

  function translateCard(node) {
    var d = I18N[ccamap.lang];
    if (!d) { return; }
    node.querySelectorAll("th, .ccamap-sources > b").forEach(function (n) {
      if (d.card[n.textContent]) { n.textContent = d.card[n.textContent]; }
    });
    var miss = node.querySelector("p.ccamap-missing");
    if (miss && miss.firstChild && miss.firstChild.nodeType === 3) {
      var text = miss.firstChild.nodeValue;
      Object.keys(d.card).forEach(function (k) { text = text.split(k).join(d.card[k]); });
      miss.firstChild.nodeValue = text;
    }
    var sy = node.querySelector(".ccamap-status-year");
    if (sy) { sy.textContent = sy.textContent.replace("status as of", d.card["status as of"]); }
    var st = node.querySelector(".ccamap-status");
    var status = node.getAttribute("data-status");
    if (st && st.firstChild && st.firstChild.nodeType === 3 && status) {
      st.firstChild.nodeValue = statusName(status) + " ";
    }
  }

  ccamap.openCard = function (entry, opener) {
    var side = document.getElementById("ccamap-side");
    var body = document.getElementById("ccamap-card");
    if (!side || !body) { return; }
    if (ccamap.selected && ccamap.selected !== entry) { unhighlight(ccamap.selected); }
    ccamap.selected = entry;
    ccamap.opener = opener || ccamap.opener || document.activeElement;
    body.textContent = "";
    var card = body.appendChild(buildCard(entry));
    if (card) {
      card.setAttribute("data-status", entry.feature.properties.status || "");
      translateCard(card);
      var h = card.querySelector("h4");
      if (h) { h.setAttribute("tabindex", "-1"); h.id = "ccamap-card-heading"; }
    }
    var wasHidden = side.hidden;
    side.hidden = false;
    document.body.classList.add("ccamap-side-open");
    if (wasHidden && ccamap.map) { ccamap.map.invalidateSize({ animate: false }); }
    highlight(entry);
    var heading = document.getElementById("ccamap-card-heading");
    if (heading) { heading.focus({ preventScroll: true }); }
    writeHash();
  };

  ccamap.closeCard = function () {
    var side = document.getElementById("ccamap-side");
    if (!side || side.hidden) { return; }
    side.hidden = true;
    side.classList.remove("ccamap-expanded");
    document.body.classList.remove("ccamap-side-open");
    if (ccamap.selected) { unhighlight(ccamap.selected); }
    ccamap.selected = null;
    if (ccamap.map) { ccamap.map.invalidateSize({ animate: false }); }
    var back = ccamap.opener;
    ccamap.opener = null;
    if (back && document.contains(back) && back.focus) { back.focus(); }
    else { var s = document.getElementById("ccamap-search"); if (s) { s.focus(); } }
    writeHash();
  };

  function highlight(entry) {
    if (entry.layer.setStyle) {
      var st = entry.feature.properties._style;
      entry.layer.setStyle({ weight: (st.weight || 2) + 3 });
    }
  }
  function unhighlight(entry) {
    if (entry.layer.setStyle) { entry.layer.setStyle(entry.feature.properties._style); }
  }

  function wireSide() {
    var side = document.getElementById("ccamap-side");
    if (!side) { return; }
    side.querySelector(".ccamap-close").addEventListener("click", ccamap.closeCard);
    var more = side.querySelector(".ccamap-expand");
    more.addEventListener("click", function () {
      var on = side.classList.toggle("ccamap-expanded");
      more.setAttribute("aria-expanded", on ? "true" : "false");
      more.textContent = on ? t("less") : t("more");
      if (ccamap.map) { ccamap.map.invalidateSize({ animate: false }); }
    });
    side.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ccamap.closeCard(); }
    });
  }

  /* ------------------------------------------------------------------ header: search, menu */

  function wireSearch() {
    var input = document.getElementById("ccamap-search");
    var list = document.getElementById("ccamap-results");
    if (!input || !list) { return; }
    var hits = [], active = -1;
    function setActive(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else { input.removeAttribute("aria-activedescendant"); }
    }
    function hide() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function choose(entry) {
      hide();  // hidden, not removed: nothing that handles this event loses its target
      ccamap.focus(entry, input);
    }
    function show() {
      hits = ccamap.search(input.value).slice(0, 10);
      list.textContent = "";
      active = -1;
      if (!input.value.trim()) { hide(); return; }
      if (!hits.length) {
        var none = el("li", "ccamap-noresult", t("noResults"));
        none.setAttribute("role", "option");
        none.setAttribute("aria-disabled", "true");
        none.id = "ccamap-result-none";
        list.appendChild(none);
      }
      hits.forEach(function (e, i) {
        var p = e.feature.properties;
        var li = el("li", "ccamap-result", displayName(p));
        li.id = "ccamap-result-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-layer", layerName(e.key));
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
        li.addEventListener("click", function () { choose(e); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    ccamap.showResults = show;
    input.addEventListener("input", show);
    input.addEventListener("focus", function () { if (input.value.trim()) { show(); } });
    input.addEventListener("blur", function () { setTimeout(hide, 150); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (list.hidden) { show(); }
        if (!hits.length) { return; }
        var step = ev.key === "ArrowDown" ? 1 : -1;
        setActive((active + step + hits.length) % hits.length);
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (list.hidden) { show(); }
        if (hits.length) { choose(hits[active >= 0 ? active : 0]); }
      } else if (ev.key === "Escape") {
        hide();
      }
    });
  }

  function wireHeader() {
    var menu = document.querySelector(".ccamap-menu-button");
    var nav = document.getElementById("ccamap-nav");
    if (menu && nav) {
      menu.addEventListener("click", function () {
        var open = document.body.classList.toggle("ccamap-nav-open");
        menu.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    document.querySelectorAll("[data-dialog]").forEach(function (b) {
      b.addEventListener("click", function () {
        var d = document.getElementById(b.getAttribute("data-dialog"));
        if (d && d.showModal) { d.showModal(); }
      });
    });
    document.querySelectorAll(".ccamap-dl").forEach(function (b) {
      b.addEventListener("click", function () { ccamap.download(b.getAttribute("data-format")); });
    });
    var lang = document.getElementById("ccamap-lang");
    if (lang) {
      lang.addEventListener("change", function () { ccamap.setLanguage(lang.value); });
    }
  }

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

  /* ------------------------------------------------------------------ controls */

  function panel(map) {
    var Panel = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = el("div", "ccamap-panel leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);

        var toggle = el("button", "ccamap-fold");
        toggle.type = "button";
        toggle.setAttribute("aria-expanded", "true");
        toggle.setAttribute("aria-controls", "ccamap-panel-body");
        var toggleText = el("span", null, t("filters"));
        toggleText.setAttribute("data-i18n-js", "filters");
        toggle.appendChild(toggleText);
        box.appendChild(toggle);
        var inner = el("div", "ccamap-panel-body");
        inner.id = "ccamap-panel-body";
        box.appendChild(inner);
        function fold(folded) {
          box.classList.toggle("ccamap-folded", folded);
          toggle.setAttribute("aria-expanded", folded ? "false" : "true");
        }
        toggle.addEventListener("click", function () { fold(!box.classList.contains("ccamap-folded")); });
        ccamap.foldPanel = fold;
        if (narrow()) { fold(true); }

        var statusBox = el("fieldset", "ccamap-statuses");
        var legendNode = el("legend", null, t("status"));
        legendNode.setAttribute("data-i18n-js", "status");
        statusBox.appendChild(legendNode);
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
          var name = el("span", "ccamap-status-name", s);
          name.setAttribute("data-status", s);
          label.appendChild(document.createTextNode(" "));
          label.appendChild(name);
          statusBox.appendChild(label);
        });
        inner.appendChild(statusBox);

        var country = el("select", "ccamap-country");
        country.setAttribute("aria-label", "Country");
        var all = el("option", null, t("allCountries"));
        all.value = "";
        country.appendChild(all);
        Object.keys(ccamap.config.countries).forEach(function (code) {
          var o = el("option", null, ccamap.config.countries[code] + " (" + code + ")");
          o.value = code;
          country.appendChild(o);
        });
        country.addEventListener("change", function () { ccamap.setFilter("country", country.value); });
        inner.appendChild(country);

        var years = ccamap.config.years, slider = null, value = null;
        if (years[0] !== null) {
          var yearBox = el("div", "ccamap-year");
          var label = el("span", "ccamap-year-label");
          var word = el("span", null, t("year"));
          word.setAttribute("data-i18n-js", "year");
          value = el("span", "ccamap-year-value", years[1]);
          label.appendChild(word);
          label.appendChild(document.createTextNode(": "));
          label.appendChild(value);
          slider = el("input", "ccamap-year-slider");
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
          var play = el("button", "ccamap-play", t("play"));
          play.type = "button";
          var timer = null;
          function stop() {
            clearInterval(timer); timer = null;
            play.textContent = t("play");
            play.setAttribute("aria-pressed", "false");
          }
          play.setAttribute("aria-pressed", "false");
          play.addEventListener("click", function () {
            if (timer) { stop(); return; }
            var y = Number(slider.value) >= years[1] ? years[0] : Number(slider.value);
            play.textContent = t("pause");
            play.setAttribute("aria-pressed", "true");
            function step() {
              slider.value = y;
              slider.dispatchEvent(new Event("input"));
              if (y >= years[1]) { stop(); }
              y += 1;
            }
            step();
            timer = setInterval(step, ccamap.playInterval || 600);
          });
          ccamap.stopPlay = stop;
          label.appendChild(document.createTextNode(" "));
          yearBox.appendChild(label);
          yearBox.appendChild(play);
          yearBox.appendChild(slider);
          var hint = el("div", "ccamap-hint", t("yearHint"));
          hint.setAttribute("data-i18n-js", "yearHint");
          yearBox.appendChild(hint);
          inner.appendChild(yearBox);
        }
        var haloLabel = el("label", "ccamap-halo-toggle");
        var haloBox = el("input");
        haloBox.type = "checkbox";
        haloBox.checked = ccamap.halo.on;
        haloBox.addEventListener("change", function () { ccamap.setHalo(haloBox.checked); });
        haloLabel.appendChild(haloBox);
        haloLabel.appendChild(document.createTextNode(" "));
        var haloText = el("span", null, t("halo"));
        haloText.setAttribute("data-i18n-js", "halo");
        haloLabel.appendChild(haloText);
        inner.appendChild(haloLabel);
        var haloHint = el("div", "ccamap-hint", t("haloHint"));
        haloHint.setAttribute("data-i18n-js", "haloHint");
        inner.appendChild(haloHint);
        ccamap.countNode = el("div", "ccamap-count");
        ccamap.countNode.setAttribute("aria-live", "polite");
        inner.appendChild(ccamap.countNode);
        inner.appendChild(featureList());
        var stats = el("div", "ccamap-stats ccamap-stats-panel");
        inner.appendChild(stats);

        ccamap.syncControls = function () {
          checks.forEach(function (c) { c.checked = !state.statuses || state.statuses.indexOf(c.value) >= 0; });
          country.value = state.country || "";
          if (slider) {
            slider.value = state.year === null ? years[1] : state.year;
            value.textContent = slider.value;
          }
        };
        ccamap.translatePanel = function () {
          box.querySelectorAll("[data-i18n-js]").forEach(function (n) { n.textContent = t(n.getAttribute("data-i18n-js")); });
          box.querySelectorAll(".ccamap-status-name").forEach(function (n) { n.textContent = statusName(n.getAttribute("data-status")); });
          all.textContent = t("allCountries");
          Array.prototype.forEach.call(country.options, function (o) {
            if (o.value) { o.textContent = countryName(o.value) + " (" + o.value + ")"; }
          });
          if (!timer) { play.textContent = t("play"); }
        };
        return box;
      }
    });
    return new Panel();
  }

  function featureList() {
    // One tab stop for every feature: a listbox moved through with the arrow keys.
    var wrap = el("details", "ccamap-features");
    var summary = el("summary", null, t("features"));
    summary.setAttribute("data-i18n-js", "features");
    wrap.appendChild(summary);
    var list = el("ul", "ccamap-feature-list");
    list.id = "ccamap-feature-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("tabindex", "0");
    list.setAttribute("aria-label", "Features on the map");
    wrap.appendChild(list);
    var items = [], active = 0;
    function setActive(i) {
      if (!items.length) { return; }
      active = Math.max(0, Math.min(items.length - 1, i));
      items.forEach(function (it, j) { it.li.setAttribute("aria-selected", j === active ? "true" : "false"); });
      list.setAttribute("aria-activedescendant", items[active].li.id);
      items[active].li.scrollIntoView({ block: "nearest" });
    }
    var collator = window.Intl ? new Intl.Collator() : null, sorted = null, sortedLang = null;
    var stale = true;
    // The list follows the filters, but is built only while it is open (or focused): with
    // thousands of features, an item each would cost more than the map on every filter change.
    ccamap.refreshList = function () {
      stale = true;
      if (wrap.open || document.activeElement === list) { build(); }
    };
    wrap.addEventListener("toggle", function () { if (wrap.open && stale) { build(); } });
    function build() {
      stale = false;
      list.textContent = "";
      if (!sorted || sorted.length !== ccamap.entries.length || sortedLang !== ccamap.lang) {
        // Sorted once per language (names follow it), then filtered: a filter costs no sort.
        var names = ccamap.entries.map(function (e) { return displayName(e.feature.properties); });
        var order = names.map(function (n, i) { return i; });
        order.sort(function (a, b) {
          return collator ? collator.compare(names[a], names[b]) : names[a].localeCompare(names[b]);
        });
        sorted = order.map(function (i) { return ccamap.entries[i]; });
        sortedLang = ccamap.lang;
      }
      var frag = document.createDocumentFragment();
      items = sorted.filter(function (e) { return e.visible && layerShown(e); }).map(function (e, i) {
        var li = el("li", "ccamap-feature-item", displayName(e.feature.properties));
        li.id = "ccamap-feature-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-layer", layerName(e.key));
        li.addEventListener("click", function () { setActive(i); ccamap.focus(e, list); });
        frag.appendChild(li);
        return { li: li, entry: e };
      });
      list.appendChild(frag);
      if (active >= items.length) { active = 0; }
      if (items.length) { list.setAttribute("aria-activedescendant", items[active].li.id); }
    }
    list.addEventListener("keydown", function (ev) {
      var k = ev.key;
      if (k === "ArrowDown") { setActive(active + 1); }
      else if (k === "ArrowUp") { setActive(active - 1); }
      else if (k === "Home") { setActive(0); }
      else if (k === "End") { setActive(items.length - 1); }
      else if (k === "Enter" || k === " ") { if (items[active]) { ccamap.focus(items[active].entry, list); } }
      else { return; }
      ev.preventDefault();
    });
    list.addEventListener("focus", function () {
      if (stale) { build(); }
      setActive(active);
    });
    return wrap;
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
    svg.setAttribute("aria-hidden", "true");
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
      var node = document.documentElement;
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (node.requestFullscreen) { node.requestFullscreen(); }
      setTimeout(function () { map.invalidateSize(); }, 200);
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
        box.setAttribute("aria-hidden", "true");
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

  /* Stacked points: features on the same spot are spread on a small circle, so each one
   * stays visible and clickable; the data (and the downloads) keep the true position. */
  function spreadStacks(map) {
    var stacks = {};
    ccamap.entries.forEach(function (e) {
      if (!e.layer.getLatLng) { return; }
      e.origin = e.layer.getLatLng();
      var k = e.origin.lat.toFixed(3) + "," + e.origin.lng.toFixed(3);
      (stacks[k] = stacks[k] || []).push(e);
    });
    var groups = Object.keys(stacks).map(function (k) { return stacks[k]; })
      .filter(function (g) { return g.length > 1; });
    ccamap.stacks = groups.length;
    function place() {
      groups.forEach(function (g) {
        var r = 4 + Math.max.apply(null, g.map(function (e) { return e.layer.getRadius(); }));
        g.forEach(function (e, i) {
          var a = 2 * Math.PI * i / g.length - Math.PI / 2;
          var p = map.latLngToLayerPoint(e.origin).add([r * Math.cos(a), r * Math.sin(a)]);
          e.layer.setLatLng(map.layerPointToLatLng(p));
        });
      });
    }
    if (groups.length) { map.on("zoomend viewreset", place); place(); }
  }

  ccamap.setLanguage = function (lang) {
    if (lang !== "zh" && lang !== "ru") { lang = "en"; }
    ccamap.lang = lang;
    document.documentElement.lang = lang === "zh" ? "zh-Hans" : lang;
    if (!ccamap._english) {
      ccamap._english = {};
      document.querySelectorAll("[data-i18n]").forEach(function (n, i) {
        n.setAttribute("data-i18n-index", i);
        ccamap._english[i] = n.textContent;
      });
    }
    document.querySelectorAll("[data-i18n]").forEach(function (n) {
      var d = I18N[lang], key = n.getAttribute("data-i18n");
      n.textContent = (d && d[key]) || ccamap._english[n.getAttribute("data-i18n-index")];
    });
    ["en", "zh", "ru"].forEach(function (k) {
      document.querySelectorAll(".ccamap-about-" + k).forEach(function (p) { p.hidden = k !== lang; });
    });
    var search = document.getElementById("ccamap-search");
    if (search) { search.placeholder = t("search"); }
    var select = document.getElementById("ccamap-lang");
    if (select && select.value !== lang) { select.value = lang; }
    document.querySelectorAll(".ccamap-legend [data-layer]").forEach(function (n) {
      n.textContent = layerName(n.getAttribute("data-layer"));
    });
    document.querySelectorAll(".ccamap-legend [data-status]").forEach(function (n) {
      n.textContent = statusName(n.getAttribute("data-status"));
    });
    if (ccamap.translatePanel) { ccamap.translatePanel(); }
    if (ccamap.labels && ccamap.labels._map) { ccamap.labels.redraw(); }
    if (ccamap.selected) { ccamap.openCard(ccamap.selected, ccamap.opener); }
    var more = document.querySelector(".ccamap-expand");
    if (more) { more.textContent = more.getAttribute("aria-expanded") === "true" ? t("less") : t("more"); }
    refreshViews();
  };

  ccamap.addControls = function (map) {
    if (ccamap.pending) {
      // a link's view is drawn first, not the whole map and then the view once all is read
      var view = hashView(parseHash(window.location.hash));
      if (view && !whenLoaded.length) { map.setView(view[0], view[1], { animate: false }); }
      whenLoaded.push(function () { ccamap.addControls(map); });
      return;
    }
    // packed layers arrive in any order: keep the page's order of layers, then rows
    ccamap.entries.sort(function (a, b) { return a.seq - b.seq || a.row - b.row; });
    fullscreen(map).addTo(map);
    measure(map).addTo(map);
    panel(map).addTo(map);
    minimap(map).addTo(map);
    map.on("zoomend overlayadd overlayremove", function () {
      if (ccamap.halo.on) { ccamap.drawHalos(); }
    });
    wireSearch();
    wireHeader();
    wireSide();
    spreadStacks(map);
    if (narrow()) {
      var legend = document.querySelector(".ccamap-legend");
      if (legend) { legend.removeAttribute("open"); }
    }
    map.invalidateSize({ animate: false });
    // The count, list and statistics follow the filters and the layers shown, not the view:
    // a move only rewrites the link.
    map.on("moveend", writeHash);
    map.on("overlayadd overlayremove", refreshViews);
    ccamap.applyFilters();
    window.addEventListener("hashchange", applyHash);
    applyHash();
    ccamap.whenDrawn(function () {
      if (ccamap.drawnAt === undefined) { ccamap.drawnAt = performance.now(); }
      ccamap.ready = true;
      document.documentElement.setAttribute("data-ccamap-ready", "1");
      writeHash();
    });
  };

  // Call done once every line of the large layers is on the canvas (a helper may still be
  // drawing part of it).
  ccamap.whenDrawn = function (done) {
    if (ccamap.lineCanvas) { ccamap.lineCanvas.whenDrawn(done); } else { done(); }
  };
})();
