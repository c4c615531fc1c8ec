"""Packed pages of large layers: compressed page data and binary line geometry."""

from __future__ import annotations

import json

import numpy as np
import shapely

from ccamap.render.geometry import vertex_levels
from ccamap.render.packing import LineArrays, line_arrays, pack, unpack
from ccamap.render.pagedata import _row

LINES = [
    shapely.LineString(np.cumsum(np.random.default_rng(7).normal(0, 0.01, (300, 2)), axis=0)
                       + np.array([76.0, 44.0])),
    shapely.MultiLineString([[(80.0, 44.0), (80.5, 44.25)], [(81.0, 44.5), (81.00001, 44.5)],
                             [(82.0, 45.0), (82.1, 45.0), (82.2, 45.1)]]),
    shapely.LineString([(0.0, 0.0), (-179.99999, -84.99999), (179.99999, 84.99999)]),
    shapely.LineString([(76.0, 44.0), (76.001, 44.0), (76.001, 44.001), (76.0, 44.0)]),
]


def test_lines_round_trip_through_a_packed_page():
    data = {"kind": "line", "rows": [["a", "<b>&"], ["c", None], ["d", 1], ["e", 2.5]],
            "geometry": line_arrays(LINES)}
    got = unpack(pack(data))
    assert got["rows"] == data["rows"] and got["kind"] == "line"
    lines = got["geometry"]
    assert isinstance(lines, LineArrays)
    assert lines.counts.tolist() == [300, 7, 3, 4]
    assert lines.parts == [None, [0, 2, 4], None, None]
    want = np.rint(shapely.get_coordinates(np.array(LINES)) * 1e5).astype(np.int64)
    assert np.array_equal(lines.quantized, want)
    assert np.array_equal(lines.levels, vertex_levels(LINES).astype(np.uint8))


def test_a_packed_page_is_deterministic_and_safe_in_a_script():
    data = {"kind": "line", "rows": [], "geometry": line_arrays(LINES[:1])}
    text = pack(data)
    assert text == pack(data)
    assert set(json.loads(text)) == {"kind", "packed"}
    assert not set(text) & set("<>&'")


def test_point_layers_pack_their_table_only():
    data = {"kind": "point", "points": "AAAA", "rows": [["x"]]}
    assert unpack(pack(data)) == data


def test_chunked_work_gives_the_same_page(monkeypatch):
    from ccamap.render import geometry, packing

    data = {"kind": "line", "rows": [], "geometry": line_arrays(LINES)}
    whole = pack(data)
    monkeypatch.setattr(packing, "_CHUNK", 7)
    monkeypatch.setattr(geometry, "_CHUNK_VERTICES", 50)
    assert pack({"kind": "line", "rows": [], "geometry": line_arrays(LINES)}) == whole


def test_large_layers_join_waypoint_names_unless_a_name_holds_the_separator():
    assert _row({"waypoints": ["Urumqi", "Jinghe"]}, ["waypoints"], join=True) == [
        "Urumqi\nJinghe"]
    assert _row({"waypoints": ["Urumqi\nSouth", "Jinghe"]}, ["waypoints"], join=True) == [
        ["Urumqi\nSouth", "Jinghe"]]
    assert _row({"waypoints": ["Urumqi", "Jinghe"]}, ["waypoints"]) == [["Urumqi", "Jinghe"]]
    assert _row({"waypoints": ["", ""]}, ["waypoints"], join=True) == [2]  # unnamed: a count
