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

  // Call done once every line and point of the large layers is on its canvas (a helper may
  // still be drawing part of the lines).
  ccamap.whenDrawn = function (done) {
    if (ccamap.lineCanvas) { ccamap.lineCanvas.whenDrawn(done); } else { done(); }
  };
})();
