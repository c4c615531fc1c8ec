/* ccamap map runtime: draws the layers, binds tooltips and cards, filters, search, controls.
 *
 * It is one closure in parts (assets/runtime/), joined in the order ccamap.render.elements
 * RUNTIME lists: this part opens it, controls.js closes it.
 *
 * Safety: no part inserts an HTML string. Every text (cards, names, countries, statuses,
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

