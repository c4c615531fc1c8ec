"""Compact geometry for the map pages: delta + zigzag varint text, and level of detail.

Coordinates are quantized to :data:`PRECISION` decimals (1e-5° ≈ 1.1 m), and each feature's
vertices are written as the difference from the previous vertex (the first from 0), x then y,
each a zigzag varint of 5-bit chunks, one character of :data:`ALPHABET` per chunk (bit 5 set
while more chunks follow), as Google's polyline format does with a JSON- and HTML-safe alphabet.
Parts of a multi-line are separated by a space. A random-walk line costs 4–6 bytes a vertex,
against about 24 as GeoJSON text. ``assets/ccamap.js`` (``decode``) reads it back.

Level of detail: each line is simplified once per zoom band of :func:`lod_bands` (shapely's
``simplify`` with ``preserve_topology``, in Web Mercator metres, so the tolerance is a fixed
share of a pixel at the band's most detailed zoom); the page draws the band of its zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer

__all__ = ["ALPHABET", "PRECISION", "Band", "decode", "decode_band", "encode_line_bands",
           "encode_lines", "encode_points", "lod_bands", "lod_error_px", "to_mercator"]

#: 64 characters that need no escaping in JSON, HTML or a template, in chunk-value order.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Decimals kept of each coordinate (degrees).
PRECISION = 5
_SCALE = 10**PRECISION
_LUT = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_CHUNKS = 8  # 40 bits: any zigzagged delta of quantized degrees
#: Metres of Web Mercator per pixel at zoom 0 (a 256-pixel tile spans the equator).
_M_PER_PX0 = 2 * math.pi * 6378137.0 / 256
#: Share of a pixel that simplification may move a line at its band's most detailed zoom.
_TOLERANCE_PX = 0.5
#: Zoom bands ``(first, last)``: every band but the last is simplified; the last is full detail.
_BANDS = ((0, 4), (5, 6), (7, 8), (9, 10), (11, 18))
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


def _varints(values: np.ndarray, *, zigzag: bool = True) -> tuple[bytes, np.ndarray]:
    """Return the varint text of int64 ``values`` and each value's start offset (and the end).

    ``zigzag`` maps signed values to unsigned ones (0, -1, 1, -2 … to 0, 1, 2, 3 …).
    """
    z = ((values << 1) ^ (values >> 63)).astype(np.uint64) if zigzag else values.astype(np.uint64)
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


def _simplified(geoms: np.ndarray) -> list[np.ndarray]:
    """Return the lines in Mercator, vertices numbered in Z, for each band (full last).

    Douglas–Peucker keeps a subset of the vertices (with their Z); a line it would collapse to
    nothing (a closed loop) is simplified preserving topology instead, so no feature vanishes.
    """
    merc = _numbered(geoms)
    out = []
    for band in lod_bands():
        if band.tolerance_m == 0:
            out.append(merc)
            continue
        simple = shapely.simplify(merc, band.tolerance_m, preserve_topology=False)
        lost = (shapely.length(simple) == 0) & (shapely.length(merc) > 0)
        if lost.any():
            simple[lost] = shapely.simplify(merc[lost], band.tolerance_m, preserve_topology=True)
        out.append(simple)
    return out


#: A band is stored for a line only when it keeps at most this share of the next band's
#: vertices (otherwise the next, more detailed band is drawn: smaller error, few more vertices).
_KEEP_AT_MOST = 0.5


def encode_line_bands(geoms: Any) -> list[str | list[str]]:
    """Return each line encoded in full, and the vertices each band of :func:`lod_bands` keeps.

    A line that no band simplifies usefully is its full text; otherwise a list of the bands,
    coarsest first, each the increasing indices of the vertices it keeps (the first as is, then
    each gap less one, unsigned varints), ``""`` for "as the next band", and the full text last.
    """
    geoms = np.asarray(geoms, dtype=object)
    full = encode_lines(geoms)
    bands = _simplified(geoms)
    n = len(geoms)
    finer_count = shapely.get_num_coordinates(bands[-1])
    per_band: list[list[str]] = []
    for simple in reversed(bands[:-1]):
        texts = [""] * n
        count = shapely.get_num_coordinates(simple)
        stored = np.flatnonzero(count <= _KEEP_AT_MOST * finer_count)
        if stored.size:
            coords, owner = shapely.get_coordinates(simple[stored], include_z=True,
                                                    return_index=True)
            index = np.rint(coords[:, 2]).astype(np.int64)
            gaps = index.copy()
            gaps[1:] -= index[:-1] + 1
            first = np.concatenate([[True], owner[1:] != owner[:-1]])
            gaps[first] = index[first]
            text, offsets = _varints(gaps, zigzag=False)
            ascii_text = text.decode("ascii")
            ends = np.cumsum(count[stored])
            for i, s, e in zip(stored.tolist(), (ends - count[stored]).tolist(), ends.tolist(),
                               strict=True):
                texts[i] = ascii_text[offsets[s]:offsets[e]]
            finer_count = np.where(count <= _KEEP_AT_MOST * finer_count, count, finer_count)
        per_band.insert(0, texts)
    out: list[str | list[str]] = list(full)
    for i in range(n):
        coarse = [texts[i] for texts in per_band]
        if any(coarse):
            out[i] = [*coarse, full[i]]
    return out


def decode_band(text: str) -> list[int]:
    """Return the vertex indices a band of :func:`encode_line_bands` keeps."""
    index = {c: i for i, c in enumerate(ALPHABET)}
    out: list[int] = []
    value = shift = 0
    for ch in text:
        chunk = index[ch]
        value |= (chunk & 31) << shift
        shift += 5
        if not chunk & 32:
            out.append(value if not out else out[-1] + value + 1)
            value = shift = 0
    return out


def lod_error_px(geoms: Any) -> list[float]:
    """Return, per band of :func:`lod_bands`, how far the drawing is off the lines, in pixels.

    The largest Hausdorff distance between each line and its simplified drawing, at the band's
    most detailed zoom (the benchmark reports it).
    """
    geoms = np.asarray(geoms, dtype=object)
    bands = _simplified(geoms)
    merc = bands[-1]
    out = []
    for band, simple in zip(lod_bands(), bands, strict=True):
        dist = shapely.hausdorff_distance(merc, simple) if len(merc) else []
        out.append(float(np.nanmax(dist, initial=0.0)) / _px(band.max_zoom))
    return out
