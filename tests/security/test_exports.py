"""Exports never land in the data, never cut or break text, and never hand a spreadsheet a formula.

Each case asserts the exact outcome: a clear error naming the directory, layer, feature and
field before anything is written, or the literal text preserved in a file that parses.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccamap.cli import app
from ccamap.errors import ExportError, UnsafeOutputError
from ccamap.export import csv_texts, sources_csv_text, write_export
from ccamap.pipeline import export, export_postgis, load

from _files import tree
from conftest import LINE, SOURCES, feature, record, write_csv, write_layer

runner = CliRunner()
KML = "{http://www.opengis.net/kml/2.2}"




# --------------------------------------------------------------------------- 1. never into geodata


def _outs(geodata: Path) -> dict[str, Path]:
    maps = geodata.parent / "maps"
    maps.mkdir(exist_ok=True)
    (maps / "export").symlink_to(geodata / "exports")  # dangling: resolves into geodata
    (maps / "data").symlink_to(geodata)
    return {"same": geodata, "inside": geodata / "exports", "deeper": geodata / "a" / "b",
            "link-into": maps / "export", "link-to": maps / "data",
            "link-below": maps / "data" / "x", "dotdot": maps / ".." / "geodata"}


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "kml"])
@pytest.mark.parametrize("where", ["same", "inside", "deeper", "link-into", "link-to",
                                   "link-below", "dotdot"])
def test_export_into_the_data_is_refused_before_anything_is_written(geodata, fmt, where):
    out = _outs(geodata)[where]
    before = tree(geodata)
    result = runner.invoke(app, ["export", "--format", fmt, "--out", str(out),
                                 "-g", str(geodata)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(
        f"error: {out}: expected an output directory outside the data directory {geodata}, "
        "found one that ")
    assert "ccamap never writes into the data directory, choose another --out" in result.output
    assert "Traceback" not in result.output
    assert tree(geodata) == before


def test_library_export_into_the_data_is_refused(geodata, monkeypatch):
    def no_load(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("data was read before the output directory was checked")

    monkeypatch.setattr("ccamap.pipeline.load", no_load)
    with pytest.raises(UnsafeOutputError, match="lies inside it"):
        export(geodata, geodata / "export", fmt="csv")
    assert not (geodata / "export").exists()


def test_export_beside_the_data_still_works(geodata):
    out = geodata.parent / "maps" / "export"
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(out),
                                 "-g", str(geodata)])
    assert result.exit_code == 0, result.output
    assert (out / "railways.csv").is_file()


# --------------------------------------------------------------------- 3. KML and control chars

#: Text with every kind of character XML 1.0 cannot hold, around text that must stay as written.
CONTROL = "Khorgos\x1b[31m <b>&amp;</b> \x00NUL\x0b\x0c\ufffe end"
SHOWN = "Khorgos\\x1b[31m <b>&amp;</b> \\x00NUL\\x0b\\x0c\\ufffe end"


def _control_geodata(geodata: Path) -> None:
    row = record("railways", "rail-one", name=CONTROL, notes=CONTROL, description=CONTROL)
    row["extra\x1bcol"] = CONTROL
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=[CONTROL] * 3)],
                [row])


def test_kml_with_control_characters_parses_and_shows_them_as_escapes(geodata, tmp_path):
    _control_geodata(geodata)
    result = runner.invoke(app, ["export", "--format", "kml", "--out", str(tmp_path / "out"),
                                 "-g", str(geodata)])
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "out" / "ccamap.kml").read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x00" not in raw and "\ufffe" not in raw
    root = ET.fromstring(raw.encode("utf-8"))  # well-formed: Google Earth and GDAL read it
    mark = root.find(f".//{KML}Placemark[@id='railways.rail-one']")
    assert mark is not None
    assert mark.findtext(f"{KML}name") == SHOWN
    data = {d.get("name"): d.text for d in mark.iter(f"{KML}SimpleData")}
    assert data["notes"] == SHOWN
    assert data["description"] == SHOWN
    assert data["extra\\x1bcol"] == SHOWN
    assert data["waypoints"] == ";".join([SHOWN] * 3)
    fields = [f.get("name") for f in root.iter(f"{KML}SimpleField")]
    assert "extra\\x1bcol" in fields
    card = mark.findtext(f"{KML}description") or ""
    assert "Khorgos\\x1b[31m &lt;b&gt;&amp;amp;&lt;/b&gt; \\x00NUL" in card  # HTML-escaped once


# --------------------------------------------------------------------------- 3. NUL in GDAL formats


@pytest.mark.parametrize("fmt", ["gpkg", "fgb"])
def test_nul_in_a_value_is_refused_naming_layer_feature_and_field(geodata, tmp_path, fmt):
    row = record("railways", "rail-one", notes="before\x00after")
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", "--format", fmt, "--out", str(out),
                                 "-g", str(geodata)])
    assert result.exit_code == 1
    driver = {"gpkg": "GPKG", "fgb": "FlatGeobuf"}[fmt]
    assert result.output == (
        f"error: layer 'railways', feature 'rail-one', field 'notes': expected text without NUL "
        f"characters (GDAL's {driver} driver would cut it there), found a NUL at character 7 of "
        "'before\\x00after'\n")
    assert [p.name for p in out.iterdir()] == []  # nothing half-written


def test_nul_in_a_waypoint_is_refused_in_gpkg(geodata, tmp_path):
    write_layer(geodata, "railways", [feature("rail-one", LINE, waypoints=["A", "B\x00", "C"])],
                [record("railways", "rail-one")])
    data = load(geodata)
    with pytest.raises(ExportError, match=r"layer 'railways', feature 'rail-one', field "
                                          r"'waypoints': .* found a NUL at character 4 of"):
        write_export(data.layers, data.sources, "gpkg", tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_nul_in_a_source_is_refused_in_gpkg(geodata, tmp_path):
    write_csv(geodata / "sources.csv", [*SOURCES[:2], dict(SOURCES[2], title="A\x00page")],
              list(SOURCES[0]))
    data = load(geodata)
    with pytest.raises(ExportError, match="layer 'sources', feature 'web-a', field 'title'"):
        write_export(data.layers, data.sources, "gpkg", tmp_path)


def test_nul_is_refused_before_postgis_is_contacted(geodata):
    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", description="x\x00y")])
    with pytest.raises(ExportError) as info:  # port 9 is never a database: not reached
        export_postgis("postgresql://me@127.0.0.1:9/gis", geodata)
    assert str(info.value).startswith("layer 'railways', feature 'rail-one', field "
                                      "'description': expected text without NUL characters "
                                      "(PostgreSQL text would cut it there)")


@pytest.mark.parametrize("fmt", ["geojson", "csv", "parquet"])
def test_formats_that_hold_nul_keep_it(geodata, tmp_path, fmt):
    write_layer(geodata, "railways", [feature("rail-one", LINE)],
                [record("railways", "rail-one", notes="before\x00after")])
    data = load(geodata)
    write_export(data.layers, data.sources, fmt, tmp_path)
    if fmt == "parquet":
        import geopandas as gpd

        assert gpd.read_parquet(tmp_path / "railways.parquet")["notes"][0] == "before\x00after"
    else:
        raw = (tmp_path / f"railways.{fmt}").read_text(encoding="utf-8")
        assert ("before\\u0000after" if fmt == "geojson" else "before\x00after") in raw


# --------------------------------------------------------------------------- 3. CSV formulas

FORMULAS = {"name": "=HYPERLINK(\"http://evil.example\",\"click\")", "notes": "+cmd|' /C calc'!A0",
            "description": "-2+3", "owners": "@SUM(1);KTZ", "name_zh": "-"}


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_text_cells_that_start_like_formulas_get_a_quote(geodata, tmp_path):
    row = record("railways", "rail-one", capacity="12.5", capacity_unit="=1+1",
                 field_sources="status=seed-001; status_year=seed-001; capacity=seed-001; "
                               "owners=seed-001", **FORMULAS)
    row["=cmd()"] = "-5"
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    write_csv(geodata / "sources.csv", [*SOURCES[:2], dict(SOURCES[2], title="=IMPORTXML(x)",
                                                           publisher="@evil")],
              list(SOURCES[0]))
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(tmp_path),
                                 "-g", str(geodata)])
    assert result.exit_code == 0, result.output
    header, values = _rows((tmp_path / "railways.csv").read_text(encoding="utf-8"))
    got = dict(zip(header, values, strict=True))
    for column, text in FORMULAS.items():
        assert got[column] == "'" + text, column
    assert got["capacity_unit"] == "'=1+1"
    assert got["capacity"] == "12.5"  # numbers stay numbers
    assert got["status_year"] == "2025"
    assert "'=cmd()" in header and got["'=cmd()"] == "'-5"  # an extra column is text
    assert got["WKT"] == "LINESTRING (80 44, 79 43.5, 77 43.2)"  # geometry untouched
    assert got["name"] == "'" + FORMULAS["name"]  # the rest of the text exactly as written
    sources = {r[0]: r for r in _rows((tmp_path / "sources.csv").read_text(encoding="utf-8"))}
    assert sources["web-a"][1:3] == ["'=IMPORTXML(x)", "'@evil"]


def test_negative_numbers_stay_numbers_in_csv(geodata):
    data = load(geodata)
    gdf = data.layers["railways"].copy()
    gdf["capacity"] = [-5.0]  # not valid geodata, but a number column must never be quoted
    gdf["status_year"] = [-12]
    text, types = csv_texts("railways", gdf)
    header, values = _rows(text)
    got = dict(zip(header, values, strict=True))
    assert (got["capacity"], got["status_year"]) == ("-5", "-12")
    kinds = dict(zip(header, _rows(types)[0], strict=True))
    assert (kinds["capacity"], kinds["status_year"], kinds["name"]) == ("Real", "Integer",
                                                                       "String")


def test_sources_csv_neutralises_every_cell(geodata):
    data = load(geodata)
    sources = data.sources.copy()
    sources.loc["web-a", "url"] = "-https://example.org"
    rows = _rows(sources_csv_text(sources))
    assert rows[0] == ["id", "title", "publisher", "date", "url", "kind"]
    assert next(r for r in rows if r[0] == "web-a")[4] == "'-https://example.org"
