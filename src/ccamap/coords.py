"""GeoJSON line coordinates as numpy arrays: the clean case, decided once over whole parts.

A line read from JSON is a list of lists of Python floats, about 130 bytes a vertex. The reader
(:func:`ccamap.readers.read_feature_collection` with ``pack_lines``) hands each clean line over
as :class:`PackedLines` as soon as its geometry object is parsed, 16 bytes a vertex, so the
lists of a whole file are never alive at once; validation
(:func:`ccamap.validate.geometry.check_features`) builds the geometry from the arrays. A line
that is not clean keeps its lists, and validation checks it position by position, with the
exact message of what is wrong.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PackedLines", "pack_lines"]

_NUMBERS = {int, float}


@dataclass(frozen=True, eq=False)
class PackedLines:
    """The clean coordinates of a LineString or MultiLineString, as arrays.

    Attributes
    ----------
    multi
        ``True`` for a MultiLineString's coordinates (an array of parts), ``False`` for a
        LineString's (one part).
    parts
        Each part's lon/lat (float64, shape ``(n, 2)``, ``n >= 2``).
    altitude
        Every position had a third number (an altitude), dropped from ``parts``.
    """

    multi: bool
    parts: list[npt.NDArray[np.float64]]
    altitude: bool

    @property
    def positions(self) -> int:
        """How many positions the coordinates held."""
        return sum(len(part) for part in self.parts)

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
        xys.append(np.ascontiguousarray(xy))
    return PackedLines(gtype == "MultiLineString", xys, widths == {3})
