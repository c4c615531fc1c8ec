"""``ccamap import`` never lets GDAL reach the network, stays linear in layers, and fails clearly.

Network-reaching sources are refused before GDAL sees them (GDAL is replaced by a function that
fails the test if called); every refusal leaves ``geodata/`` byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from ccamap import settings
from ccamap.cli import app
from ccamap.errors import CcamapError, UnsafeSourceError
from ccamap.importer import import_geometry, read_new_geometry

from conftest import write_csv

runner = CliRunner()
ROUTE = LineString([(80.0, 44.0), (79.6, 43.8), (79.0, 43.55), (78.0, 43.3), (77.0, 43.2)])
VRT = ('<OGRVRTDataSource>\n <OGRVRTLayer name="route">\n  <SrcDataSource>/vsicurl/'
       'http://127.0.0.1:9/route.geojson</SrcDataSource>\n </OGRVRTLayer>\n</OGRVRTDataSource>\n')


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def no_gdal(monkeypatch):
    """Fail the test if GDAL is asked to open anything."""
    def refuse(*args, **kwargs):  # pragma: no cover - reached only on failure
        raise AssertionError(f"GDAL was asked to open {args[:1]}")

    for name in ("list_layers", "read_dataframe", "read_info"):
        monkeypatch.setattr(pyogrio, name, refuse)


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buf.getvalue()


FILES = {
    "route.vrt": (VRT.encode(), "a .vrt file (a VRT can make GDAL read URLs and other files)"),
    "route.geojson": (VRT.encode(), "an OGR VRT document (a VRT can make GDAL read URLs and "
                                    "other files)"),
    "route.gpkg": (b"<?xml version='1.0'?>\n" + VRT.encode(),
                   "an OGR VRT document (a VRT can make GDAL read URLs and other files)"),
    "route.zip": (_zip({"route.vrt": VRT}), "an archive holding the VRT 'route.vrt' (a VRT can "
                                            "make GDAL read URLs and other files)"),
    "route.shp.zip": (_zip({"route.kml": VRT}), "an archive holding the VRT 'route.kml' (a VRT "
                                                "can make GDAL read URLs and other files)"),
}


@pytest.mark.parametrize("name", list(FILES))
def test_vrt_sources_are_refused_before_gdal_opens_them(geodata, tmp_path, no_gdal, name):
    content, found = FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(geodata)
    with pytest.raises(UnsafeSourceError) as info:
        import_geometry("railways", "rail-one", path, source_id="web-a", geodata=geodata)
    assert str(info.value) == (
        f"{path}: expected a local data file GDAL reads without the network (GeoPackage, "
        f"GeoJSON, KML, Shapefile…), found {found}; save a local copy in one of those formats")
    assert snapshot(geodata) == before


@pytest.mark.parametrize(("given", "found"), [
    ("https://127.0.0.1:9/route.geojson", "a URL or connection string"),
    ("http://127.0.0.1:9/route.gpkg", "a URL or connection string"),
    ("ftp://127.0.0.1:9/route.kml", "a URL or connection string"),
    ("/vsicurl/http://127.0.0.1:9/route.geojson", "a GDAL virtual file system path (/vsi…/)"),
    ("/vsis3/bucket/route.gpkg", "a GDAL virtual file system path (/vsi…/)"),
    ("WFS:http://127.0.0.1:9/wfs", "a URL or connection string"),
])
def test_network_paths_are_refused_by_the_cli(geodata, no_gdal, given, found):
    before = snapshot(geodata)
    result = runner.invoke(app, ["import", "railways", "rail-one", given, "--source", "web-a",
                                 "--yes", "-g", str(geodata)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: {given}: expected a local data file GDAL reads without the network "
        f"(GeoPackage, GeoJSON, KML, Shapefile…), found {found}; save a local copy in one of "
        "those formats\n")
    assert snapshot(geodata) == before


# --------------------------------------------------------------------------- many layers


def _kml(path: Path, layers: int, per_layer: int = 1) -> Path:
    folders = "".join(
        f"<Folder><name>L{i}</name>" + "".join(
            f"<Placemark><name>p{i}-{j}</name><Point><coordinates>{80 + j * 0.01},44"
            "</coordinates></Point></Placemark>" for j in range(per_layer)) + "</Folder>"
        for i in range(layers))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/'
                    f'kml/2.2"><Document>{folders}</Document></kml>', encoding="utf-8")
    return path


class Counting:
    """Wrap a pyogrio function and count its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def test_hundreds_of_layers_are_refused_quickly(tmp_path, monkeypatch):
    path = _kml(tmp_path / "many.kml", 400)
    read = Counting(pyogrio.read_dataframe)
    listed = Counting(pyogrio.list_layers)
    monkeypatch.setattr(pyogrio, "read_dataframe", read)
    monkeypatch.setattr(pyogrio, "list_layers", listed)
    start = time.perf_counter()
    with pytest.raises(CcamapError) as info:
        read_new_geometry(path)
    assert time.perf_counter() - start < 10
    assert str(info.value) == (
        f"{path}: expected at most 100 layers (limit ccamap.settings.MAX_IMPORT_LAYERS), "
        "found 400; save the layer you need on its own, or raise the limit if the file is genuine")
    assert (listed.calls, read.calls) == (1, 0)  # listed once, nothing read


def test_a_geopackage_of_too_many_tables_is_refused_before_gdal_opens_it(tmp_path, monkeypatch):
    path = tmp_path / "many.gpkg"
    for i in range(5):
        gpd.GeoDataFrame({"n": [i]}, geometry=[Point(80, 44)], crs="EPSG:4326").to_file(
            path, layer=f"t{i}", driver="GPKG", engine="pyogrio")

    def refuse(*args, **kwargs):  # pragma: no cover - reached only on failure
        raise AssertionError("GDAL opened the GeoPackage before its tables were counted")

    monkeypatch.setattr(settings, "MAX_IMPORT_LAYERS", 3)
    monkeypatch.setattr(pyogrio, "list_layers", refuse)
    with pytest.raises(CcamapError, match=r"expected at most 3 layers \(limit "
                                          r"ccamap.settings.MAX_IMPORT_LAYERS\), found 5"):
        read_new_geometry(path)


def test_reading_stops_once_the_selection_is_decided(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "MAX_IMPORT_LAYERS", 1000)
    path = _kml(tmp_path / "many.kml", 150)
    read = Counting(pyogrio.read_dataframe)
    listed = Counting(pyogrio.list_layers)
    monkeypatch.setattr(pyogrio, "read_dataframe", read)
    monkeypatch.setattr(pyogrio, "list_layers", listed)
    geom = read_new_geometry(path, feature_index=2)
    assert geom.equals(Point(80.0, 44.0))  # the first point of the third folder
    assert (listed.calls, read.calls) == (1, 3)
    with pytest.raises(CcamapError) as info:
        read_new_geometry(path)
    assert str(info.value) == (f"{path}: expected exactly one feature in the file, found 2 or "
                               "more; select one with --feature-index or --where")
    assert (listed.calls, read.calls) == (2, 5)


def test_layers_without_geometry_are_not_read(tmp_path, monkeypatch):
    path = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[ROUTE], crs="EPSG:4326").to_file(
        path, layer="route", driver="GPKG", engine="pyogrio")
    pyogrio.write_dataframe(gpd.pd.DataFrame({"a": [1, 2]}), path, layer="table",
                            driver="GPKG")
    read = Counting(pyogrio.read_dataframe)
    monkeypatch.setattr(pyogrio, "read_dataframe", read)
    assert read_new_geometry(path).equals(ROUTE)
    assert read.calls == 1


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize("drop", [("field_sources",), ("field_sources", "geometry_precision")])
def test_a_table_without_field_sources_is_a_clear_error(geodata, tmp_path, drop):
    path = tmp_path / "route.geojson"
    gpd.GeoDataFrame({"n": [1]}, geometry=[ROUTE], crs="EPSG:4326").to_file(
        path, driver="GeoJSON", engine="pyogrio")
    table = gpd.pd.read_csv(geodata / "railways.csv", dtype=str, keep_default_na=False)
    write_csv(geodata / "railways.csv", table.drop(columns=list(drop)).to_dict("records"),
              [c for c in table.columns if c not in drop])
    before = snapshot(geodata)
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "--yes", "-g", str(geodata)])
    assert result.exit_code == 1, result.output
    missing = ", ".join(c for c in ("field_sources", "geometry_precision") if c in drop)
    assert result.output == (
        f"error: {geodata / 'railways.csv'}: expected the column(s) {missing} (an import "
        "records the geometry's source and precision there), found no such column(s); add "
        f"{'them' if len(drop) > 1 else 'it'} to the header, empty, and import again\n")
    assert snapshot(geodata) == before


def test_a_full_disk_during_an_import_changes_nothing(geodata, tmp_path, monkeypatch):
    import errno
    import os

    from ccamap import fix as fix_module

    path = tmp_path / "route.geojson"
    gpd.GeoDataFrame({"n": [1]}, geometry=[ROUTE], crs="EPSG:4326").to_file(
        path, driver="GeoJSON", engine="pyogrio")
    before = {k: v for k, v in snapshot(geodata).items() if not k.startswith(".backup")}
    real_write, calls = fix_module._write_bytes, []

    def write(target: Path, data: bytes) -> None:
        calls.append(target)
        if len(calls) == 2:  # the geometry is staged, the table hits a full disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        real_write(target, data)

    monkeypatch.setattr(fix_module, "_write_bytes", write)
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "--yes", "-g", str(geodata)])
    assert result.exit_code == 1
    backup = next((geodata / ".backup").iterdir())
    assert result.output.endswith(
        f"error: {geodata / 'railways.csv'}: expected to write the imported geometry, found: No "
        "space left on device; no file changed; the previous version of every file to change "
        f"is in {backup}\n")
    assert {k: v for k, v in snapshot(geodata).items() if not k.startswith(".backup")} == before
