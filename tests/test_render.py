from __future__ import annotations

import re

import pytest

from ccamap.layers import LAYERS
from ccamap.pipeline import load, render_maps
from ccamap.render import card_html, escape, feature_style, point_radius

from conftest import LINE, feature, record, write_layer

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
