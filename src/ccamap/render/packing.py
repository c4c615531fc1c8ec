"""Large layers in a page: the page data compressed, and line geometry as binary arrays.

A layer drawn on a canvas (thousands of features) is carried as one base64 text of raw deflate
(``{"kind": ..., "packed": "..."}``), which the page inflates with the browser's own
``DecompressionStream`` (no library, no network; ``assets/ccamap.js``, ``unpack``). Inside:

- a little-endian ``uint32``: the length of the head;
- the head: the layer's page data (:func:`ccamap.render.pagedata.layer_geojson`) as UTF-8 JSON,
  without the line geometry, plus ``counts`` (vertices per feature) and ``parts`` (per feature
  ``null``, or the first vertex of each part);
- for lines, per vertex its level (:func:`ccamap.render.geometry.vertex_levels`, one byte),
  then the coordinates: quantized to :data:`ccamap.render.geometry.PRECISION` decimals, each the
  difference from the previous vertex of its feature (the first from 0), x then y, zigzagged to
  ``uint32`` and written as four byte planes (every value's lowest byte, then the next ...).

Small deltas leave the high planes all zero and the low ones nearly random: deflate takes a
random-walk line to about 3 bytes a vertex (4 in base64), against 5–6 as varint text.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ccamap.render.geometry import PRECISION, vertex_levels

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
    coords = shapely.get_coordinates(geoms)
    parts: list[list[int] | None] = [None] * len(geoms)
    pieces, owner = shapely.get_parts(geoms, return_index=True)
    multi = np.flatnonzero(np.bincount(owner, minlength=len(geoms)) > 1)
    if multi.size:
        sizes = shapely.get_num_coordinates(pieces)
        for i in multi.tolist():
            within = sizes[owner == i]
            parts[i] = [0, *np.cumsum(within)[:-1].tolist()]
    levels = vertex_levels(geoms) if len(coords) else np.zeros(0, dtype=np.int8)
    return LineArrays(counts, parts, levels.astype(np.uint8),
                      np.rint(coords * _SCALE).astype(np.int64))


def _planes(lines: LineArrays) -> bytes:
    q = lines.quantized
    prev = np.zeros_like(q)
    prev[1:] = q[:-1]
    starts = (np.cumsum(lines.counts) - lines.counts)[lines.counts > 0]
    prev[starts] = 0
    delta = (q - prev).ravel()
    if len(delta) and np.abs(delta).max() >= 2**31:
        msg = f"expected coordinate steps under 2^31 units, found {np.abs(delta).max()}"
        raise ValueError(msg)
    z = ((delta << 1) ^ (delta >> 63)).astype("<u4")
    return z.view(np.uint8).reshape(-1, 4).T.tobytes()


def pack(data: dict[str, Any]) -> str:
    """Return a layer's page data as the JavaScript object a page inflates (see the module).

    ``data["geometry"]``, for lines, is :class:`LineArrays`; the rest is JSON.
    """
    head = {k: v for k, v in data.items() if k != "geometry"}
    body = b""
    geometry = data.get("geometry")
    if isinstance(geometry, LineArrays):
        head["counts"] = geometry.counts.tolist()
        head["parts"] = geometry.parts
        body = geometry.levels.tobytes() + _planes(geometry)
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
        z = body[n:].reshape(4, -1).T.copy().view("<u4").ravel().astype(np.int64)
        delta = ((z >> 1) ^ -(z & 1)).reshape(-1, 2)
        group = np.repeat(np.arange(len(counts)), counts)
        total = np.cumsum(delta, axis=0)
        starts = np.cumsum(counts) - counts
        before = np.zeros_like(total)
        before[1:] = total[:-1]
        quantized = total - before[starts][group] if n else total
        data["geometry"] = LineArrays(counts, parts, levels, quantized)
    return data
