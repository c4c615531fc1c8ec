from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, Point, box

from ccamap import geo
from ccamap.geo import geodesic_length_km, geodesic_lengths_km, km_by_country

GEOD = Geod(ellps="WGS84")


def test_lengths_match_pyproj_per_geometry():
    geoms = [LineString([(70, 45), (71, 45.5), (72, 45)]),
             MultiLineString([[(60, 40), (61, 40)], [(62, 41), (62, 42)]]),
             Point(70, 45), box(70, 40, 71, 41), None]
    expected = [GEOD.geometry_length(g) / 1000 if g is not None else 0.0 for g in geoms]
    assert geodesic_lengths_km(geoms) == pytest.approx(expected, rel=1e-12)
    series = geodesic_length_km(gpd.GeoSeries(geoms[:2], crs="EPSG:4326"))
    assert list(series) == [round(v, 1) for v in expected[:2]]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8])
def test_lengths_measured_in_chunks_are_the_same(monkeypatch, chunk):
    """Parts measured a few coordinates at a time give the same figures, to the bit."""
    geoms = [LineString([(70, 45), (71, 45.5), (72, 45)]),
             MultiLineString([[(60, 40), (61, 40)], [(62, 41), (62, 42), (63, 42.5)]]),
             Point(70, 45), box(70, 40, 71, 41), None,
             LineString([(60 + i / 10, 40 + (i % 3) / 10) for i in range(12)])]
    whole = geodesic_lengths_km(geoms)
    monkeypatch.setattr(geo, "_CHUNK", chunk)
    assert geodesic_lengths_km(geoms).tolist() == whole.tolist()


def test_km_by_country_splits_a_line_at_the_border():
    line = LineString([(69, 45), (71, 45)])
    [km] = km_by_country([line, Point(70, 45), None], ["AAA", "BBB"],
                         [box(60, 40, 70, 50), box(70, 40, 80, 50)])[:1]
    half = round(GEOD.geometry_length(LineString([(69, 45), (70, 45)])) / 1000, 1)
    assert km == {"AAA": half, "BBB": half}
    assert km_by_country([Point(70, 45)], ["AAA"], [box(60, 40, 80, 50)]) == [{}]
