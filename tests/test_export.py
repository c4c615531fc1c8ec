from __future__ import annotations

import contextlib
import csv
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import pytest
from shapely.geometry import LineString

from _gis_tools import assert_round_trip, list_layers, ogrinfo, require_ogrinfo
from ccamap.errors import ExportError, UsageError
from ccamap.export import check_format, round_geometry, write_export
from ccamap.layers import LAYERS
from ccamap.pipeline import export, load

from conftest import LINE, REPO, feature, record, write_layer

# where write_export looks up the text renderers, and the binary writers (ccamap.export is also a
# function, so these modules are imported by name)
write_module = importlib.import_module("ccamap.export.write")
geojson_module = importlib.import_module("ccamap.export.geojson")
gdal_module = importlib.import_module("ccamap.export.gdal")

NEEDS_OGR = pytest.mark.skipif(
    shutil.which("ogrinfo") is None and not os.environ.get("CI"),
    reason="ogrinfo (gdal-bin) not installed; .ci/run installs it",
)


def test_geojson_is_rfc7946(geodata, tmp_path):
    geom = {"type": "LineString", "coordinates": [[80.1234567891, 44.0], [79.0, 43.5]]}
    row = record("railways", "rail-one", capacity="12.5", capacity_unit="Mt/y",
                 field_sources="status=seed-001; status_year=seed-001; capacity=seed-001",
                 description='{"looks": "like json"}')
    write_layer(geodata, "railways", [feature("rail-one", geom)], [row])
    paths = export(geodata, tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted(f"{n}.geojson" for n in LAYERS)
    doc = json.loads((tmp_path / "out" / "railways.geojson").read_text(encoding="utf-8"))
    assert "crs" not in doc
    assert doc["bbox"] == [79.0, 43.5, 80.123457, 44.0]
    feat = doc["features"][0]
    assert feat["geometry"]["coordinates"][0] == [80.123457, 44.0]
    props = feat["properties"]
    assert props["capacity"] == 12.5
    assert props["status_year"] == 2025
    assert props["countries"] == ["CHN", "KAZ"]
    assert props["description"] == '{"looks": "like json"}'
    assert props["sources"][0]["title"] == "Championing the China-Central Asia Spirit"
    assert props["name_zh"] is None


def test_rounding_collapse_is_refused():
    line = LineString([(80.0, 44.0), (80.0000001, 44.0)])
    with pytest.raises(ExportError, match="collapses to a point"):
        round_geometry(line, "rail-x", 6)


@pytest.mark.parametrize("batch", [1, 2, 3, 2048])
def test_geojson_batches_give_the_same_text(monkeypatch, batch):
    """Rounded and written a batch at a time, the export is the same text, whatever the batch."""
    data = load(REPO / "geodata")
    gdf = data.layers["railways"]
    whole = geojson_module.geojson_text(gdf, data.sources)
    monkeypatch.setattr(geojson_module, "_BATCH", batch)
    pieces = list(geojson_module.geojson_pieces(gdf, data.sources))
    assert len(pieces) == 2 + -(-len(gdf) // batch)
    assert "".join(pieces) == whole
    assert json.loads(whole)["features"][0]["id"] == gdf["id"].iloc[0]


def test_geojson_names_the_first_feature_that_collapses(monkeypatch):
    data = load(REPO / "geodata")
    gdf = data.layers["railways"].copy()
    tiny = LineString([(80.0, 44.0), (80.0000001, 44.0)])
    gdf.loc[gdf.index[[2, 4]], "geometry"] = [tiny, tiny]
    monkeypatch.setattr(geojson_module, "_BATCH", 2)
    with pytest.raises(ExportError, match=f"feature {gdf['id'].iloc[2]!r}: .* collapses"):
        geojson_module.geojson_text(gdf, data.sources)


def test_unknown_format():
    with pytest.raises(UsageError, match="expected one of: geojson"):
        check_format("shp")


@NEEDS_OGR
def test_ogrinfo_reads_exports_without_warnings(geodata, tmp_path):
    export(geodata, tmp_path / "out")
    for name in LAYERS:
        path = tmp_path / "out" / f"{name}.geojson"
        done = subprocess.run(["ogrinfo", "-al", "-so", str(path)], capture_output=True,
                              text=True, check=True)
        assert "Feature Count: 1" in done.stdout
        assert "Warning" not in done.stderr and "ERROR" not in done.stderr, done.stderr


# --------------------------------------------------------------------------- every format

FORMATS_ALL = ["geojson", "gpkg", "kml", "csv", "parquet", "fgb"]
#: Formats Debian's GDAL (ogrinfo) reads; its GDAL 3.6 has no (Geo)Parquet driver.
OGR_FORMATS = ["geojson", "gpkg", "kml", "csv", "fgb"]


@pytest.fixture
def rich_geodata(geodata):
    """The tiny geodata plus features that exercise types, lists, multi-lines and escaping."""
    multi = {"type": "MultiLineString",
             "coordinates": [[[75.0, 40.0], [76.123456, 41.5]], [[77.0, 42.0], [78.5, 42.25]]]}
    write_layer(geodata, "railways",
                [feature("rail-one", LINE_GEOM), feature("rail-two", multi)],
                [record("railways", "rail-one", capacity="12.5", capacity_unit="Mt/y",
                        name_zh="中吉乌铁路", owners="CRCC;KTZ",
                        field_sources="status=seed-001; status_year=seed-001; "
                                      "capacity=seed-001; owners=seed-001",
                        description='{"looks": "like json"} & <b>not html</b>'),
                 record("railways", "rail-two", status="construction", start_year="2023",
                        countries="KAZ;CHN;UZB", sources="seed-001;web-a",
                        field_sources="status=seed-001; status_year=seed-001; "
                                      "start_year=web-a")])
    write_layer(geodata, "power_plants",
                [feature("powe-one", POINT_GEOM), feature("powe-big", POINT_GEOM_2)],
                [record("power_plants", "powe-one", capacity="100", capacity_unit="MW",
                        field_sources="status=seed-001; status_year=seed-001; "
                                      "technology=seed-001; capacity=seed-001"),
                 record("power_plants", "powe-big", technology="coal", status="retired",
                        capacity="2500", capacity_unit="MW", notes="Quote \" and ' and ;",
                        field_sources="status=seed-001; status_year=seed-001; "
                                      "technology=seed-001; capacity=seed-001")])
    write_layer(geodata, "border_ports", [feature("bord-one", POINT_GEOM)],
                [record("border_ports", "bord-one", modes="road;rail",
                        field_sources="status=seed-001; status_year=seed-001; modes=seed-001")])
    return geodata


LINE_GEOM = {"type": "LineString", "coordinates": [[80.0, 44.0], [79.0, 43.5], [77.0, 43.2]]}
POINT_GEOM = {"type": "Point", "coordinates": [80.3, 44.2]}
POINT_GEOM_2 = {"type": "Point", "coordinates": [69.123456, 41.654321]}


@pytest.mark.parametrize("fmt", FORMATS_ALL)
def test_round_trip_is_exact(rich_geodata, tmp_path, fmt):
    data = load(rich_geodata)
    write_export(data.layers, data.sources, fmt, tmp_path)
    for name, joined in data.layers.items():
        assert_round_trip(fmt, tmp_path, name, joined)


@pytest.mark.parametrize("fmt", FORMATS_ALL)
def test_bundled_data_round_trips(tmp_path, fmt):
    data = load(REPO / "geodata")
    write_export(data.layers, data.sources, fmt, tmp_path)
    for name, joined in data.layers.items():
        assert_round_trip(fmt, tmp_path, name, joined)


@pytest.mark.parametrize("fmt", OGR_FORMATS)
def test_ogrinfo_reports_layers_counts_types_extent(rich_geodata, tmp_path, fmt):
    require_ogrinfo()
    data = load(rich_geodata)
    written = write_export(data.layers, data.sources, fmt, tmp_path)
    for name, joined in data.layers.items():
        path = next(p for p in written if p.stem in (name, "ccamap"))
        ogr_name = LAYERS[name].title if fmt == "kml" else name
        info = ogrinfo(path, ogr_name)[ogr_name]
        assert info["count"] == len(joined)
        xmin, ymin, xmax, ymax = joined.total_bounds
        assert info["extent"] == pytest.approx((xmin, ymin, xmax, ymax), abs=1e-6)
        fields = info["fields"]
        assert fields["status_year"].startswith("Integer"), fields
        if fmt != "geojson" or joined["capacity"].notna().any():  # GeoJSON has no schema
            assert fields["capacity"] in ("Real", "Integer" if fmt == "geojson" else "Real"), fields
        assert fields["countries"] == ("StringList" if fmt == "geojson" else "String"), fields
        if fmt in ("gpkg", "fgb"):
            want = "Multi Line String" if LAYERS[name].is_line else "Point"
            assert info["geometry"] == want
    if fmt == "gpkg":
        assert list_layers(tmp_path / "ccamap.gpkg")[-2:] == ["sources", "layer_styles"]
        info = ogrinfo(tmp_path / "ccamap.gpkg", "sources")["sources"]
        assert info["count"] == len(data.sources)


def test_geojson_passes_strict_rfc7946_validator(rich_geodata, tmp_path):
    geojson_validator = pytest.importorskip("geojson_validator")
    data = load(rich_geodata)
    for path in write_export(data.layers, data.sources, "geojson", tmp_path):
        doc = json.loads(path.read_text(encoding="utf-8"))
        criteria = geojson_validator.validate_structure(doc, check_crs=True)
        assert criteria == {}, (path.name, criteria)
        geometry = geojson_validator.validate_geometries(doc)
        assert geometry["invalid"] == {}, (path.name, geometry)


def test_geoparquet_has_1_1_metadata(rich_geodata, tmp_path):
    import pyarrow.parquet as pq

    data = load(rich_geodata)
    write_export(data.layers, data.sources, "parquet", tmp_path)
    schema = pq.read_schema(tmp_path / "railways.parquet")
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert set(column["geometry_types"]) == {"LineString", "MultiLineString"}
    assert "covering" in column
    assert str(schema.field("countries").type) == "list<element: string>"
    assert str(schema.field("status_year").type) == "int64"


def test_gpkg_has_spatial_index_and_layer_styles(rich_geodata, tmp_path):
    data = load(rich_geodata)
    write_export(data.layers, data.sources, "gpkg", tmp_path)
    with contextlib.closing(sqlite3.connect(tmp_path / "ccamap.gpkg")) as con:
        index = {r[0] for r in con.execute("SELECT table_name FROM gpkg_extensions "
                                           "WHERE extension_name = 'gpkg_rtree_index'")}
        assert index == set(LAYERS)
        styles = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles "
                                  "WHERE useAsDefault"))
        contents = {r[0]: r[1] for r in con.execute(
            "SELECT table_name, data_type FROM gpkg_contents")}
    assert set(styles) == set(LAYERS)
    assert contents["sources"] == "attributes" and contents["layer_styles"] == "attributes"
    assert 'type="categorizedSymbol" attr="status"' in styles["railways"]
    assert 'type="RuleRenderer"' in styles["power_plants"]
    assert "sqrt(&quot;capacity&quot;)" in styles["power_plants"]
    assert 'value="8;6"' in styles["railways"]


def test_kml_has_folders_styles_and_escaped_descriptions(rich_geodata, tmp_path):
    data = load(rich_geodata)
    (path,) = write_export(data.layers, data.sources, "kml", tmp_path)
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    folders = root.findall("k:Document/k:Folder", ns)
    assert [f.get("id") for f in folders] == list(LAYERS)
    assert "<b>not html</b>" not in text
    mark = root.find(".//k:Placemark[@id='railways.rail-one']", ns)
    assert mark is not None
    description = mark.findtext("k:description", namespaces=ns)
    assert "&lt;b&gt;not html&lt;/b&gt;" in description
    style = root.find(f".//k:Style[@id='{mark.findtext('k:styleUrl', namespaces=ns)[1:]}']",
                      ns)
    # Okabe–Ito black at 0.9 opacity, as KML aabbggrr
    assert style.findtext("k:LineStyle/k:color", namespaces=ns) == "e6000000"


def test_csv_has_wkt_and_sources(rich_geodata, tmp_path):
    data = load(rich_geodata)
    write_export(data.layers, data.sources, "csv", tmp_path)
    rows = list(csv.DictReader((tmp_path / "railways.csv").open(encoding="utf-8")))
    assert rows[1]["WKT"] == "MULTILINESTRING ((75 40, 76.123456 41.5), (77 42, 78.5 42.25))"
    assert rows[1]["countries"] == "KAZ;CHN;UZB"
    assert (tmp_path / "railways.csvt").read_text().startswith('"String","String"') or \
        (tmp_path / "railways.csvt").read_text().startswith("String,String")
    assert (tmp_path / "sources.csv").read_text(encoding="utf-8").startswith(
        "id,title,publisher,date,url,kind\n")


@pytest.mark.parametrize("fmt", FORMATS_ALL)
def test_failed_export_leaves_previous_files(rich_geodata, tmp_path, monkeypatch, fmt):
    data = load(rich_geodata)
    out = tmp_path / "out"
    first = write_export(data.layers, data.sources, fmt, out)
    before = {p: p.read_bytes() for p in out.iterdir()}
    assert set(first) <= set(before)

    def boom(*args, **kwargs):
        raise ExportError("disk full")

    target = {"geojson": "geojson_pieces", "kml": "kml_text", "csv": "sources_csv_text",
              "gpkg": "_write_layer_styles", "parquet": "_write_parquet",
              "fgb": "_write_gdal"}[fmt]
    if fmt == "parquet":
        calls = iter(range(100))
        real = gdal_module._write_parquet

        def boom(frame, tmp):  # the third file fails, after two were complete
            if next(calls) == 2:
                raise ExportError("disk full")
            real(frame, tmp)
    monkeypatch.setattr(write_module if fmt in ("geojson", "kml", "csv") else gdal_module,
                        target, boom)
    with pytest.raises(ExportError, match="disk full"):
        write_export(data.layers, data.sources, fmt, out)
    assert {p: p.read_bytes() for p in out.iterdir()} == before


def test_extra_columns_survive_every_format(geodata, tmp_path):
    import pyogrio

    row = record("railways", "rail-one")
    row["<b>x</b>"] = "<script>alert(1)</script>"
    write_layer(geodata, "railways", [feature("rail-one", LINE)], [row])
    for fmt in ("geojson", "gpkg", "fgb"):
        paths = export(geodata, tmp_path / fmt, ["railways"], fmt=fmt)
        target = next(p for p in paths if p.suffix in (".geojson", ".gpkg", ".fgb"))
        frame = pyogrio.read_dataframe(target, layer="railways" if fmt == "gpkg" else None)
        assert frame["<b>x</b>"].iloc[0] == "<script>alert(1)</script>", fmt


def test_locality_points_are_hollow_in_kml_and_qgis(geodata, tmp_path):
    from ccamap.qgis_style import layer_qml

    write_layer(geodata, "sites", [feature("site-one", POINT_GEOM), feature("site-two",
                                                                           POINT_GEOM_2)],
                [record("sites", "site-one", geometry_precision="locality"),
                 record("sites", "site-two")])
    data = load(geodata)
    (path,) = write_export({"sites": data.layers["sites"]}, data.sources, "kml", tmp_path)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    icons = {}
    for mark in root.iterfind(".//k:Placemark", ns):
        style_id = mark.findtext("k:styleUrl", namespaces=ns)[1:]
        style = root.find(f".//k:Style[@id='{style_id}']", ns)
        icons[mark.get("id")] = style.findtext("k:IconStyle/k:Icon/k:href", namespaces=ns)
    assert icons["sites.site-one"].endswith("/donut.png")
    assert icons["sites.site-two"].endswith("/placemark_circle.png")
    qml = layer_qml(LAYERS["sites"])
    assert "CASE WHEN &quot;geometry_precision&quot; = 'locality' THEN '255,255,255,255'" in qml
