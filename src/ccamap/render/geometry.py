"""Compact geometry for the map pages: delta + zigzag varint text, and level of detail.

Coordinates are quantized to :data:`PRECISION` decimals (1e-5° ≈ 1.1 m), and each feature's
vertices are written as the difference from the previous vertex (the first from 0), x then y,
each a zigzag varint of 5-bit chunks, one character of :data:`ALPHABET` per chunk (bit 5 set
while more chunks follow), as Google's polyline format does with a JSON- and HTML-safe alphabet.
Parts of a multi-line are separated by a space. A random-walk line costs 4–6 bytes a vertex,
against about 24 as GeoJSON text. ``assets/runtime/data.js`` (``decode``) reads it back.

Level of detail: each vertex gets a level, the first zoom band of :func:`lod_bands` that draws
it (:func:`vertex_levels`: shapely's Douglas–Peucker ``simplify`` in Web Mercator metres at each
band's tolerance, just under a pixel at the band's most detailed zoom); a line stores its
vertices' levels two to a character, and the page draws at each zoom the vertices of its band.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

__all__ = ["ALPHABET", "PRECISION", "Band", "decode", "decode_levels", "encode_line_bands",
           "encode_lines", "encode_points", "feature_chunks", "lod_bands", "lod_error_px",
           "to_mercator", "vertex_levels"]

#: 64 characters that need no escaping in JSON, HTML or a template, in chunk-value order.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Decimals kept of each coordinate (degrees).
PRECISION = 5
_SCALE = 10**PRECISION
_LUT = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_CHUNKS = 8  # 40 bits: any zigzagged delta of quantized degrees
#: Metres of Web Mercator per pixel at zoom 0 (a 256-pixel tile spans the equator).
_M_PER_PX0 = 2 * math.pi * 6378137.0 / 256
#: Share of a pixel that simplification may move a line at its band's most detailed zoom: just
#: under one, so the drawing stays within a pixel of the data (with the quantization) while
#: drawing as few vertices as that allows (a canvas's cost follows the vertices it strokes).
_TOLERANCE_PX = 0.9
#: Zoom bands ``(first, last)``: every band but the last is simplified; the last is full detail.
_BANDS = ((0, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 9), (10, 10), (11, 18))
_TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_FROM_MERCATOR = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class Band:
    """One zoom band of the level of detail.

    Attributes
    ----------
    min_zoom, max_zoom
        The zooms the band is drawn at (inclusive).
    tolerance_m
        The simplification tolerance in Web Mercator metres (0: full detail).
    max_error_px
        The most a drawn line can be off its data at ``max_zoom``, in screen pixels: the
        tolerance plus the quantization to :data:`PRECISION` decimals (at ``max_lat``).
    """

    min_zoom: int
    max_zoom: int
    tolerance_m: float
    max_error_px: float


def _px(zoom: int) -> float:
    return _M_PER_PX0 / 2**zoom


def lod_bands(max_lat: float = 60.0) -> list[Band]:
    """Return the zoom bands of the level of detail, with their tolerance and largest error.

    Parameters
    ----------
    max_lat
        The largest latitude drawn (the quantization error in Mercator metres grows with it).
    """
    half_unit = 0.5 / _SCALE * _M_PER_PX0 * 256 / 360  # metres of Mercator x per half unit
    quantum = half_unit * math.hypot(1.0, 1.0 / math.cos(math.radians(max_lat)))
    out = []
    for i, (lo, hi) in enumerate(_BANDS):
        tol = 0.0 if i == len(_BANDS) - 1 else _TOLERANCE_PX * _px(hi)
        out.append(Band(lo, hi, tol, (tol + quantum) / _px(hi)))
    return out


def to_mercator(geoms: Any, *, inverse: bool = False) -> np.ndarray:
    """Return geometries (longitude/latitude) in Web Mercator metres, or back (``inverse``)."""
    tr = _FROM_MERCATOR if inverse else _TO_MERCATOR

    def move(xy: np.ndarray) -> np.ndarray:
        y = xy[:, 1] if inverse else np.clip(xy[:, 1], -85.0511, 85.0511)
        return np.column_stack(tr.transform(xy[:, 0], y))

    return shapely.transform(np.asarray(geoms, dtype=object), move)


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Return the varint text of int64 ``values`` and each value's start offset (and the end).

    Each value is zigzagged first: signed values map to unsigned ones (0, -1, 1, -2 … to
    0, 1, 2, 3 …).
    """
    z = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    n = np.ones(len(z), dtype=np.int64)
    for k in range(1, _CHUNKS):
        n += z >= np.uint64(1 << (5 * k))
    shifts = np.arange(_CHUNKS, dtype=np.uint64) * np.uint64(5)
    chunks = (z[:, None] >> shifts[None, :]) & np.uint64(31)
    more = np.arange(_CHUNKS)[None, :] < (n[:, None] - 1)
    chunks |= np.where(more, np.uint64(32), np.uint64(0))
    keep = np.arange(_CHUNKS)[None, :] < n[:, None]
    text = _LUT[chunks[keep].astype(np.intp)].tobytes()
    return text, np.concatenate([[0], np.cumsum(n)])


def encode_lines(geoms: Any) -> list[str]:
    """Return each line (or multi-line) as compact text; ``""`` for a missing geometry."""
    geoms = np.asarray(geoms, dtype=object)
    out = [""] * len(geoms)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if not len(parts):
        return out
    coords, vertex_part = shapely.get_coordinates(parts, return_index=True)
    q = np.rint(coords * _SCALE).astype(np.int64)
    feature = owner[vertex_part]
    prev = np.zeros_like(q)
    prev[1:] = q[:-1]
    prev[np.concatenate([[True], feature[1:] != feature[:-1]])] = 0
    text, offsets = _varints((q - prev).ravel())
    ascii_text = text.decode("ascii")
    ends = np.cumsum(shapely.get_num_coordinates(parts))
    starts = ends - shapely.get_num_coordinates(parts)
    pieces: dict[int, list[str]] = {}
    for fid, s, e in zip(owner.tolist(), starts.tolist(), ends.tolist(), strict=True):
        pieces.setdefault(fid, []).append(ascii_text[offsets[2 * s]:offsets[2 * e]])
    for fid, strings in pieces.items():
        out[fid] = " ".join(strings)
    return out


def encode_points(geoms: Any) -> str:
    """Return every point as one compact text, each the difference from the previous point."""
    coords = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    if len(coords) != len(geoms):
        msg = f"expected one coordinate per point, found {len(coords)} for {len(geoms)} points"
        raise ValueError(msg)
    q = np.rint(coords * _SCALE).astype(np.int64)
    prev = np.zeros_like(q)
    prev[1:] = q[:-1]
    return _varints((q - prev).ravel())[0].decode("ascii")


def decode(text: str) -> list[list[tuple[float, float]]]:
    """Return the parts of an encoded line (or the points of an encoded point layer)."""
    index = {c: i for i, c in enumerate(ALPHABET)}
    parts: list[list[tuple[float, float]]] = []
    x = y = 0
    for piece in text.split(" "):
        values, value, shift = [], 0, 0
        for ch in piece:
            chunk = index[ch]
            value |= (chunk & 31) << shift
            shift += 5
            if not chunk & 32:
                values.append((value >> 1) ^ -(value & 1))
                value, shift = 0, 0
        coords = []
        for dx, dy in zip(values[::2], values[1::2], strict=True):
            x, y = x + dx, y + dy
            coords.append((x / _SCALE, y / _SCALE))
        parts.append(coords)
    return parts


def _numbered(geoms: np.ndarray) -> np.ndarray:
    """Return lines in Web Mercator with each vertex's index in its feature as Z."""
    merc = shapely.force_3d(to_mercator(geoms))
    coords, owner = shapely.get_coordinates(merc, include_z=True, return_index=True)
    counts = np.bincount(owner, minlength=len(geoms))
    coords[:, 2] = np.arange(len(coords)) - np.repeat(np.cumsum(counts) - counts, counts)
    return shapely.set_coordinates(merc, coords)


def vertex_levels(geoms: Any) -> np.ndarray:
    """Return, for every vertex of the lines (in order), the first zoom band that draws it.

    The bands are :func:`lod_bands`. Band ``b`` draws the vertices of level ``b`` or less:
    exactly the Douglas–Peucker simplification at the band's tolerance (the simplifications at
    decreasing tolerances are nested: the same splits, stopped earlier), so its drawing is
    within the tolerance of the line. A line the simplification would collapse to nothing (a
    closed loop) is simplified preserving topology instead, and the ends of every part are in
    every band, so no feature or part vanishes. The last band (full detail) draws every vertex.
    """
    geoms = np.asarray(geoms, dtype=object)
    # in chunks of about a million vertices: the copies simplification makes stay small
    chunks = [_levels(geoms[a:b]) for a, b in feature_chunks(geoms, _CHUNK_VERTICES)]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int8)


#: Vertices simplified at once by :func:`vertex_levels`.
_CHUNK_VERTICES = 1_000_000


def feature_chunks(geoms: np.ndarray, vertices: int) -> list[tuple[int, int]]:
    """Return ``(first, end)`` ranges of features, each of about ``vertices`` vertices."""
    ends = np.cumsum(shapely.get_num_coordinates(geoms))
    cuts = [0, *(np.flatnonzero(np.diff(ends // max(vertices, 1))) + 1).tolist(), len(geoms)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _levels(geoms: np.ndarray) -> np.ndarray:
    """:func:`vertex_levels` of a few lines."""
    bands = lod_bands()
    merc = _numbered(geoms)
    counts = shapely.get_num_coordinates(merc)
    offsets = np.cumsum(counts) - counts
    levels = np.full(int(counts.sum()), len(bands) - 1, dtype=np.int8)
    for b in range(len(bands) - 2, -1, -1):  # finest first: a coarser band overwrites
        simple = shapely.simplify(merc, bands[b].tolerance_m, preserve_topology=False)
        lost = (shapely.length(simple) == 0) & (shapely.length(merc) > 0)
        if lost.any():
            simple[lost] = shapely.simplify(merc[lost], bands[b].tolerance_m,
                                            preserve_topology=True)
        coords, owner = shapely.get_coordinates(simple, include_z=True, return_index=True)
        levels[offsets[owner] + np.rint(coords[:, 2]).astype(np.int64)] = b
    part_counts = shapely.get_num_coordinates(shapely.get_parts(merc))
    ends = np.cumsum(part_counts)
    levels[(ends - part_counts)[part_counts > 0]] = 0
    levels[(ends - 1)[part_counts > 0]] = 0
    return levels


def encode_line_bands(geoms: Any) -> list[str | list[str]]:
    """Return each line encoded in full, with its vertices' levels when it has several.

    A line whose every vertex is in every band (:func:`vertex_levels`) is its full text;
    otherwise ``[levels, full]``: the levels two to a character of :data:`ALPHABET`, the first
    vertex's in the low 3 bits (``assets/runtime/draw.js`` draws at zoom band ``b`` the vertices of
    level ``b`` or less).
    """
    geoms = np.asarray(geoms, dtype=object)
    full = encode_lines(geoms)
    if not len(geoms):
        return []
    levels = vertex_levels(geoms)
    counts = shapely.get_num_coordinates(geoms)
    out: list[str | list[str]] = list(full)
    ends = np.cumsum(counts)
    for i, (s, e) in enumerate(zip((ends - counts).tolist(), ends.tolist(), strict=True)):
        lv = levels[s:e]
        if not lv.any():
            continue
        if len(lv) % 2:
            lv = np.append(lv, 0)
        out[i] = [_LUT[lv[0::2] | (lv[1::2] << 3)].tobytes().decode("ascii"), full[i]]
    return out


def decode_levels(text: str, count: int) -> list[int]:
    """Return the levels of a line's ``count`` vertices from :func:`encode_line_bands`."""
    index = {c: i for i, c in enumerate(ALPHABET)}
    out: list[int] = []
    for ch in text:
        out.extend((index[ch] & 7, index[ch] >> 3))
    return out[:count]


def lod_error_px(geoms: Any) -> list[float]:
    """Return, per band of :func:`lod_bands`, how far the drawing is off the lines, in pixels.

    The largest Hausdorff distance between each line and the line through the vertices the
    band draws (:func:`vertex_levels`), at the band's most detailed zoom (the benchmark reports
    it).
    """
    geoms = np.asarray(geoms, dtype=object)
    merc = to_mercator(geoms)
    levels = vertex_levels(geoms)
    coords = shapely.get_coordinates(merc)
    parts, owner = shapely.get_parts(merc, return_index=True)
    part_of = np.repeat(np.arange(len(parts)), shapely.get_num_coordinates(parts))
    whole = shapely.multilinestrings(parts, indices=owner) if len(parts) else parts
    out = []
    for b, band in enumerate(lod_bands()):
        keep = levels <= b
        drawn = shapely.linestrings(coords[keep], indices=part_of[keep])
        lines = shapely.multilinestrings(drawn, indices=owner) if len(drawn) else drawn
        dist = shapely.hausdorff_distance(whole, lines) if len(lines) else []
        out.append(float(np.nanmax(dist, initial=0.0)) / _px(band.max_zoom))
    return out
