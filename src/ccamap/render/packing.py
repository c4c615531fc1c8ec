"""Large layers in a page: the page data compressed, and line geometry as binary arrays.

A layer drawn on a canvas (thousands of features) is carried as one base64 text of raw deflate
(``{"kind": ..., "packed": "..."}``), which the page inflates with the browser's own
``DecompressionStream`` (no library, no network; ``assets/runtime/data.js``, ``unpack``). Inside:

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

Lines come in two parts (:class:`Packed`), so that a page draws its lines before it has read
them all. The first, in the page's map script, holds the table and the lines as drawn up to
:data:`PREVIEW_ZOOM` (the vertices of those zoom bands' levels: a tenth of a dense layer's),
in the format above. The second, ``rest``, in a script after it, holds what completes them:

- a ``uint32`` and a head: ``counts`` and ``parts`` of the whole lines, ``band`` (the last
  band of the first part) and ``planes``;
  and, when the table has a ``waypoints`` column (a name a vertex, for the cards), its values
  (the first part's table holds ``null`` there);
- every vertex's level (those of level ``band`` or less are the first part's, in order);
- the other vertices, each as the difference from the vertex before it in its line, zigzagged,
  in byte planes as above (a line's first vertex is always in the first part).
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

__all__ = ["PREVIEW_ZOOM", "LineArrays", "Packed", "line_arrays", "pack", "unpack"]

_SCALE = 10**PRECISION

#: The last zoom that a large line layer's first part draws in full (a region of a few
#: countries on a laptop's screen).
PREVIEW_ZOOM = 6
#: The column of a name a vertex, which comes with the rest of the lines.
_WAYPOINTS = "waypoints"


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
    starts = (np.cumsum(lines.counts) - lines.counts)[lines.counts > 0]
    rest = np.ones(len(q), dtype=bool)
    rest[starts] = False
    planes, deltas = _delta_planes(q, rest)
    return planes, q[starts].astype("<i4").tobytes() + deltas


def _delta_planes(q: np.ndarray, keep: np.ndarray) -> tuple[int, bytes]:
    """Return the byte planes of the zigzagged differences of the vertices ``keep`` marks.

    Each from the vertex before it (never a line's first vertex); as many planes as the
    largest difference needs, and their bytes.
    """
    n = len(q)
    z = np.empty((int(keep.sum()), 2), dtype=np.uint32)
    top = 0
    done = 0
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        chunk = q[max(a - 1, 0):b].astype(np.int64)
        if a == 0:  # the first vertex is a line's first: its delta is not kept
            chunk = np.concatenate([np.zeros((1, 2), dtype=np.int64), chunk])
        delta = np.diff(chunk, axis=0)[keep[a:b]]
        if len(delta) and np.abs(delta).max() >= 2**31:
            msg = f"expected coordinate steps under 2^31 units, found {int(np.abs(delta).max())}"
            raise ValueError(msg)
        zz = (delta << 1) ^ (delta >> 63)
        top = max(top, int(zz.max(initial=0)))
        z[done:done + len(zz)] = zz
        done += len(zz)
    planes = max(1, (top.bit_length() + 7) // 8)
    low_first = z.astype("<u4", copy=False).view(np.uint8).reshape(-1, 4)
    return planes, low_first[:, :planes].T.tobytes()


def _split(lines: LineArrays, band: int) -> tuple[LineArrays, np.ndarray]:
    """Return the lines as drawn up to ``band`` (its vertices), and which vertices those are."""
    first = lines.levels <= band
    owner = np.repeat(np.arange(len(lines.counts)), lines.counts)
    counts = np.bincount(owner[first], minlength=len(lines.counts)).astype(np.int64)
    parts: list[list[int] | None] = [None] * len(lines.counts)
    starts = np.cumsum(lines.counts) - lines.counts
    before: np.ndarray = np.cumsum(first) - first  # first-part vertices before each vertex
    for i, firsts in enumerate(lines.parts):
        if firsts is not None:  # every part's ends are of level 0
            at = starts[i] + np.asarray(firsts)
            parts[i] = (before[at] - before[starts[i]]).tolist()
    shown = LineArrays(counts, parts, lines.levels[first], lines.quantized[first])
    return shown, first


def _deflate_b64(raw: bytes) -> str:
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    return base64.b64encode(deflate.compress(raw) + deflate.flush()).decode("ascii")


def _framed(head: dict[str, Any], body: bytes) -> bytes:
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")
    return len(text).to_bytes(4, "little") + text + body


@dataclass(frozen=True)
class Packed:
    """A packed layer: the object its page's map script gives, and the rest of its lines.

    Attributes
    ----------
    text
        The JavaScript object (``{"kind": ..., "packed": ...}``; with ``"rest": true`` when
        ``rest`` follows).
    rest
        Base64 of what completes the lines (see the module), or ``None``.
    """

    text: str
    rest: str | None = None


def pack(data: dict[str, Any], *, preview_zoom: int | None = PREVIEW_ZOOM) -> Packed:
    """Return a layer's page data as :class:`Packed` (see the module).

    ``data["geometry"]``, for lines, is :class:`LineArrays`; the rest is JSON. Lines come in two
    parts when ``preview_zoom`` is given and some vertices are drawn only beyond it.
    """
    head = {k: v for k, v in data.items() if k != "geometry"}
    body = b""
    rest = None
    geometry = data.get("geometry")
    if isinstance(geometry, LineArrays):
        band = _last_band(data.get("bands"), preview_zoom)
        whole = geometry
        if band is not None and bool((geometry.levels > band).any()):
            geometry, first = _split(whole, band)
            planes, deltas = _delta_planes(whole.quantized, ~first)
            rest_head = {"counts": whole.counts.tolist(), "parts": whole.parts, "band": band,
                         "planes": planes}
            columns = head.get("columns") or []
            if _WAYPOINTS in columns:  # a name a vertex: needed by cards, not the drawing
                j = columns.index(_WAYPOINTS)
                rest_head[_WAYPOINTS] = [row[j] for row in head["rows"]]
                head["rows"] = [[*row[:j], None, *row[j + 1:]] for row in head["rows"]]
            rest = _deflate_b64(_framed(rest_head, whole.levels.tobytes() + deltas))
            head["rest"] = True
            head["preview_band"] = band
        planes, coordinates = _coordinates(geometry)
        head["counts"] = geometry.counts.tolist()
        head["parts"] = geometry.parts
        head["planes"] = planes
        body = geometry.levels.tobytes() + coordinates
    packed = _deflate_b64(_framed(head, body))
    text = json.dumps({"kind": data["kind"], "packed": packed, **({"rest": True} if rest else {})},
                      separators=(",", ":"))
    return Packed(text, rest)


def _last_band(bands: list[list[int]] | None, zoom: int | None) -> int | None:
    """Return the last zoom band (``[first, last]`` zooms) drawn in full up to ``zoom``."""
    if zoom is None or not bands:
        return None
    fit = [b for b, (_, last) in enumerate(bands) if last <= zoom]
    return fit[-1] if fit else None


def _read(packed: str) -> tuple[dict[str, Any], np.ndarray]:
    raw = zlib.decompress(base64.b64decode(packed), -15)
    size = int.from_bytes(raw[:4], "little")
    return json.loads(raw[4:4 + size].decode("utf-8")), np.frombuffer(raw[4 + size:], np.uint8)


def _zigzag(body: np.ndarray, planes: int) -> np.ndarray:
    """Return the differences (x, y rows) stored in ``planes`` byte planes."""
    p = body.reshape(planes, -1).astype(np.int64)
    z = (p << (8 * np.arange(planes))[:, None]).sum(axis=0)
    return ((z >> 1) ^ -(z & 1)).reshape(-1, 2)


def unpack(packed: Packed | str) -> dict[str, Any]:
    """Return the page data :func:`pack` wrote, lines as :class:`LineArrays` (for tests)."""
    if isinstance(packed, str):
        packed = Packed(packed)
    data, body = _read(json.loads(packed.text)["packed"])
    data.pop("rest", None)
    data.pop("preview_band", None)
    if "counts" in data:
        counts = np.asarray(data.pop("counts"), dtype=np.int64)
        parts = data.pop("parts")
        n = int(counts.sum())
        levels = body[:n].copy()
        lines = int((counts > 0).sum())
        firsts = body[n:n + 8 * lines].view("<i4").reshape(-1, 2).astype(np.int64)
        starts = (np.cumsum(counts) - counts)[counts > 0]
        rest = np.ones(n, dtype=bool)
        rest[starts] = False
        delta = np.zeros((n, 2), dtype=np.int64)
        delta[rest] = _zigzag(body[n + 8 * lines:], data.pop("planes"))
        run = np.cumsum(delta, axis=0)
        group = np.repeat(np.arange(lines), counts[counts > 0])
        quantized = firsts[group] + run - run[starts][group]
        lines_ = LineArrays(counts, parts, levels, quantized)
        if packed.rest is not None:
            lines_, names = _completed(lines_, packed.rest)
            if names is not None:
                j = data["columns"].index(_WAYPOINTS)
                data["rows"] = [[*row[:j], name, *row[j + 1:]]
                                for row, name in zip(data["rows"], names, strict=True)]
        data["geometry"] = lines_
    return data


def _completed(shown: LineArrays, rest: str) -> tuple[LineArrays, list[Any] | None]:
    """Return the whole lines, from their first part and the rest, and their waypoints."""
    head, body = _read(rest)
    counts = np.asarray(head["counts"], dtype=np.int64)
    n = int(counts.sum())
    levels = body[:n].copy()
    first = levels <= head["band"]
    quantized = np.zeros((n, 2), dtype=np.int64)
    quantized[first] = shown.quantized
    delta = _zigzag(body[n:], head["planes"])
    # each other vertex follows the one before it: runs of them from a first-part vertex
    at = np.flatnonzero(~first)
    for j, v in enumerate(at.tolist()):
        quantized[v] = quantized[v - 1] + delta[j]
    return LineArrays(counts, head["parts"], levels, quantized), head.get(_WAYPOINTS)
