"""Data never becomes code: template syntax planted everywhere comes out literally, never runs.

branca compiles the *output* of every folium macro as a new Jinja template; data that reached a
macro (cards, tooltips, search names, layer names) would run as template code. These tests plant
expressions that would print a marker or touch a file, comments, unknown names and unbalanced
tags in every text column of every layer, in source titles, in column names, in waypoint names
and in layer titles; build every page and every export format, and check that the marker never
appears, nothing ran, and the literal text is in the page and in every export.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest

from _pages import page_features
from ccamap import render as render_module
from ccamap.errors import ValidationError
from ccamap.export import write_export
from ccamap.layers import LAYERS
from ccamap.pipeline import build, load
from ccamap.render import render_map, unsafe_elements

from _browser import Page
from conftest import LINE, POINT, SOURCES, feature, record, write_csv, write_layer

#: Evaluated, this prints the marker; it never appears literally in the payload. It needs no
#: quotes (JSON and HTML escaping turn quotes into backslashes or entities, which would only
#: make the template fail to compile, and the attack must be the one that works).
MARKER = "PWNED"
EXPRESSION = "{{ dict(PW=1)|first ~ dict(NED=1)|first }}"
#: Evaluated in the working directory, this creates the directory ``TOUCHED``.
TOUCH = "{{ cycler.__init__.__globals__.os.mkdir(dict(TOUCHED=1)|first) }}"
COLUMN = "extra {{ dict(PW=1)|first ~ dict(NED=1)|first }} {# c #}"


def payload(touch: Path) -> str:
    """Template syntax of every kind: expressions that print or touch a file, comment, tags."""
    return (f"A {EXPRESSION} B {TOUCH} {{{{ 'PWN' ~ 'ED' }}}}"
            f" {{{{ cycler.__init__.__globals__.os.system('touch {touch}') }}}}"
            " C {# hidden comment #} D {{ unknown_name }} E {% if %} F {%- raw %} G {{ H"
            " I }} J \\ K \\n L {%")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test in its own directory, where TOUCH would create ``TOUCHED``."""
    monkeypatch.chdir(tmp_path)


def _nothing_ran(tmp_path: Path, touch: Path) -> bool:
    return not touch.exists() and not (tmp_path / "TOUCHED").exists()


def _text_fields(layer_name: str) -> list[str]:
    """Every free-text column of a layer (lists included: the payload has no separator)."""
    skip = {"id", "field_sources", "geometry_precision", "sources", "capacity_unit"}
    return [f.name for f in LAYERS[layer_name].all_fields
            if f.kind in ("text", "list") and f.name not in skip]


@pytest.fixture
def hostile(geodata: Path, tmp_path: Path) -> tuple[Path, str, Path]:
    """Geodata with the payload in every text column, source titles, a column name, waypoints."""
    touch = tmp_path / "touched-by-template"
    text = payload(touch)
    sources = [dict(s, title=f"{s['title']} {text}", publisher=text) for s in SOURCES]
    sources[2]["url"] = "https://example.org/{{ 'PWN' ~ 'ED' }}"
    write_csv(geodata / "sources.csv", sources, list(sources[0]))
    for name, layer in LAYERS.items():
        fid = f"{name.split('_')[0][:4]}-one"
        values = dict.fromkeys(_text_fields(name), text)
        row = record(name, fid, **values)
        row["sources"] = "seed-001;web-a"
        row[COLUMN] = text
        fields = [k for k in values if LAYERS[name].field(k).factual]
        row["field_sources"] += "".join(f"; {k}=web-a" for k in fields)
        geom = LINE if layer.is_line else POINT
        feat = feature(fid, geom)
        feat["properties"]["waypoints"] = [text] * len(feat["properties"]["waypoints"])
        write_layer(geodata, name, [feat], [row])
    return geodata, text, touch


def test_template_syntax_is_literal_in_every_page(hostile, tmp_path):
    geodata, text, touch = hostile
    out = tmp_path / "maps"
    build(geodata, out)
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    assert set(pages) == {"index.html", "table.html", *(f"{n}.html" for n in LAYERS)}
    assert _nothing_ran(tmp_path, touch), "a template expression in the data ran code"
    for name, page in pages.items():
        assert MARKER not in page, f"{name}: a template expression was evaluated"
        if name == "table.html":
            # name, Chinese and Russian names of each row (shown, and as the sort key)
            assert html.unescape(page).count(text) == len(LAYERS) * 3 * 2
            continue
        features = page_features(page)
        assert features, name
        for props in features:
            # the card and tooltip are built from this table with text nodes in the browser
            # (test_literal_text_is_shown_in_the_browser): every text field, the extra column
            # (by name and value) and the waypoints carry the text as it is
            for field in _text_fields(props["layer"]):
                value = props[field]
                assert value in (text, [text]), (name, props["id"], field)
            assert props[COLUMN] == text
            assert props["waypoints"] == [text] * len(props["waypoints"])
            assert props["name"] == text and props["name_zh"] == text
    # the exported GeoJSON of a build keeps the text too
    for name in LAYERS:
        doc = json.loads((out / "export" / f"{name}.geojson").read_text(encoding="utf-8"))
        props = doc["features"][0]["properties"]
        assert props["description"] == text and props[COLUMN] == text
        assert all(s["title"].endswith(text) for s in props["sources"])


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "csv", "parquet", "fgb"])
def test_template_syntax_is_literal_in_every_export(hostile, tmp_path, fmt):
    geodata, text, touch = hostile
    data = load(geodata)
    out = tmp_path / fmt
    written = write_export(data.layers, data.sources, fmt, out)
    assert _nothing_ran(tmp_path, touch)
    for path in written:
        assert MARKER not in path.read_bytes().decode("utf-8", errors="replace"), path
    for name in LAYERS:
        if fmt == "kml":
            root = ET.parse(out / "ccamap.kml").getroot()
            ns = {"k": "http://www.opengis.net/kml/2.2"}
            names = [n.text for n in root.iterfind(".//k:Placemark/k:name", ns)]
            assert names == [text] * len(LAYERS)
            descriptions = [d.text or "" for d in root.iterfind(".//k:description", ns)]
            assert all(text in html.unescape(d) for d in descriptions)
            break
        if fmt == "geojson":
            props = json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))[
                "features"][0]["properties"]
            row = props
        elif fmt == "csv":
            with (out / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
                row = next(csv.DictReader(fh))
        elif fmt == "parquet":
            import geopandas as gpd

            row = gpd.read_parquet(out / f"{name}.parquet").iloc[0].to_dict()
        else:
            target = out / ("ccamap.gpkg" if fmt == "gpkg" else f"{name}.fgb")
            frame = pyogrio.read_dataframe(target, layer=name if fmt == "gpkg" else None)
            row = frame.iloc[0].to_dict()
        for field in _text_fields(name):
            value = row[field]
            if not isinstance(value, str):  # a list column (GeoParquet keeps arrays)
                value = next(iter(value))
            assert value == text, (fmt, name, field)
        assert row[COLUMN] == text, (fmt, name)


def test_template_syntax_in_layer_titles_is_literal(geodata, monkeypatch, tmp_path):
    touch = tmp_path / "touched"
    text = payload(touch)
    for name, layer in LAYERS.items():
        monkeypatch.setitem(LAYERS, name, dataclasses.replace(layer, title=f"{name} {text}"))
    build(geodata, tmp_path / "maps")
    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    assert _nothing_ran(tmp_path, touch)
    assert MARKER not in page
    assert html.unescape(page).count(text) >= len(LAYERS)


@pytest.mark.parametrize("where", ["id", "source id"])
def test_template_syntax_in_ids_is_refused_before_rendering(geodata, where, tmp_path):
    touch = tmp_path / "touched"
    bad = "rail-{{ 'PWN' ~ 'ED' }}"
    if where == "id":
        write_layer(geodata, "railways", [feature(bad, LINE)], [record("railways", bad)])
    else:
        sources = [*SOURCES, dict(SOURCES[2], id=bad)]
        write_csv(geodata / "sources.csv", sources, list(SOURCES[0]))
    with pytest.raises(ValidationError) as info:
        build(geodata, tmp_path / "maps")
    assert "[id-format]" in str(info.value)
    assert repr(bad) in str(info.value) or bad in str(info.value)
    assert not (tmp_path / "maps").exists()
    assert _nothing_ran(tmp_path, touch)


def test_every_element_renders_without_recompiling(geodata):
    data = load(geodata)
    m = render_map(data.layers, data.sources)
    m.get_root().render()
    assert unsafe_elements(m) == []


def test_old_rendering_path_would_run_the_expression(geodata, monkeypatch, tmp_path):
    """The attack is real: with branca's re-compiling render put back, the data runs as code."""
    from branca.element import MacroElement

    _safe_render = render_module._SafeMacro.render
    touch = tmp_path / "touched"
    text = f"{EXPRESSION} {TOUCH}"
    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", description=text)])
    data = load(geodata)
    monkeypatch.setattr(render_module._SafeMacro, "render", MacroElement.render)
    try:
        page = render_map(data.layers, data.sources).get_root().render()
    except FileExistsError:
        # The value is in the page twice (the card and the download data): the second copy's
        # mkdir finds the directory the first one made. Either way, the data ran as code.
        page = MARKER
    assert MARKER in page
    assert (tmp_path / "TOUCHED").is_dir()
    (tmp_path / "TOUCHED").rmdir()
    monkeypatch.setattr(render_module._SafeMacro, "render", _safe_render)
    page = render_map(data.layers, data.sources).get_root().render()
    assert MARKER not in page
    assert _nothing_ran(tmp_path, touch)


def test_literal_text_is_shown_in_the_browser(browser, hostile, tmp_path):
    geodata, text, touch = hostile
    out = tmp_path / "maps"
    build(geodata, out, offline=True)
    page = Page(browser, (out / "index.html").as_uri() + "#id=rail-one")
    try:
        page.page.wait_for_selector(".ccamap-card", timeout=5000)
        card = page.page.locator(".ccamap-card").first.inner_text()
        assert text.replace("\\n", "\\n") in card.replace("\n", " ") or text in card
        # name, Chinese and Russian names, description, every other text field, the extra
        # column (by name and value), waypoints and every source title and publisher
        shown = page.js("() => document.querySelector('.ccamap-card').textContent")
        assert shown.count(text) >= len(_text_fields("railways")) + 1
        assert COLUMN in shown
        assert MARKER not in page.page.content()
        assert page.js("() => window.__pwned === undefined")
        assert [e for e in page.errors if "Failed to load resource" not in e] == []
    finally:
        page.close()
    assert _nothing_ran(tmp_path, touch)
