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

