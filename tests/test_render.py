from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pytest
import shapely

from ccamap.layers import LAYERS
from ccamap.pipeline import build, load, load_outlines, render_maps
from ccamap.render import (
    card_html,
    escape,
    feature_style,
    layer_geojson,
    lod_bands,
    lod_error_px,
    pagedata,
    point_radius,
)
from ccamap.render.geometry import (
    decode,
    decode_levels,
    encode_line_bands,
    encode_lines,
    encode_points,
    to_mercator,
    vertex_levels,
)

from _browser import Page
from conftest import LINE, SOURCES, feature, record, write_csv, write_layer

EVIL = "<script>alert(1)</script>`${alert(2)}`\\<img src=x onerror=alert(3)>"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<b>", "&lt;b&gt;"),
        ('"q"', "&quot;q&quot;"),
        ("`x`", "&#96;x&#96;"),
        ("${a}", "&#36;{a}"),
        ("a\\b", "a&#92;b"),
        (None, ""),
    ],
)
def test_escape(raw, escaped):
    assert escape(raw) == escaped


def test_card_shows_every_attribute_and_numbered_sources(geodata):
    data = load(geodata)
    rec = data.layers["railways"].drop(columns="geometry").iloc[0].to_dict()
    html = card_html(rec, LAYERS["railways"], data.sources)
    assert "<h4>Name of rail-one</h4>" in html
    for f in LAYERS["railways"].fields:
        assert f.title in html
    assert "Drawn length (geodesic)" in html
    assert "not reported" in html
    assert "<li>Championing the China-Central Asia Spirit — Xinhua Institute, 2025</li>" in html
    assert '<a href="https://www.geonames.org/"' in html
    assert '<sup class="ccamap-ref">[1]</sup>' in html


def test_untrusted_text_is_escaped_everywhere(geodata):
    row = record("railways", "rail-one", name=EVIL, description=EVIL, name_zh=EVIL,
                 tunnels=EVIL, field_sources="status=seed-001; status_year=seed-001; "
                                            "tunnels=seed-001")
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=[EVIL] * 3)], [row])
    pages = render_maps(load(geodata))
    for html in pages.values():
        # raw values only ever appear inside JSON strings, with < > & encoded by tojson
        assert "<script>alert(1)" not in html
        assert "onerror=alert(3)>" not in html
    # no HTML is pre-rendered: the page carries the raw text once, JSON-encoded with < > &
    # as \\u escapes, and the browser builds the card and tooltip from it with text nodes
    page = pages["railways.html"]
    assert "\\u003ch4\\u003e" not in page
    assert '"_card":' not in page and '"_tooltip":' not in page
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e`${alert(2)}`\\\\\\u003cimg" in page


def test_status_style_and_capacity_size():
    rail = LAYERS["railways"]
    assert "dashArray" not in feature_style({"status": "operating"}, rail)
    assert feature_style({"status": "construction"}, rail)["dashArray"] == "8 6"
    assert feature_style({"status": "cancelled"}, rail)["color"] == "#8c8c8c"
    pp = LAYERS["power_plants"]
    small = point_radius({"capacity": 100.0, "capacity_unit": "MW"}, pp)
    big = point_radius({"capacity": 400.0, "capacity_unit": "MW"}, pp)
    assert big == pytest.approx(2 * small)  # area proportional to MW
    assert point_radius({"capacity": 10.0, "capacity_unit": "bcm/y"}, pp) == 6.0
    gas = feature_style({"status": "operating", "technology": "gas"}, pp)
    assert gas["color"] == pp.category_colors["gas"]


def test_maps_have_layer_control_legend_and_are_deterministic(geodata):
    first = render_maps(load(geodata))
    second = render_maps(load(geodata))
    assert first == second
    assert set(first) == {"index.html", "table.html", *(f"{n}.html" for n in LAYERS)}
    index = first["index.html"]
    assert "L.control.layers" in index
    assert 'class="ccamap-legend"' in index
    assert index.count("ccamap.addLayer(") == len(LAYERS)
    assert not re.search(r"_[0-9a-f]{32}\b", index), "random folium ids leaked"


def test_the_view_is_set_before_the_basemap_is_drawn():
    # fitting the view after the outlines were added would project them twice (Leaflet resets
    # every layer on a new view); the bundled data, with its basemap
    pages = render_maps(load(), outlines=load_outlines())
    for name, html in pages.items():
        if name == "table.html":
            continue
        fit = re.search(r"map_\w+\.fitBounds\(", html)
        outlines = re.search(r"= ccamap\.addOutlines\(map_\w+", html)
        assert fit and outlines and fit.start() < outlines.start(), name


def test_lines_show_their_route_accuracy_and_carry_the_halo_width(geodata):
    data = load(geodata)
    rec = data.layers["railways"].drop(columns="geometry").iloc[0].to_dict()
    html = card_html(rec, LAYERS["railways"], data.sources)
    assert "<th>Route accuracy</th><td>drawing within ~10 km of the real route" in html
    assert feature_style(rec, LAYERS["railways"])["haloKm"] == 10.0
    assert "haloKm" not in feature_style({**rec, "route_error_km": None}, LAYERS["railways"])


def test_locality_points_have_a_dashed_ring(geodata):
    row = record("sites", "site-one", geometry_precision="locality")
    write_layer(geodata, "sites", [feature("site-one", {"type": "Point",
                                                        "coordinates": [80.3, 44.2]})], [row])
    data = load(geodata)
    assert data.report.errors == []
    rec = data.layers["sites"].drop(columns="geometry").iloc[0].to_dict()
    style = feature_style(rec, LAYERS["sites"])
    solid = feature_style({**rec, "geometry_precision": "approximate"}, LAYERS["sites"])
    assert style["locality"] and style["dashArray"] == "2 2"
    assert "locality" not in solid and "dashArray" not in solid
    assert style["color"] == solid["color"] and style["fillColor"] == solid["fillColor"]
    assert style["weight"] > solid["weight"]
    html = card_html(rec, LAYERS["sites"], data.sources)
    assert "locality <span" in html and "placed at the nearest named place" in html


# ------------------------------------------------------------------------------ compact pages

RANDOM_WALKS = [
    shapely.LineString(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, (n, 2)), axis=0)
                       + np.array([76.0, 44.0]))
    for seed, n in ((1, 2), (2, 50), (3, 400))
]
ODD_LINES = [
    shapely.MultiLineString([[(80.0, 44.0), (80.5, 44.25)], [(81.0, 44.5), (81.00001, 44.5)]]),
    shapely.LineString([(0.0, 0.0), (-179.99999, -84.99999), (179.99999, 84.99999)]),
    shapely.LineString([(76.0, 44.0), (76.001, 44.0), (76.001, 44.001), (76.0, 44.0)]),  # a loop
]


def _coords(geom) -> list[list[tuple[float, float]]]:
    parts = getattr(geom, "geoms", [geom])
    return [[(x, y) for x, y in part.coords] for part in parts]


@pytest.mark.parametrize("geom", RANDOM_WALKS + ODD_LINES)
def test_python_decode_round_trips_lines(geom):
    (text,) = encode_lines([geom])
    for got, want in zip(decode(text), _coords(geom), strict=True):
        assert np.allclose(got, want, atol=0.5e-5, rtol=0)


def test_points_round_trip_and_cost_little():
    points = [shapely.Point(76.12345, 44.5), shapely.Point(-0.00001, 0.0), shapely.Point(80, 45)]
    assert decode(encode_points(points)) == [[(76.12345, 44.5), (-1e-05, 0.0), (80.0, 45.0)]]
    walk = RANDOM_WALKS[2]
    (text,) = encode_lines([walk])
    assert len(text) / len(walk.coords) <= 6.5  # about 24 bytes a vertex as GeoJSON text


def test_chromium_decodes_what_python_encodes(browser, geodata, tmp_path):
    build(geodata, tmp_path / "maps")
    page = Page(browser, (tmp_path / "maps" / "railways.html").as_uri())
    try:
        geoms = RANDOM_WALKS + ODD_LINES
        texts = encode_lines(geoms)
        decoded = page.js("(ts) => ts.map(t => ccamap.decode(t, 1e5))", texts)
        for geom, got in zip(geoms, decoded, strict=True):
            want = _coords(geom)
            xy = np.array(got["xy"]).reshape(-1, 2)
            assert got["parts"] == list(np.cumsum([0, *(len(p) for p in want[:-1])]))
            assert np.allclose(xy, np.concatenate(want), atol=1e-5, rtol=0)
        bands = encode_line_bands(RANDOM_WALKS)
        stored = [(f[0], len(g.coords)) for f, g in zip(bands, RANDOM_WALKS, strict=True)
                  if isinstance(f, list)]
        assert stored
        got = page.js("(ts) => ts.map(([t, n]) => Array.from(ccamap.decodeLevels(t, n)))", stored)
        assert got == [decode_levels(t, n) for t, n in stored]
    finally:
        page.close()


def test_level_of_detail_stays_within_each_bands_tolerance():
    bands = lod_bands()
    assert [(b.min_zoom, b.max_zoom) for b in bands] == [
        (0, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 9), (10, 10), (11, 18)]
    assert all(b.max_error_px < 1 for b in bands[:-1]) and bands[-1].tolerance_m == 0
    geoms = RANDOM_WALKS + ODD_LINES
    errors = lod_error_px(geoms)
    for band, error in zip(bands, errors, strict=True):
        assert error <= band.tolerance_m / (2 * math.pi * 6378137 / 256 / 2**band.max_zoom) \
            + 1e-9
    simplified = 0
    for geom, encoded in zip(geoms, encode_line_bands(geoms), strict=True):
        parts = [len(p.coords) for p in getattr(geom, "geoms", [geom])]
        if isinstance(encoded, str):
            continue
        levels = decode_levels(encoded[0], sum(parts))
        assert set(levels) <= set(range(len(bands)))
        ends = np.cumsum(parts)
        for start, end in zip(ends - parts, ends, strict=True):
            # every band keeps both ends of every part: no feature or part disappears
            assert levels[start] == 0 and levels[end - 1] == 0
        kept = [sum(lv <= b for lv in levels) for b in range(len(bands))]
        assert kept == sorted(kept) and kept[-1] == sum(parts)  # nested; all at full detail
        simplified += kept[0] < sum(parts)
    # every random walk of more than two vertices is simplified at low zooms
    assert simplified == sum(len(w.coords) > 2 for w in RANDOM_WALKS) > 0


def test_vertex_levels_are_the_simplification_of_each_band():
    walk = RANDOM_WALKS[0]
    levels = np.array(vertex_levels([walk]))
    merc = to_mercator([walk])[0]
    for b, band in enumerate(lod_bands()[:-1]):
        want = shapely.get_coordinates(shapely.simplify(merc, band.tolerance_m,
                                                        preserve_topology=False))
        assert np.allclose(shapely.get_coordinates(merc)[levels <= b], want)


def test_unnamed_waypoints_show_no_row(geodata):
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=["", "", ""])],
                [record("railways", "rail-one")])
    data = load(geodata)
    rec = data.layers["railways"].drop(columns="geometry").iloc[0].to_dict()
    assert "Waypoints" not in card_html(rec, LAYERS["railways"], data.sources)
    page = layer_geojson(data.layers["railways"], LAYERS["railways"], data.sources)
    assert page["rows"][0][page["columns"].index("waypoints")] == 3  # their number only


def _open_card_text(page: Page, fid: str) -> str:
    page.js("(id) => ccamap.focusId(id)", fid)
    return page.js("() => document.querySelector('#ccamap-side .ccamap-card').textContent")


def test_cards_built_in_the_page_say_what_card_html_says(index, bundled_data):
    """Every feature's card, built in Chromium from the table, has card_html's text."""
    expected = {}
    for name, gdf in bundled_data.layers.items():
        for rec in gdf.drop(columns="geometry").to_dict("records"):
            rec = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                   for k, v in rec.items()}
            expected[rec["id"]] = card_html(rec, LAYERS[name], bundled_data.sources)
    shown = index.js("""(cards) => Object.fromEntries(Object.keys(cards).map(id => {
        const t = document.createElement('template');
        t.innerHTML = cards[id];  // the test's own trusted HTML, for its text only
        const e = ccamap.entries.find(x => x.feature.properties.id === id);
        return [id, [t.content.textContent, ccamap.buildCard(e).textContent]];
    }))""", expected)
    assert len(shown) == len(expected) > 60
    for fid, (want, got) in shown.items():
        assert got == want, fid


def test_hostile_text_stays_text_in_cards_built_from_the_table(browser, geodata, tmp_path):
    row = record("railways", "rail-one", name=EVIL, description=EVIL, notes=EVIL, tunnels=EVIL,
                 field_sources="status=seed-001; status_year=seed-001; tunnels=seed-001")
    row["extra <b>column</b>"] = EVIL
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=[EVIL] * 3)], [row])
    write_csv(geodata / "sources.csv", [dict(s, title=EVIL) for s in SOURCES], list(SOURCES[0]))
    build(geodata, tmp_path / "maps")
    page = Page(browser, (tmp_path / "maps" / "railways.html").as_uri())
    try:
        text = _open_card_text(page, "rail-one")
        assert text.count(EVIL) >= 6  # name, description, notes, tunnels, extra, sources
        assert "extra <b>column</b>" in text
        card = page.page.locator("#ccamap-side .ccamap-card")
        assert card.locator("script, img, b:not(.ccamap-sources > b)").count() == 0
        hrefs = card.locator("a").evaluate_all("as => as.map(a => a.href)")
        assert all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
        assert page.js("() => window.__pwned") is None
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()


def test_large_layers_draw_on_a_canvas_and_open_cards_on_click(browser, geodata, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr(pagedata, "CANVAS_MIN_FEATURES", 1)
    build(geodata, tmp_path / "maps")
    page = Page(browser, (tmp_path / "maps" / "railways.html").as_uri())
    try:
        assert page.js("() => document.querySelectorAll('.leaflet-overlay-pane canvas').length") \
            == 1
        assert page.paths() == 0
        point = page.js("""() => {
            const e = ccamap.entries[0], ll = e.layer.getLatLngs();
            const mid = L.latLng((ll[0].lat + ll[1].lat) / 2, (ll[0].lng + ll[1].lng) / 2);
            ccamap.map.setView(mid, 8, {animate: false});
            const p = ccamap.map.latLngToContainerPoint(mid);
            const r = ccamap.map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""")
        page.page.mouse.move(point[0], point[1])
        page.page.wait_for_selector(".leaflet-tooltip", timeout=5000)
        assert page.page.locator(".leaflet-tooltip").inner_text() == "Name of rail-one"
        page.page.mouse.click(point[0], point[1])
        page.page.wait_for_selector("#ccamap-side .ccamap-card", timeout=5000)
        assert page.page.locator("#ccamap-side .ccamap-card").get_attribute("data-id") \
            == "rail-one"
        doc = json.loads(page.js("() => ccamap.exportText('geojson')"))
        assert doc["features"][0]["geometry"] == LINE
        # one shared canvas draws the layer; a filter redraws it at the next frame
        drawn = """() => new Promise((done) => requestAnimationFrame(() => {
            const c = ccamap.map.getPanes().overlayPane.querySelector('canvas');
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let inked = 0;
            for (let i = 3; i < px.length; i += 4) { if (px[i]) { inked += 1; } }
            done([ccamap.lineCanvas.drawn, inked]);
        }))"""
        features, inked = page.js(drawn)
        assert features == 1 and inked > 50
        page.js("() => ccamap.setFilter('statuses', [])")
        assert page.js(drawn) == [0, 0]
        page.js("() => ccamap.setFilter('statuses', null)")
        assert page.js(drawn) == [features, inked]
        page.js("() => ccamap.map.removeLayer(ccamap.groups.railways)")
        assert page.js(drawn) == [0, 0]
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()


_POINT_PIXELS = """(offset) => new Promise((done) => requestAnimationFrame(
  () => ccamap.whenDrawn(() => {
    // per power plant: its id and the points canvas's RGBA at its centre (+ offset px east)
    const lc = ccamap.lineCanvas, c = lc._points, m = window.devicePixelRatio || 1;
    const ctx = c.getContext('2d'), b = lc._bounds;
    done(ccamap.entries.filter((e) => e.key === 'power_plants').map((e) => {
        const p = ccamap.map.latLngToLayerPoint(e.layer.getLatLng());
        const x = Math.floor((p.x - b.min.x + offset) * m), y = Math.floor((p.y - b.min.y) * m);
        return [e.feature.properties.id, Array.from(ctx.getImageData(x, y, 1, 1).data)];
    }));
})))"""


def test_large_point_layers_draw_over_the_lines_and_are_hit_first(browser, geodata, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr(pagedata, "CANVAS_MIN_FEATURES", 1)
    # the first on the railway; neither where the other point layers' features are
    spots = {"powe-on": [79.5, 43.75], "powe-off": [80.0, 43.5]}
    write_layer(geodata, "power_plants",
                [feature(i, {"type": "Point", "coordinates": c}) for i, c in spots.items()],
                [record("power_plants", "powe-on"),
                 record("power_plants", "powe-off", status="construction")])
    build(geodata, tmp_path / "maps")
    page = Page(browser, (tmp_path / "maps" / "index.html").as_uri())
    try:
        assert page.js("() => ccamap.drawnAt > 0")
        # no marker and no path: the lines' canvas, and the points' over it
        assert page.js("""() => [...ccamap.map.getPanes().overlayPane.querySelectorAll('canvas')]
            .map((c) => c.classList[0])""") == ["ccamap-lines", "ccamap-points"]
        assert page.paths() == 0
        assert page.js("() => ccamap.map.getPanes().markerPane.children.length") == 0
        page.js("() => { ccamap.map.stop(); "
                "ccamap.map.setView([43.6, 79.8], 8, {animate: false}); }")
        fills = {i: page.js(f"() => ccamap.entries.find((e) => e.feature.properties.id === '{i}')"
                            ".feature.properties._style.fillColor") for i in spots}
        assert fills["powe-off"] == "#ffffff"  # hollow while being built
        pixels = dict(page.js(_POINT_PIXELS, 0))
        for fid, rgba in pixels.items():  # each point's fill at its centre (opacity 0.9)
            hexa = fills[fid].lstrip("#")
            assert [abs(a - b) <= 2 for a, b in zip(
                rgba, [int(hexa[k:k + 2], 16) for k in (0, 2, 4)] + [230], strict=True)] \
                == [True] * 4, (fid, rgba, fills[fid])
        # the point on the railway is what the mouse finds there, and what a click opens
        x, y = page.js("""() => {
            const e = ccamap.entries.find((e) => e.feature.properties.id === 'powe-on');
            const p = ccamap.map.latLngToContainerPoint(e.latlng);
            const r = ccamap.map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }""")
        page.page.mouse.move(x, y)
        page.page.wait_for_function(
            "() => document.querySelector('.leaflet-tooltip')?.textContent === 'Name of powe-on'",
            timeout=5000)
        page.page.mouse.click(x, y)
        assert page.page.locator("#ccamap-side .ccamap-card").get_attribute("data-id") \
            == "powe-on"
        page.js("() => ccamap.closeCard()")
        # a point's style changed: the points are drawn again, the lines are not
        # 8.5 px east: beyond the ring (radius 6 + half the stroke of 1.5), then in it (of 9)
        assert dict(page.js(_POINT_PIXELS, 8.5))["powe-on"][3] == 0
        jobs = page.js("() => ccamap.lineCanvas._job")
        page.js("""() => ccamap.entries.find((e) => e.feature.properties.id === 'powe-on')
            .layer.setStyle({weight: 9})""")
        assert dict(page.js(_POINT_PIXELS, 8.5))["powe-on"][3] > 200
        assert page.js("() => ccamap.lineCanvas._job") == jobs
        # filtered and hidden like any layer
        page.js("() => ccamap.setFilter('statuses', ['construction'])")
        after = dict(page.js(_POINT_PIXELS, 0))
        assert after["powe-on"][3] == 0 and after["powe-off"] == pixels["powe-off"]
        assert page.js("() => ccamap.lineCanvas.drawnPoints") == 1
        page.js("() => ccamap.setFilter('statuses', null)")
        page.js("() => ccamap.map.removeLayer(ccamap.groups.power_plants)")
        assert [rgba[3] for rgba in dict(page.js(_POINT_PIXELS, 0)).values()] == [0, 0]
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()


#: The width in canvas pixels of what is drawn across the column of (lat, lon): the pixels
#: within 10 px of it, above or below, more than a quarter opaque.
_DRAWN_WIDTH = """([lat, lon]) => {
    const c = ccamap.lineCanvas, m = window.devicePixelRatio || 1;
    const p = ccamap.map.latLngToLayerPoint([lat, lon]);
    const x = Math.round(m * (p.x - c._bounds.min.x)), y = Math.round(m * (p.y - c._bounds.min.y));
    const d = c._container.getContext('2d').getImageData(x, y - 10, 1, 21).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 64) { n += 1; } }
    return n / m;
}"""

#: Change the view (a JS statement on map), then wait for the canvas to be drawn.
_VIEW = """(change) => new Promise((done) => {
    const map = ccamap.map;
    map.once('moveend', () => requestAnimationFrame(() => ccamap.whenDrawn(done)));
    new Function('map', change)(map);
})"""


def test_dense_views_draw_thin_lines_decided_per_zoom_not_per_move(browser, geodata, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(pagedata, "CANVAS_MIN_FEATURES", 1)
    long = [[round(75.0 + 5.0 * k / 1999, 5), 43.56] for k in range(2000)]  # 15 px north at 8
    geoms = {"rail-flat": {"type": "LineString", "coordinates": [[78.0, 43.5], [80.0, 43.5]]},
             "rail-other": LINE, "rail-long": {"type": "LineString", "coordinates": long}}
    write_layer(geodata, "railways", [feature(i, g) for i, g in geoms.items()],
                [record("railways", "rail-flat"),
                 record("railways", "rail-other", status="construction"),
                 record("railways", "rail-long")])
    build(geodata, tmp_path / "maps")
    page = Page(browser, (tmp_path / "maps" / "railways.html").as_uri())
    canvas = "ccamap.lineCanvas"
    try:
        page.js(_VIEW, "map.setView([43.5, 79.0], 8, {animate: false});")
        # a few lines in view: at their width (4 px)
        assert page.js(f"() => {canvas}.thin") is False
        assert page.js(_DRAWN_WIDTH, [43.5, 79.0]) in (4, 5)  # 5: a row each side in part
        # more ink in view than the threshold: decided again at the next zoom, thin
        page.js(f"() => {{ {canvas}.options.thin = 0; }}")
        page.js(_VIEW, "map.panBy([40, 0], {animate: false});")
        assert page.js(f"() => {canvas}.thin") is False  # not as the map moves
        page.js(_VIEW, "map.setZoom(9, {animate: false});")
        assert page.js(f"() => {canvas}.thin") is True
        assert page.js(_DRAWN_WIDTH, [43.5, 79.0]) <= 2  # 1 px, its neighbour antialiased
        # thin lines are drawn on the page alone: the helper is for wide ones
        helped = """(thin) => { const c = ccamap.lineCanvas; c.options.split = 1;
            c.options.thin = thin; c._thin = null; c.draw(); const pending = c._pending !== null;
            c.options.split = 150000; return pending; }"""
        assert page.js(helped, 0) is False
        assert page.js(helped, 1e9) is True
        page.js(f"() => {{ {canvas}.options.thin = 0; {canvas}._thin = null; }}")
        page.page.wait_for_function(f"() => !{canvas}._pending")
        page.js(_VIEW, "map.panBy([1, 0], {animate: false});")
        # a highlighted line keeps its width over the thin ones
        page.js("""() => ccamap.entries.find((e) => e.feature.properties.id === 'rail-flat')
            .layer.setStyle({color: '#ff0000'})""")
        page.js(_VIEW, "map.panBy([-40, 0], {animate: false});")
        assert page.js(f"() => {canvas}.thin") is True
        assert page.js(_DRAWN_WIDTH, [43.5, 79.0]) in (4, 5)
        page.js("""() => { const e = ccamap.entries.find(
            (e) => e.feature.properties.id === 'rail-flat');
            e.layer.setStyle(e.feature.properties._style); }""")
        # a filter (hiding rail-other) decides again: with the threshold back up, wide
        page.js(f"() => {{ {canvas}.options.thin = 4; }}")
        page.js("() => ccamap.setFilter('statuses', ['operating'])")
        page.page.wait_for_function(f"() => !{canvas}.thin && !{canvas}._pending")
        assert page.js(_DRAWN_WIDTH, [43.5, 79.0]) in (4, 5)
        # the ink: a line counts by the length of it in view. At zoom 12 rail-flat and the
        # longer rail-long both cross the whole canvas (W px), 4 px wide: 2 x 4 W / (W x H)
        page.js(_VIEW, "map.setView([43.5, 79.0], 12, {animate: false});")
        assert page.js(f"() => {canvas}.drawn") == 2  # rail-flat and rail-long
        ink, height = page.js(f"() => [{canvas}.ink, {canvas}._bounds.getSize().y]")
        assert ink == pytest.approx(8 / height, rel=1e-3)
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()


def test_packed_lines_keep_their_exact_coordinates_and_parts(browser, geodata, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr(pagedata, "CANVAS_MIN_FEATURES", 1)
    walk = np.round(np.cumsum(np.random.default_rng(5).normal(0, 0.01, (300, 2)), axis=0)
                    + np.array([79.0, 43.6]), 5)
    geoms = {
        "rail-one": LINE,
        "rail-two": {"type": "MultiLineString", "coordinates": [
            [[80.0, 44.0], [79.5, 43.8]], [[78.0, 43.3], [77.50001, 43.25], [77.0, 43.2]]]},
        "rail-three": {"type": "LineString", "coordinates": walk.tolist()},
    }
    write_layer(geodata, "railways", [feature(i, g) for i, g in geoms.items()],
                [record("railways", i) for i in geoms])
    build(geodata, tmp_path / "maps")
    html = (tmp_path / "maps" / "railways.html").read_text(encoding="utf-8")
    assert '"packed":"' in html and "rail-three" not in html  # the table is packed too
    page = Page(browser, (tmp_path / "maps" / "railways.html").as_uri())
    try:
        doc = json.loads(page.js("() => ccamap.exportText('geojson')"))
        got = {f["properties"]["id"]: f["geometry"] for f in doc["features"]}
        assert got == geoms
        # lower zooms draw fewer of the walk's vertices, always both ends
        counts = page.js("""() => {
            const e = ccamap.entries.find((x) => x.feature.properties.id === 'rail-three');
            return [4, 8, 12].map((z) => { ccamap.map.setZoom(z, {animate: false});
                                          return e.layer.getLatLngs().length; });
        }""")
        assert 2 <= counts[0] < counts[1] < counts[2] == 300
        # each line's length in world pixels at zoom 0 (what the canvas weighs a view's ink
        # by), its parts' gaps left out
        def world(lon, lat):
            y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
            return (lon + 180) / 360 * 256, (1 - y / math.pi) / 2 * 256

        def length(parts):
            return sum(math.dist(world(*a), world(*b)) for part in parts
                       for a, b in itertools.pairwise(part))

        got_lengths = page.js("""() => Object.fromEntries(ccamap.entries.map((e) =>
            [e.feature.properties.id, e.layer.set.length(e.row)]))""")
        expected = {"rail-one": length([LINE["coordinates"]]),
                    "rail-two": length(geoms["rail-two"]["coordinates"]),
                    "rail-three": length([walk.tolist()])}
        assert got_lengths == pytest.approx(expected, rel=1e-6)
        # waypoint names travel as one text a line, and come back as the list
        names = {f["properties"]["id"]: f["properties"]["waypoints"] for f in doc["features"]}
        assert names["rail-three"] == [f"P{i}" for i in range(300)]
        assert page.js("(q) => ccamap.search(q).map((e) => e.feature.properties.id)",
                       "p299") == ["rail-three"]  # found by a waypoint's name
        page.js("() => ccamap.focusId('rail-two')")
        card = page.page.locator("#ccamap-side .ccamap-card").inner_text()
        assert "P0; P1; P2; P3; P4" in card
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()
    # the overview: every layer packed (points too), read in the background, in page order
    overview = Page(browser, (tmp_path / "maps" / "index.html").as_uri())
    try:
        assert overview.js("() => ccamap.drawnAt > 0")  # lines and points on screen
        keys = overview.js("() => ccamap.entries.map((e) => e.key)")
        assert keys == sorted(keys, key=keys.index) and len(keys) == 3 + 5  # one per layer
        assert [k for k in dict.fromkeys(keys)] == overview.js("() => Object.keys(ccamap.groups)")
        overview.js("() => ccamap.focusId('powe-one')")
        assert overview.page.locator("#ccamap-side .ccamap-card").get_attribute("data-id") \
            == "powe-one"
        # the three points on one spot are drawn spread apart, and a click opens each one's card
        spots = overview.js("""() => {
          const points = ccamap.entries.filter((e) => e.latlng);
          ccamap.map.stop();
          ccamap.map.setView(points[0].latlng, 9, {animate: false});
          return points.map((e) => {
            const ll = e.layer.getLatLng(), p = ccamap.map.latLngToContainerPoint(ll);
            const r = ccamap.map.getContainer().getBoundingClientRect();
            return [e.feature.properties.id, r.left + p.x, r.top + p.y];
        }); }""")
        assert len({(round(x), round(y)) for _, x, y in spots}) == 3
        fid, x, y = spots[0]
        overview.page.mouse.move(x, y)  # the layer's tooltip names the point under the mouse
        overview.page.wait_for_function(
            "(n) => document.querySelector('.leaflet-tooltip')?.textContent === n",
            arg=f"Name of {fid}", timeout=5000)
        for fid, x, y in spots:
            overview.page.mouse.click(x, y)
            assert overview.page.locator("#ccamap-side .ccamap-card").get_attribute(
                "data-id") == fid
        assert [e for e in overview.errors if "Failed to load resource" not in e] == []
    finally:
        overview.close()


_GRAB = """(split) => new Promise((done) => {
    // the lines canvas as drawn with the helper from `split` vertices in view; the second of
    // two frames asked at once (the first one's part from the helper comes too late to count)
    const lc = ccamap.lineCanvas;
    lc.options.split = split;
    lc.draw();
    const first = lc._pending !== null;
    lc.draw();
    const helped = lc._pending !== null, row = helped ? lc._pending.split : null;
    ccamap.whenDrawn(() => {
        const c = lc._container;
        window.__grabs = (window.__grabs || []).concat([
            c.getContext('2d').getImageData(0, 0, c.width, c.height).data]);
        done([first, helped, row]);
    });
})"""

_COMPARE = """() => {
    const [a, b] = window.__grabs.slice(-2);
    let inkedA = 0, inkedB = 0, off = 0;
    for (let i = 0; i < a.length; i += 4) {
        if (a[i + 3]) { inkedA += 1; }
        if (b[i + 3]) { inkedB += 1; }
        let d = 0;
        for (let k = 0; k < 4; k += 1) { d = Math.max(d, Math.abs(a[i + k] - b[i + k])); }
        if (d > 16) { off += 1; }
    }
    return [inkedA, inkedB, off];
}"""


def test_a_helper_draws_part_of_a_busy_canvas_as_the_page_alone_would(browser, geodata,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setattr(pagedata, "CANVAS_MIN_FEATURES", 1)
    rng = np.random.default_rng(11)
    statuses = ["operating", "construction", "pre-construction", "cancelled"]
    features, rows = [], []
    for i in range(40):  # walks crossing the view, solid and dashed
        start = np.array([rng.uniform(78.6, 79.4), rng.uniform(43.4, 43.8)])
        walk = np.round(np.cumsum(rng.normal(0, 0.004, (300, 2)), axis=0) + start, 5)
        fid = f"rail-{i:02d}"
        features.append(feature(fid, {"type": "LineString", "coordinates": walk.tolist()}))
        rows.append(record("railways", fid, status=statuses[i % len(statuses)]))
    write_layer(geodata, "railways", features, rows)
    build(geodata, tmp_path / "maps")
    url = (tmp_path / "maps" / "railways.html").as_uri()
    page = Page(browser, url)
    try:
        page.js("""() => { ccamap.map.setView([43.6, 79.0], 10, {animate: false});
                           ccamap.focusId('rail-05'); }""")  # a highlighted line goes on top
        assert page.js(_GRAB, 1e12) == [False, False, None]  # alone
        first, helped, row = page.js(_GRAB, 1)
        assert first and helped and 100 < row < 1000  # the helper drew the rows below `row`
        inked, inked_helped, off = page.js(_COMPARE)
        assert inked > 20_000, (inked, inked_helped, off, row)
        # the same picture, but for antialiasing along the split (within 16 of 255)
        assert abs(inked_helped - inked) <= inked // 1000
        assert off <= inked // 500, off
        # a helper that never answers is let go: the frame is drawn alone, the same picture
        page.js("() => { ccamap.lineCanvas.options.helperWait = 300; "
                "ccamap.lineCanvas._helped = () => {}; }")
        assert page.js(_GRAB, 1)[1]  # asked the helper, then drew alone, as the first time
        assert page.js("() => ccamap.lineCanvas._pending") is None
        assert page.js("""() => {
            const a = window.__grabs[0], b = window.__grabs.at(-1);
            return a.length === b.length && a.every((x, i) => x === b[i]); }""")
        below = page.js("""(row) => {
            const px = window.__grabs[1], w = ccamap.lineCanvas._container.width;
            let n = 0;
            for (let i = 4 * w * row + 3; i < px.length; i += 4) { if (px[i]) { n += 1; } }
            return n; }""", row)
        assert below > 5_000
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()
    # a browser that cannot run the helper draws alone, the same picture
    raw = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        raw.add_init_script("delete window.OffscreenCanvas;")
        raw.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            ("file:", "data:", "about:", "blob:")) else r.abort())
        raw.goto(url)
        raw.wait_for_selector("html[data-ccamap-ready]", timeout=15000)
        raw.evaluate("""() => { ccamap.map.setView([43.6, 79.0], 10, {animate: false});
                                ccamap.focusId('rail-05'); }""")
        assert raw.evaluate(_GRAB, 1) == [False, False, None]
        assert raw.evaluate(_GRAB, 1e12) == [False, False, None]
        alone, again, off = raw.evaluate(_COMPARE)
        assert alone == again == inked and off == 0
    finally:
        raw.close()


def test_a_large_layers_first_part_draws_its_lines_as_the_whole_does(browser, geodata,
                                                                     tmp_path, monkeypatch):
    monkeypatch.setattr(pagedata, "CANVAS_MIN_FEATURES", 1)
    rng = np.random.default_rng(12)
    features, rows = [], []
    for i in range(16):  # inside Kazakhstan
        start = np.array([rng.uniform(71.0, 73.0), rng.uniform(47.5, 48.5)])
        walk = np.round(np.cumsum(rng.normal(0, 0.01, (800, 2)), axis=0) + start, 5)
        features.append(feature(f"rail-{i:02d}", {"type": "LineString",
                                                  "coordinates": walk.tolist()}))
        rows.append(record("railways", f"rail-{i:02d}", countries="KAZ",
                           status=("operating", "cancelled")[i % 2]))
    write_layer(geodata, "railways", features, rows)
    build(geodata, tmp_path / "maps")
    whole = tmp_path / "maps" / "railways.html"
    html = whole.read_text(encoding="utf-8")
    rest = re.findall(r'<script type="application/x-ccamap-rest" id="ccamap-rest-railways">'
                      r'[A-Za-z0-9+/=]+</script>', html)
    assert len(rest) == 1 and html.index(rest[0]) > html.index("ccamap.addControls(")
    assert '<script>ccamap.addRest("railways");</script>' in html
    first = tmp_path / "maps" / "first-part.html"  # the page as read before its rest
    first.write_text(html.replace(rest[0], ""), encoding="utf-8")
    grab = """(zoom) => new Promise((done) => {
        ccamap.map.setView([48.0, 72.0], zoom, {animate: false});
        ccamap.whenDrawn(() => {
            const c = ccamap.lineCanvas._container, px = c.getContext('2d').getImageData(
                0, 0, c.width, c.height).data;
            let h = 0, inked = 0;
            for (let i = 0; i < px.length; i += 1) { h = (h * 31 + px[i]) | 0; }
            for (let i = 3; i < px.length; i += 4) { if (px[i]) { inked += 1; } }
            done([h, inked]);
        });
    })"""
    page = Page(browser, whole.as_uri())
    try:
        want = {z: page.js(grab, z) for z in (5, 6, 9)}
        assert page.js("() => ccamap.drawnAt > 0 && ccamap.pending === 0")
    finally:
        page.close()
    raw = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        raw.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            ("file:", "data:", "about:", "blob:")) else r.abort())
        # a link's view: drawn from the first part alone, while the page waits for the rest
        raw.goto(first.as_uri() + "#map=6/48.000/72.000")
        raw.wait_for_function("() => window.ccamap && ccamap.drawnAt > 0", timeout=15000)
        assert raw.evaluate("() => [ccamap.map.getZoom(), ccamap.map.getCenter().lat.toFixed(3),"
                            " ccamap.lineCanvas._job]") == [6, "48.000", 1]  # one frame, there
        assert raw.evaluate("() => [Boolean(ccamap.ready), ccamap.pending]") == [False, 1]
        got = {z: raw.evaluate(grab, z) for z in (5, 6, 9)}
        assert "rest (#ccamap-rest-railways) is missing" in raw.evaluate("() => ccamap.loadError")
    finally:
        raw.close()
    assert want[6][1] > 3_000
    assert got[5] == want[5] and got[6] == want[6]  # pixel for pixel
    assert got[9] != want[9]  # beyond PREVIEW_ZOOM, the rest adds detail
