"""ccamap import: better geometry from GeoJSON, GeoPackage and KML files in projected CRSs."""

from __future__ import annotations

import csv
import json

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from ccamap.cli import app
from ccamap.errors import CcamapError, UsageError
from ccamap.importer import import_geometry
from ccamap.pipeline import load

runner = CliRunner()

#: A better railway route (lon/lat) near the fixture's schematic line.
ROUTE = LineString([(80.0, 44.0), (79.6, 43.8), (79.0, 43.55), (78.0, 43.3), (77.0, 43.2)])


def _write(path, geoms, crs, driver, **columns):
    gdf = gpd.GeoDataFrame({"name": [f"f{i}" for i in range(len(geoms))], **columns},
                           geometry=geoms, crs="EPSG:4326")
    if crs != "EPSG:4326":
        gdf = gdf.to_crs(crs)
    gdf.to_file(path, driver=driver, engine="pyogrio")
    return path


def _rows(path):
    return {r["id"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}


CASES = [("route.geojson", "GeoJSON", "EPSG:3857"), ("route.gpkg", "GPKG", "EPSG:32643"),
         ("route.kml", "KML", "EPSG:4326")]


@pytest.mark.parametrize(("name", "driver", "crs"), CASES)
def test_import_replaces_geometry_and_records_source(geodata, tmp_path, name, driver, crs):
    path = _write(tmp_path / name, [ROUTE], crs, driver)
    before_csv = (geodata / "railways.csv").read_bytes()
    seen = []
    result = import_geometry("railways", "rail-one", path, source_id="web-a", geodata=geodata,
                             confirm=lambda p: seen.append(p) or True)
    assert result.applied and seen == [result.preview]
    preview = result.preview
    assert (preview.old_vertices, preview.new_vertices) == (3, 5)
    assert preview.old_length_km == pytest.approx(263.4, abs=0.2)
    assert preview.new_length_km == pytest.approx(262.4, abs=0.2)
    assert preview.max_distance_km == pytest.approx(5.96, abs=0.05)
    assert (result.backup / "railways.csv").read_bytes() == before_csv
    doc = json.loads((geodata / "railways.geojson").read_text(encoding="utf-8"))
    props = doc["features"][0]["properties"]
    assert props["coordinate_sources"] == ["web-a"] * 5 and len(props["waypoints"]) == 5
    got = shapely.geometry.shape(doc["features"][0]["geometry"])
    assert shapely.hausdorff_distance(got, ROUTE) < 1e-5  # reprojected back to lon/lat
    row = _rows(geodata / "railways.csv")["rail-one"]
    assert row["geometry_precision"] == "exact"
    assert row["sources"] == "seed-001;web-a"
    assert "; geometry_precision=web-a" in row["field_sources"]
    # no --route-error-km: the old estimate (10) + the largest move (5.96), rounded up
    assert (preview.route_error_km, preview.route_error_basis) == (16.0, "carried")
    assert row["route_error_km"] == "16"
    assert row["field_sources"].endswith("; route_error_km=seed-001,web-a")
    data = load(geodata)  # the changed geodata still validates
    assert data.layers["railways"].iloc[0]["geometry_precision"] == "exact"


def test_import_point_by_where_keeps_name(geodata, tmp_path):
    path = _write(tmp_path / "pts.gpkg", [Point(80.31, 44.21), Point(80.5, 44.5)],
                  "EPSG:32644", "GPKG")
    result = import_geometry("power_plants", "powe-one", path, source_id="web-a",
                             geodata=geodata, where="name = 'f1'", precision="approximate")
    assert result.applied and result.preview.old_length_km is None
    doc = json.loads((geodata / "power_plants.geojson").read_text(encoding="utf-8"))
    assert doc["features"][0]["geometry"]["coordinates"] == pytest.approx([80.5, 44.5])
    assert doc["features"][0]["properties"]["waypoints"] == ["P0"]
    assert _rows(geodata / "power_plants.csv")["powe-one"]["geometry_precision"] == \
        "approximate"


def test_declined_import_changes_nothing(geodata, tmp_path):
    path = _write(tmp_path / "r.geojson", [ROUTE], "EPSG:3857", "GeoJSON")
    before = {p.name: p.read_bytes() for p in geodata.iterdir()}
    result = import_geometry("railways", "rail-one", path, source_id="web-a",
                             geodata=geodata, confirm=lambda p: False)
    assert not result.applied and result.backup is None
    assert {p.name: p.read_bytes() for p in geodata.iterdir()} == before


@pytest.mark.parametrize(("kwargs", "geoms", "message"), [
    ({}, [ROUTE, ROUTE], "expected exactly one feature in the file, found 2; select one"),
    ({"where": "name = 'nope'"}, [ROUTE], "expected exactly one feature matching"),
    ({"feature_index": 3}, [ROUTE], "expected a feature index 0..0, found 3"),
    ({}, [LineString([(10.0, 10.0), (11.0, 11.0)])], "out-of-region"),
    ({}, [Point(80.0, 44.0)], "geometry-type"),
    ({"source_id": "nope"}, [ROUTE], "expected a source id, found no 'nope'"),
    ({"feature_id": "rail-zzz"}, [ROUTE], "expected one feature and one row with id"),
    ({"precision": "schematic"}, [ROUTE], "schematic lines need a name per vertex"),
])
def test_import_refuses(geodata, tmp_path, kwargs, geoms, message):
    path = _write(tmp_path / "bad.gpkg", geoms, "EPSG:3857", "GPKG")
    before = {p.name: p.read_bytes() for p in geodata.iterdir()}
    args = {"source_id": "web-a", "feature_id": "rail-one", **kwargs}
    fid = args.pop("feature_id")
    with pytest.raises(CcamapError, match=message):
        import_geometry("railways", fid, path, geodata=geodata, **args)
    assert {p.name: p.read_bytes() for p in geodata.iterdir()} == before


def test_unknown_layer_is_usage_error(geodata, tmp_path):
    with pytest.raises(UsageError, match="unknown layer 'canals'"):
        import_geometry("canals", "x", tmp_path / "x.gpkg", source_id="web-a",
                        geodata=geodata)


def test_cli_import_with_yes(geodata, tmp_path):
    path = _write(tmp_path / "route.gpkg", [ROUTE, ROUTE.reverse()], "EPSG:32643", "GPKG")
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "--feature-index", "0", "--yes", "-g", str(geodata)])
    assert result.exit_code == 0, result.output
    assert "railways/rail-one: length 263.4 km ->" in result.output
    assert "vertices 3 -> 5" in result.output
    assert "replaced; backup in" in result.output
    assert _rows(geodata / "railways.csv")["rail-one"]["geometry_precision"] == "exact"


def test_cli_import_declined_and_refused(geodata, tmp_path):
    path = _write(tmp_path / "route.geojson", [ROUTE], "EPSG:3857", "GeoJSON")
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "-g", str(geodata)], input="n\n")
    assert result.exit_code == 0 and "not changed" in result.output
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "missing-src", "--yes", "-g", str(geodata)])
    assert result.exit_code == 1
    assert "expected a source id, found no 'missing-src'" in result.output


def test_import_sets_given_route_error(geodata, tmp_path):
    path = _write(tmp_path / "r.gpkg", [ROUTE], "EPSG:32643", "GPKG")
    result = import_geometry("railways", "rail-one", path, source_id="web-a",
                             geodata=geodata, route_error_km=0.5)
    assert (result.preview.route_error_km, result.preview.route_error_basis) == (0.5, "given")
    assert "route_error_km 0.5 (as given)" in result.preview.format()
    row = _rows(geodata / "railways.csv")["rail-one"]
    assert row["route_error_km"] == "0.5"
    assert "route_error_km=web-a" in row["field_sources"]
    assert "seed-001,web-a" not in row["field_sources"]
    assert load(geodata).layers["railways"].iloc[0]["route_error_km"] == 0.5


@pytest.mark.parametrize(("layer", "fid", "value", "message"), [
    ("railways", "rail-one", -1.0, "expected --route-error-km a finite number of km, 0 or "
                                   "more, found -1.0"),
    ("railways", "rail-one", float("nan"), "found nan"),
    ("railways", "rail-one", float("inf"), "found inf"),
    ("power_plants", "powe-one", 1.0, "only for a line layer .* point layer 'power_plants'"),
])
def test_import_refuses_bad_route_error(geodata, tmp_path, layer, fid, value, message):
    path = _write(tmp_path / "r.gpkg", [ROUTE], "EPSG:3857", "GPKG")
    before = {p.name: p.read_bytes() for p in geodata.iterdir()}
    with pytest.raises(CcamapError, match=message):
        import_geometry(layer, fid, path, source_id="web-a", geodata=geodata,
                        route_error_km=value)
    assert {p.name: p.read_bytes() for p in geodata.iterdir()} == before


def test_import_of_a_line_without_estimate_needs_route_error(geodata, tmp_path):
    table = list(csv.DictReader((geodata / "railways.csv").open(encoding="utf-8")))
    table[0]["route_error_km"] = ""
    with (geodata / "railways.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    path = _write(tmp_path / "r.gpkg", [ROUTE], "EPSG:3857", "GPKG")
    with pytest.raises(CcamapError, match="expected --route-error-km for 'rail-one'"):
        import_geometry("railways", "rail-one", path, source_id="web-a", geodata=geodata)
    result = import_geometry("railways", "rail-one", path, source_id="web-a",
                             geodata=geodata, route_error_km=2)
    assert result.applied
    assert _rows(geodata / "railways.csv")["rail-one"]["route_error_km"] == "2"


def test_cli_import_route_error_option(geodata, tmp_path):
    path = _write(tmp_path / "route.gpkg", [ROUTE], "EPSG:32643", "GPKG")
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "--route-error-km", "1.5", "--yes", "-g",
                                 str(geodata)])
    assert result.exit_code == 0, result.output
    assert "route_error_km 1.5 (as given)" in result.output
    assert _rows(geodata / "railways.csv")["rail-one"]["route_error_km"] == "1.5"
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "--route-error-km", "-2", "--yes", "-g",
                                 str(geodata)])
    assert result.exit_code == 1
    assert "expected --route-error-km a finite number of km, 0 or more, found -2.0" in \
        result.output
    result = runner.invoke(app, ["import", "railways", "rail-one", str(path), "--source",
                                 "web-a", "--route-error-km", "far", "--yes", "-g",
                                 str(geodata)])
    assert result.exit_code == 2 and "--route-error-km" in result.output
