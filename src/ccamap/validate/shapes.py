"""Checks of built geometries, over a whole layer at once: NaN, validity, dateline, region.

Each check runs over every geometry (shapely 2 array predicates) or every coordinate (numpy);
Python loops only write the message of each geometry found wrong. Per geometry, the checks run
in order and the first failure rejects it: NaN, then validity (a self-crossing line is only a
note), then a jump over the antimeridian, then the first coordinate outside the region.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from ccamap import rules, settings
from ccamap.report import Problem, Report

__all__ = ["check_shapes"]

_LINES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)


def check_shapes(
    geoms: npt.NDArray[Any], fids: list[str], file: str
) -> tuple[npt.NDArray[np.bool_], dict[int, list[Problem]]]:
    """Check built geometries; return which are usable and the problems of each.

    Parameters
    ----------
    geoms
        The geometries (lon/lat).
    fids
        Their feature ids, for messages.
    file
        The file name used in problems.

    Returns
    -------
    tuple
        A boolean array (the geometry is usable) and the problems of each geometry that has
        any, in order, by position.
    """
    n = len(geoms)
    found: defaultdict[int, Report] = defaultdict(Report)
    ok = np.ones(n, dtype=bool)
    if not n:
        return ok, {}
    # In chunks of geometries of about _CHUNK coordinates: the arrays of every coordinate
    # (position, owner, steps) of a layer of 30 million vertices would take gigabytes at once.
    ends = np.cumsum(shapely.get_num_coordinates(geoms))
    start = 0
    while start < n:
        before = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, before + _CHUNK, side="right")))
        _check_chunk(geoms[start:stop], ok[start:stop], start, fids, file, found)
        start = stop
    return ok, {i: r.problems for i, r in found.items()}


#: Coordinates checked at once.
_CHUNK = 1_000_000


def _check_chunk(geoms: npt.NDArray[Any], ok: npt.NDArray[np.bool_], offset: int,
                 fids: list[str], file: str, found: defaultdict[int, Report]) -> None:
    """Check the geometries ``offset``, ``offset + 1``, … (``ok`` is their slice, updated)."""
    n = len(geoms)
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(owner, minlength=n)

    def add(i: int, rule: rules.Rule, expected: str, found_: str, message: str) -> None:
        found[offset + i].add(rule, file=file, feature_id=fids[offset + i], field="geometry",
                              expected=expected, found=found_, message=message)

    nan = (counts == 0) | (np.bincount(owner, weights=np.isnan(xy).any(axis=1),
                                       minlength=n) > 0)
    for i in np.flatnonzero(nan).tolist():
        add(i, rules.NAN_COORDINATE, "finite coordinates", "NaN",
            "geometry has NaN coordinates")
    ok &= ~nan
    valid = np.zeros(n, dtype=bool)
    valid[ok] = shapely.is_valid(geoms[ok])
    for i in np.flatnonzero(ok & ~valid).tolist():
        add(i, rules.INVALID_GEOMETRY, "a valid geometry", str(shapely.is_valid_reason(geoms[i])),
            "shapely reports the geometry invalid")
    ok &= valid
    line = ok & np.isin(shapely.get_type_id(geoms), _LINES)
    simple = np.ones(n, dtype=bool)
    simple[line] = shapely.is_simple(geoms[line])
    for i in np.flatnonzero(~simple).tolist():
        add(i, rules.SELF_CROSSING, "a simple line", "a self-crossing line",
            "line crosses itself (accepted)")
    _check_jumps(xy, owner, ok, add)
    _check_region(xy, owner, ok, add)


def _first_per_owner(rows: npt.NDArray[np.intp], owner: npt.NDArray[np.intp]) -> dict[int, int]:
    """Return, for each owner with a flagged row, its first flagged row."""
    owners, first = np.unique(owner[rows], return_index=True)
    return dict(zip(owners.tolist(), rows[first].tolist(), strict=True))


def _check_jumps(xy: npt.NDArray[np.float64], owner: npt.NDArray[np.intp],
                 ok: npt.NDArray[np.bool_], add: Any) -> None:
    """Reject geometries with a step of more than 180° of longitude between coordinates."""
    jump = (np.abs(np.diff(xy[:, 0])) > 180) & (owner[1:] == owner[:-1]) & ok[owner[1:]]
    for i, row in _first_per_owner(np.flatnonzero(jump), owner[:-1]).items():
        a, b = xy[row, 0], xy[row + 1, 0]
        add(i, rules.ANTIMERIDIAN, "segments shorter than 180° of longitude",
            f"{a:.4f} to {b:.4f}", "line crosses the antimeridian")
        ok[i] = False


def _check_region(xy: npt.NDArray[np.float64], owner: npt.NDArray[np.intp],
                  ok: npt.NDArray[np.bool_], add: Any) -> None:
    """Reject geometries with a coordinate outside the region; say how the first one is off."""
    xmin, ymin, xmax, ymax = settings.REGION_BBOX
    x, y = xy[:, 0], xy[:, 1]
    outside = ~((xmin <= x) & (x <= xmax) & (ymin <= y) & (y <= ymax)) & ok[owner]
    for i, row in _first_per_owner(np.flatnonzero(outside), owner).items():
        lon, lat = float(x[row]), float(y[row])
        where = f"lon {lon:.6g}, lat {lat:.6g}"
        if xmin <= lat <= xmax and ymin <= lon <= ymax:
            add(i, rules.PROBABLE_SWAP, "lon, lat order", where,
                "coordinate outside the region, inside it with lon and lat swapped")
        elif abs(lon) > 180 or abs(lat) > 90:
            add(i, rules.PROJECTED_COORDINATES, "WGS84 degrees (lon -180..180, lat -90..90)",
                where, "coordinates look projected; declare the CRS or reproject")
        else:
            add(i, rules.OUT_OF_REGION, f"lon {xmin:g}..{xmax:g}, lat {ymin:g}..{ymax:g}", where,
                "coordinate outside the region")
        ok[i] = False
