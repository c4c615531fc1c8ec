"""Large layers in a page: the page data compressed, and line geometry as binary arrays.

A layer drawn on a canvas (thousands of features) is carried as one base64 text of raw deflate
(``{"kind": ..., "packed": "..."}``), which the page inflates with the browser's own
``DecompressionStream`` (no library, no network; ``assets/ccamap.js``, ``unpack``). Inside:

- a little-endian ``uint32``: the length of the head;
- the head: the layer's page data (:func:`ccamap.render.pagedata.layer_geojson`) as UTF-8 JSON,
  without the line geometry, plus ``counts`` (vertices per feature) and ``parts`` (per feature
  ``null``, or the first vertex of each part);
- for lines, per vertex its level (:func:`ccamap.render.geometry.vertex_levels`, one byte),
  then the coordinates, quantized to :data:`ccamap.render.geometry.PRECISION` decimals: the
  first vertex of each line as two ``int32`` (x, y), then every other vertex as the difference
  from the one before (x then y), zigzagged, in byte planes (every value's lowest byte, then
  the next ...), as many as the largest difference needs (``planes`` in the head).

The low plane of a random walk is nearly random, the next one skewed: deflate takes it to about
3 bytes a vertex (4 in base64), against 5–6 as varint text.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ccamap.render.geometry import PRECISION, feature_chunks, vertex_levels

__all__ = ["LineArrays", "line_arrays", "pack", "unpack"]

_SCALE = 10**PRECISION


@dataclass(frozen=True)
class LineArrays:
    """Lines as arrays: what a packed page carries of their geometry.

    Attributes
    ----------
    counts
        Vertices per feature.
    parts
        Per feature ``None`` (one part) or the index of the first vertex of each part.
    levels
        Per vertex, the first zoom band that draws it.
    quantized
        The vertices, ``(n, 2)`` integers of 10^-PRECISION degrees.
    """

    counts: np.ndarray
    parts: list[list[int] | None]
    levels: np.ndarray
    quantized: np.ndarray


def line_arrays(geoms: Any) -> LineArrays:
    """Return lines (or multi-lines; ``None`` for none) as :class:`LineArrays`."""
    geoms = np.asarray(geoms, dtype=object)
    counts = shapely.get_num_coordinates(geoms).astype(np.int64)
    starts = np.cumsum(counts) - counts
    parts: list[list[int] | None] = [None] * len(geoms)
    pieces, owner = shapely.get_parts(geoms, return_index=True)
    if np.bincount(owner, minlength=len(geoms)).max(initial=0) > 1:
        sizes = shapely.get_num_coordinates(pieces)
        # each part's first vertex, counted from its feature's first (parts come in order)
        within = (np.cumsum(sizes) - sizes - starts[owner]).tolist()
        grouped: dict[int, list[int]] = {}
        for i, at in zip(owner.tolist(), within, strict=True):
            grouped.setdefault(i, []).append(at)
        for i, firsts in grouped.items():
            if len(firsts) > 1:
                parts[i] = firsts
    del pieces, owner
    quantized = np.empty((int(counts.sum()), 2), dtype=np.int32)
    for a, b in feature_chunks(geoms, _CHUNK):
        coords = shapely.get_coordinates(geoms[a:b])
        quantized[starts[a]:starts[a] + len(coords)] = np.rint(coords * _SCALE)
    levels = vertex_levels(geoms).astype(np.uint8)
    return LineArrays(counts, parts, levels, quantized)


#: Vertices handled at once (the float copies stay small).
_CHUNK = 1_000_000


def _coordinates(lines: LineArrays) -> tuple[int, bytes]:
    """Return how many byte planes the deltas take, and the coordinates' bytes.

    The first vertex of each line as two ``int32`` (x, y), then every other vertex as the
    difference from the one before, zigzagged, in as many byte planes as the largest needs.
    """
    q = lines.quantized
    n = len(q)
    starts = (np.cumsum(lines.counts) - lines.counts)[lines.counts > 0]
    rest = np.ones(n, dtype=bool)
    rest[starts] = False
    z = np.empty((n - len(starts), 2), dtype=np.uint32)
    top = 0
    done = 0
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        chunk = q[max(a - 1, 0):b].astype(np.int64)
        if a == 0:  # the first vertex is a line's first: its delta is not kept
            chunk = np.concatenate([np.zeros((1, 2), dtype=np.int64), chunk])
        delta = np.diff(chunk, axis=0)[rest[a:b]]
        if len(delta) and np.abs(delta).max() >= 2**31:
            msg = f"expected coordinate steps under 2^31 units, found {int(np.abs(delta).max())}"
            raise ValueError(msg)
        zz = (delta << 1) ^ (delta >> 63)
        top = max(top, int(zz.max(initial=0)))
        z[done:done + len(zz)] = zz
        done += len(zz)
    planes = max(1, (top.bit_length() + 7) // 8)
    firsts = q[starts].astype("<i4").tobytes()
    low_first = z.astype("<u4", copy=False).view(np.uint8).reshape(-1, 4)
    return planes, firsts + low_first[:, :planes].T.tobytes()


def pack(data: dict[str, Any]) -> str:
    """Return a layer's page data as the JavaScript object a page inflates (see the module).

    ``data["geometry"]``, for lines, is :class:`LineArrays`; the rest is JSON.
    """
    head = {k: v for k, v in data.items() if k != "geometry"}
    body = b""
    geometry = data.get("geometry")
    if isinstance(geometry, LineArrays):
        planes, coordinates = _coordinates(geometry)
        head["counts"] = geometry.counts.tolist()
        head["parts"] = geometry.parts
        head["planes"] = planes
        body = geometry.levels.tobytes() + coordinates
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")
    raw = len(text).to_bytes(4, "little") + text + body
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = base64.b64encode(deflate.compress(raw) + deflate.flush()).decode("ascii")
    return json.dumps({"kind": data["kind"], "packed": packed}, separators=(",", ":"))


def unpack(text: str) -> dict[str, Any]:
    """Return the page data :func:`pack` wrote, lines as :class:`LineArrays` (for tests)."""
    raw = zlib.decompress(base64.b64decode(json.loads(text)["packed"]), -15)
    size = int.from_bytes(raw[:4], "little")
    data: dict[str, Any] = json.loads(raw[4:4 + size].decode("utf-8"))
    if "counts" in data:
        counts = np.asarray(data.pop("counts"), dtype=np.int64)
        parts = data.pop("parts")
        n = int(counts.sum())
        body = np.frombuffer(raw[4 + size:], dtype=np.uint8)
        levels = body[:n].copy()
        lines = int((counts > 0).sum())
        firsts = body[n:n + 8 * lines].view("<i4").reshape(-1, 2).astype(np.int64)
        planes = body[n + 8 * lines:].reshape(data.pop("planes"), -1).astype(np.int64)
        z = (planes << (8 * np.arange(len(planes)))[:, None]).sum(axis=0)
        starts = (np.cumsum(counts) - counts)[counts > 0]
        rest = np.ones(n, dtype=bool)
        rest[starts] = False
        delta = np.zeros((n, 2), dtype=np.int64)
        delta[rest] = ((z >> 1) ^ -(z & 1)).reshape(-1, 2)
        run = np.cumsum(delta, axis=0)
        group = np.repeat(np.arange(lines), counts[counts > 0])
        quantized = firsts[group] + run - run[starts][group]
        data["geometry"] = LineArrays(counts, parts, levels, quantized)
    return data
