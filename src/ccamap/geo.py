"""Geodesic lengths and distances on the WGS84 ellipsoid, over whole arrays of geometries.

The one home of :class:`pyproj.Geod` in ccamap: validation (reported lengths, spatial checks),
the join (``length_km``) and the map (km of a line in each country) all measure here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

__all__ = [
    "GEOD",
    "distance_km",
    "geodesic_length_km",
    "geodesic_lengths_km",
    "km_by_country",
    "pair_km",
]

#: The WGS84 ellipsoid every measure uses.
GEOD = Geod(ellps="WGS84")

_LINEAR = (shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING)


def geodesic_lengths_km(geometries: Any) -> npt.NDArray[np.float64]:
    """Return the geodesic length in km of each geometry (lon/lat), in one pass over arrays.

    Lines count their segments, polygons their rings, points nothing; a missing geometry is 0.
    The same figure as :meth:`pyproj.Geod.geometry_length`, computed for every segment of every
    geometry at once.

    Parameters
    ----------
    geometries
        An array-like of shapely geometries in lon/lat degrees.
    """
    geoms = np.asarray(geometries, dtype=object)
    out = np.zeros(len(geoms))
    if not len(geoms):
        return out
    parts, owner = shapely.get_parts(geoms, return_index=True)
    kinds = shapely.get_type_id(parts)
    polygon = kinds == shapely.GeometryType.POLYGON
    if polygon.any():
        rings, ring_owner = shapely.get_rings(parts[polygon], return_index=True)
        parts = np.concatenate([parts[~polygon], rings])
        owner = np.concatenate([owner[~polygon], owner[polygon][ring_owner]])
        kinds = shapely.get_type_id(parts)
    linear = np.isin(kinds, _LINEAR)
    parts, owner = parts[linear], owner[linear]
    if not len(parts):
        return out
    per_part = np.zeros(len(parts))
    # In chunks of parts of about _CHUNK coordinates: the arrays of every segment of a layer of
    # 30 million vertices (ends, distances, copies pyproj makes) would take gigabytes at once.
    ends = np.cumsum(shapely.get_num_coordinates(parts))
    start = 0
    while start < len(parts):
        before = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, before + _CHUNK, side="right")))
        per_part[start:stop] = _part_lengths_m(parts[start:stop])
        start = stop
    return np.bincount(owner, weights=per_part, minlength=len(geoms)) / 1000.0


#: Coordinates measured at once.
_CHUNK = 1_000_000


def _part_lengths_m(parts: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Return the geodesic length in metres of each linear part, summed segment by segment."""
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    same = part_of[1:] == part_of[:-1]
    _, _, dist = GEOD.inv(xy[:-1, 0][same], xy[:-1, 1][same], xy[1:, 0][same], xy[1:, 1][same])
    lengths = np.bincount(part_of[1:][same], weights=dist, minlength=len(parts))
    return np.asarray(lengths, dtype=np.float64)  # weighted: already float64, not copied


def geodesic_length_km(geometries: Any) -> pd.Series:
    """Return the geodesic length of each geometry on the WGS84 ellipsoid, in km (0.1 km).

    Parameters
    ----------
    geometries
        A GeoSeries (reprojected to EPSG:4326 if it has another CRS).
    """
    if getattr(geometries, "crs", None) is not None and not geometries.crs.equals("EPSG:4326"):
        geometries = geometries.to_crs("EPSG:4326")
    lengths = geodesic_lengths_km(np.asarray(geometries, dtype=object))
    return pd.Series(lengths, index=geometries.index, dtype=float).round(1)


def pair_km(lon0: Any, lat0: Any, lon1: Any, lat1: Any) -> Any:
    """Return the geodesic distance in km between points (scalars or arrays)."""
    return GEOD.inv(lon0, lat0, lon1, lat1)[2] / 1000.0


def distance_km(lon: float, lat: float, geom: BaseGeometry) -> float:
    """Return the geodesic distance in km from a point to the nearest point of ``geom``.

    The nearest point is found in a plane scaled to the point's latitude (equirectangular),
    which is accurate for the distances the checks compare (tens of km).
    """
    if geom.is_empty:
        return math.inf
    pt = Point(lon, lat)
    if geom.covers(pt):
        return 0.0
    k = max(math.cos(math.radians(lat)), 0.05)
    scaled = shapely.transform(geom, lambda xy: (xy - (lon, lat)) * (k, 1.0))
    near = shapely.get_coordinates(shapely.shortest_line(Point(0, 0), scaled))[-1]
    near_lon, near_lat = lon + near[0] / k, lat + near[1]
    return float(GEOD.inv(lon, lat, near_lon, near_lat)[2]) / 1000.0


def km_by_country(
    lines: Sequence[BaseGeometry | None], codes: Iterable[str], outlines: Iterable[BaseGeometry],
    *, min_km: float = 0.5,
) -> list[dict[str, float]]:
    """Return, for each line, its geodesic length in km inside each country it crosses.

    One spatial index query pairs every line with the outlines it touches; the pieces are
    measured together. Countries with less than ``min_km`` are left out; figures are rounded
    to 0.1 km.

    Parameters
    ----------
    lines
        Lines in lon/lat (``None`` or non-line geometries give an empty dict).
    codes, outlines
        The country codes and their outlines (Polygon or MultiPolygon, lon/lat).
    min_km
        The shortest stretch reported.
    """
    codes = list(codes)
    shapes = np.asarray(list(outlines), dtype=object)
    geoms = np.asarray(list(lines), dtype=object)
    out: list[dict[str, float]] = [{} for _ in range(len(geoms))]
    if not len(geoms) or not len(shapes):
        return out
    is_line = np.isin(shapely.get_type_id(geoms), (shapely.GeometryType.LINESTRING,
                                                   shapely.GeometryType.MULTILINESTRING))
    candidates = geoms.copy()
    candidates[~is_line] = None
    # Each outline is prepared once and queried against an index of the lines; a line an
    # outline covers counts whole, only the others are cut at the border.
    shapely.prepare(shapes)
    tree = shapely.STRtree(candidates)
    shape_i, line_i = tree.query(shapes, predicate="intersects")
    order = np.lexsort((shape_i, line_i))  # each line's countries in the order given
    line_i, shape_i = line_i[order], shape_i[order]
    covered = shapely.covers(shapes[shape_i], geoms[line_i])
    pieces = geoms[line_i].copy()
    pieces[~covered] = shapely.intersection(geoms[line_i][~covered], shapes[shape_i][~covered])
    km = geodesic_lengths_km(pieces)
    for li, si, value in zip(line_i.tolist(), shape_i.tolist(), km.tolist(), strict=True):
        if value >= min_km:
            out[li][str(codes[si])] = round(value, 1)
    return out
