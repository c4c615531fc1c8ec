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

