"""Packed pages of large layers: compressed page data and binary line geometry."""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import shapely

from ccamap.render.geometry import lod_bands, vertex_levels
from ccamap.render.packing import PREVIEW_ZOOM, LineArrays, line_arrays, pack, unpack
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
    data = {"kind": "line", "rows": [], "geometry": line_arrays(LINES[:1]), "bands": BANDS}
    packed = pack(data)
    assert packed == pack(data)
    assert set(json.loads(packed.text)) == {"kind", "packed", "rest"}
    assert packed.rest is not None
    assert not set(packed.text) & set("<>&'")
    assert not set(packed.rest) & set("<>&'\"\\")  # inside a script's quotes


BANDS = [[b.min_zoom, b.max_zoom] for b in lod_bands()]


def _walk(seed: int, n: int, x: float, y: float) -> np.ndarray:
    steps = np.random.default_rng(seed).normal(0, 0.004, (n, 2))
    return np.cumsum(steps, axis=0) + np.array([x, y])


WALKS = [
    shapely.MultiLineString([_walk(3, 400, 75.0, 45.0), _walk(4, 250, 76.0, 45.5)]),
    None,
    shapely.LineString([(70.0, 45.0), (70.5, 45.2)]),
    LINES[0],
]


def test_lines_come_in_a_first_part_and_the_rest():
    whole = line_arrays(WALKS)
    rows = [[f"w{i}", f"P0\nP1 of {i}"] for i in range(len(WALKS))]
    data = {"kind": "line", "columns": ["id", "waypoints"], "rows": rows, "geometry": whole,
            "bands": BANDS}
    packed = pack(data)
    assert data["rows"] is rows and rows[0] == ["w0", "P0\nP1 of 0"]  # left as it was
    band = max(b for b, (_, last) in enumerate(BANDS) if last <= PREVIEW_ZOOM)
    # the first part: the lines as drawn up to PREVIEW_ZOOM, every part's ends among them
    # the first part's table leaves the names of the vertices to the rest
    assert unpack(packed.text)["rows"] == [[f"w{i}", None] for i in range(len(WALKS))]
    assert "P1 of" not in zlib.decompress(base64.b64decode(
        json.loads(packed.text)["packed"]), -15).decode("utf-8", "replace")
    first = unpack(packed.text)["geometry"]
    shown = whole.levels <= band
    assert 0.02 < shown.mean() < 0.5
    assert np.array_equal(first.quantized, whole.quantized[shown])
    assert np.array_equal(first.levels, whole.levels[shown])
    assert first.counts.tolist() == [int(shown[:650].sum()), 0, 2, int(shown[652:].sum())]
    assert first.parts[0] is not None and first.parts[1:] == [None, None, None]
    assert first.parts[0][0] == 0 and whole.parts[0] == [0, 400]
    assert first.quantized[first.parts[0][1]].tolist() == whole.quantized[400].tolist()
    # with the rest: the whole lines, exactly
    assert unpack(packed)["rows"] == rows
    got = unpack(packed)["geometry"]
    assert got.counts.tolist() == whole.counts.tolist() == [650, 0, 2, 300]
    assert got.parts == whole.parts
    assert np.array_equal(got.levels, whole.levels)
    assert np.array_equal(got.quantized, whole.quantized)
    # lines drawn whole at every zoom up to PREVIEW_ZOOM come in one part
    assert pack({"kind": "line", "rows": [], "geometry": whole, "bands": BANDS},
                preview_zoom=18).rest is None


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
