"""Reading lines compactly: the same checks, problems and geometries as reading them as lists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from ccamap import settings
from ccamap.coords import PackedLines, pack_lines
from ccamap.errors import LoadError
from ccamap.layers import LAYERS
from ccamap.readers import read_feature_collection
from ccamap.report import Report
from ccamap.validate import check_features, shapes

LINE = [[80.0, 44.0], [79.5, 43.8], [79.0, 43.5]]

#: (geometry, packed?): clean lines are packed; every other one keeps its lists.
GEOMETRIES = [
    ({"type": "LineString", "coordinates": LINE}, True),
    ({"type": "LineString", "coordinates": [[80, 44], [79, 43]]}, True),  # ints
    ({"type": "LineString", "coordinates": [[80.0, 44.0, 650.0], [79.0, 43.0, 700.0]]}, True),
    ({"type": "MultiLineString", "coordinates": [LINE, [[70.0, 42.0], [71.0, 42.5]]]}, True),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], [80.0, 44.0], [79.0, 43.0]]}, False),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], [79.0, 43.0, 600.0]]}, False),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], [1e400, 43.0]]}, False),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], ["79.0", 43.0]]}, False),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], [True, 43.0]]}, False),
    ({"type": "LineString", "coordinates": [[80.0, 44.0]]}, False),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], [79.0]]}, False),
    ({"type": "LineString", "coordinates": []}, False),
    ({"type": "LineString", "coordinates": [[[80.0, 44.0], [79.0, 43.0]]]}, False),
    ({"type": "MultiLineString", "coordinates": [LINE, []]}, False),
    ({"type": "MultiLineString", "coordinates": LINE}, False),
    ({"type": "MultiLineString", "coordinates": []}, False),
    ({"type": "LineString", "coordinates": [[180.5, 44.0], [-179.0, 43.0]]}, True),
    ({"type": "LineString", "coordinates": [[80.0, 44.0], [81.0, 45.0], [81.0, 44.0],
                                            [80.0, 45.0]]}, True),
    ({"type": "Point", "coordinates": [80.0, 44.0]}, False),
    ({"type": "lineString", "coordinates": LINE}, False),
]


def _feature(fid: str, geometry: object, **props: object) -> dict[str, object]:
    n = len(geometry["coordinates"]) if isinstance(geometry, dict) else 0  # type: ignore[arg-type]
    return {"type": "Feature", "geometry": geometry,
            "properties": {"id": fid, "waypoints": [f"P{i}" for i in range(n)],
                           "coordinate_sources": ["seed-001"] * n, **props}}


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "railways.geojson"
    # 1e400 is valid JSON (read as infinity); json.dumps would write Infinity, which is not
    path.write_text(json.dumps(doc).replace("Infinity", "1e400"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("geometry", "packed"), GEOMETRIES)
def test_pack_lines_takes_exactly_the_clean_lines(geometry, packed):
    result = pack_lines(geometry["coordinates"], geometry["type"])
    assert (result is not None) == packed
    if result is not None:
        coords = geometry["coordinates"]
        parts = coords if geometry["type"] == "MultiLineString" else [coords]
        lines = shapely.get_parts(result.geometry)
        assert [shapely.get_coordinates(p).tolist() for p in lines] == [
            [q[:2] for q in p] for p in parts]
        assert result.geometry.geom_type == geometry["type"]
        assert not result.geometry.has_z
        assert result.positions == sum(map(len, parts))
        assert result.altitude == (len(parts[0][0]) == 3)


@pytest.mark.parametrize(("geometry", "packed"), GEOMETRIES)
def test_compact_read_checks_features_as_the_lists_are_checked(tmp_path, geometry, packed):
    doc = {"type": "FeatureCollection",
           "features": [_feature("rail-a", geometry), _feature("rail-b", GEOMETRIES[0][0])]}
    path = _write(tmp_path, doc)
    plain = read_feature_collection(path)
    compact = read_feature_collection(path, compact=True)
    coords = compact["features"][0]["geometry"]["coordinates"]
    assert isinstance(coords, PackedLines) == packed
    assert compact["features"][0]["properties"] == plain["features"][0]["properties"]

    layer = LAYERS["railways"]
    want, got = Report(), Report()
    expected = check_features(plain, layer, str(path), want)
    found = check_features(compact, layer, str(path), got)
    assert got.problems == want.problems
    assert list(found["id"]) == list(expected["id"])
    assert list(found["waypoints"]) == list(expected["waypoints"])
    assert shapely.equals_exact(np.asarray(found.geometry), np.asarray(expected.geometry),
                                tolerance=0).all()


def test_compact_read_shares_repeated_texts_and_keeps_values(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        _feature("rail-a", {"type": "LineString", "coordinates": LINE},
                 mixed=["a", 1, 1.0, True, None], names=["x", "x"]),
    ]}
    path = _write(tmp_path, doc)
    props = read_feature_collection(path, compact=True)["features"][0]["properties"]
    assert props == doc["features"][0]["properties"]
    assert [type(v) for v in props["mixed"]] == [str, int, float, bool, type(None)]
    sources = props["coordinate_sources"]
    assert sources[0] is sources[1] is sources[2]
    assert props["names"][0] is props["names"][1]


def _limit_error(path: Path, *, compact: bool) -> str:
    with pytest.raises(LoadError) as info:
        read_feature_collection(path, compact=compact)
    return str(info.value)


def test_compact_read_keeps_the_vertex_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "MAX_VERTICES", 4)
    geometry = {"type": "MultiLineString", "coordinates": [LINE, [[70.0, 42.0], [71.0, 42.5]]]}
    path = _write(tmp_path, {"type": "FeatureCollection",
                             "features": [_feature("rail-a", geometry)]})
    message = _limit_error(path, compact=False)
    assert "found 5" in message
    assert _limit_error(path, compact=True) == message


@pytest.mark.parametrize("levels", [12, 13, 14, 15, 20])
def test_compact_read_keeps_the_nesting_limit(tmp_path, levels):
    """A line inside the properties counts its levels of arrays as the lists did."""
    value: object = {"type": "LineString", "coordinates": LINE}
    for _ in range(levels):
        value = {"x": value}
    path = _write(tmp_path, {"type": "FeatureCollection", "features": [
        _feature("rail-a", {"type": "LineString", "coordinates": LINE}, deep=value)]})
    if levels + 4 <= settings.MAX_NESTING:
        assert read_feature_collection(path, compact=True)["features"][0]["properties"]
        read_feature_collection(path)
    else:
        message = _limit_error(path, compact=False)
        assert "MAX_NESTING" in message
        assert _limit_error(path, compact=True) == message


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_shape_checks_in_chunks_find_what_one_pass_finds(monkeypatch):
    """Checked a few coordinates at a time, every geometry gets the same verdict and problems."""
    geoms = np.array([
        shapely.LineString([(80, 44), (79, 43)]),
        shapely.LineString([(80, 44), (81, 45), (81, 44), (80, 45)]),  # self-crossing
        shapely.LineString([(170, 44), (-170, 43)]),  # antimeridian
        shapely.LineString([(44, 80), (43, 79)]),  # lon and lat swapped
        shapely.Point(80, 44),
        shapely.from_wkt("LINESTRING (80 44, NaN 43)"),
        shapely.Polygon([(80, 44), (81, 45), (81, 44), (80, 45)]),  # invalid
        shapely.MultiLineString([[(80, 44), (79, 43)], [(500000, 4e6), (500100, 4e6)]]),
        shapely.LineString([(80, 44), (79, 43), (78, 43), (77, 42), (76, 42)]),
    ], dtype=object)
    fids = [f"f-{i}" for i in range(len(geoms))]
    ok, found = shapes.check_shapes(geoms, fids, "f.geojson")
    assert not ok.all() and found
    for chunk in (1, 2, 3, 5):
        monkeypatch.setattr(shapes, "_CHUNK", chunk)
        assert shapes.check_shapes(geoms, fids, "f.geojson")[0].tolist() == ok.tolist()
        assert shapes.check_shapes(geoms, fids, "f.geojson")[1] == found
