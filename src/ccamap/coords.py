"""GeoJSON line coordinates built into geometries at once: the clean case, decided over arrays.

A line read from JSON is a list of lists of Python floats, about 130 bytes a vertex. The reader
(:func:`ccamap.readers.read_feature_collection` with ``compact``) hands each clean line over as
:class:`PackedLines`, its shapely geometry built as soon as its geometry object is parsed (about
24 bytes a vertex), so the lists of a whole file are never alive at once; validation
(:func:`ccamap.validate.geometry.check_features`) takes the geometry as it is. A line that is
not clean keeps its lists, and validation checks it position by position, with the exact
message of what is wrong.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["PackedLines", "pack_lines"]

_NUMBERS = {int, float}


@dataclass(frozen=True, eq=False)
class PackedLines:
    """The clean coordinates of a LineString or MultiLineString, built into its geometry.

    Attributes
    ----------
    multi
        ``True`` for a MultiLineString's coordinates (an array of parts), ``False`` for a
        LineString's (one part).
    geometry
        The LineString or MultiLineString (lon/lat, 2D).
    positions
        How many positions the coordinates held.
    altitude
        Every position had a third number (an altitude), dropped from ``geometry``.
    """

    multi: bool
    geometry: BaseGeometry
    positions: int
    altitude: bool

    @property
    def depth(self) -> int:
        """Levels of JSON arrays the coordinates had (a position is one)."""
        return 3 if self.multi else 2


def pack_lines(coords: Any, gtype: Any) -> PackedLines | None:
    """Return the coordinates of a clean line as arrays; ``None`` for anything else.

    Clean: a LineString's or MultiLineString's coordinates, every part a list of at least two
    positions of the same width (2, or 3 with an altitude), every value an ``int`` or
    ``float`` and finite, no vertex repeating the one before. Anything else (another geometry
    type, a malformed or repeated position) returns ``None``: its lists are checked position by
    position, with exact messages.
    """
    if type(coords) is not list:
        return None
    if gtype == "LineString":
        parts = [coords]
    elif gtype == "MultiLineString" and coords and set(map(type, coords)) == {list}:
        parts = coords
    else:
        return None
    widths: set[int] = set()
    for part in parts:
        if not part or set(map(type, part)) != {list}:
            return None
        widths |= set(map(len, part))
        if not set(map(type, itertools.chain.from_iterable(part))) <= _NUMBERS:
            return None
    if len(widths) != 1 or not widths <= {2, 3}:
        return None
    try:
        full = [np.array(part, dtype=float) for part in parts]
    except (ValueError, TypeError, OverflowError):
        return None
    xys = []
    for xyz in full:
        xy = xyz[:, :2]
        if len(xy) < 2 or not np.isfinite(xyz).all() or (xy[1:] == xy[:-1]).all(axis=1).any():
            return None
        xys.append(xy)
    if gtype == "LineString":
        geometry = shapely.linestrings(xys[0])
    else:
        geometry = shapely.multilinestrings([shapely.linestrings(xy) for xy in xys])
    return PackedLines(gtype == "MultiLineString", geometry, sum(map(len, xys)), widths == {3})
