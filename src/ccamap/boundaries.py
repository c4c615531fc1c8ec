"""Country outlines: loading them, and the stretches of a line inside each country.

Used by the spatial checks of :mod:`ccamap.validate.spatial` and by the map's basemap.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from ccamap.errors import LoadError
from ccamap.geo import GEOD
from ccamap.readers import read_feature_collection

__all__ = ["Boundaries", "Visit", "country_visits", "line_parts", "load_boundaries"]

_KM_PER_DEGREE = 111.32


# --------------------------------------------------------------------------- boundaries


@dataclass(frozen=True, eq=False)
class Boundaries:
    """Country outlines by ISO3 code, with a spatial index.

    Attributes
    ----------
    file
        The file read.
    countries
        Outline (Polygon or MultiPolygon, lon/lat) of each ISO3 code.
    """

    file: str
    countries: dict[str, BaseGeometry]

    @functools.cached_property
    def tree(self) -> tuple[list[str], shapely.STRtree]:
        """The codes, and a spatial index of their outlines in the same order."""
        codes = list(self.countries)
        return codes, shapely.STRtree([self.countries[c] for c in codes])

    def candidates(self, geom: BaseGeometry, km: float = 0.0) -> list[str]:
        """Return the codes whose outline's box comes within about ``km`` of ``geom``'s box."""
        codes, tree = self.tree
        box = shapely.box(*geom.bounds)
        if km:
            lat = max(abs(geom.bounds[1]), abs(geom.bounds[3]))
            box = box.buffer(km / (_KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.05)))
        return sorted(codes[i] for i in tree.query(box))

    def country_at(self, lon: float, lat: float) -> str | None:
        """Return the code of the country containing the point, or ``None`` (sea, no data)."""
        pt = Point(lon, lat)
        for code in self.candidates(pt):
            if self.countries[code].covers(pt):
                return code
        return None

    def border(self, a: str, b: str) -> BaseGeometry:
        """Return the land border between countries ``a`` and ``b`` (empty if they share none)."""
        return _border(self, a, b)


@functools.lru_cache(maxsize=64)
def _border(bounds: Boundaries, a: str, b: str) -> BaseGeometry:
    ga, gb = bounds.countries[a], bounds.countries[b]
    # Shared edges stay shared in the simplified coverage; 0.001° (~100 m) absorbs rounding.
    return shapely.intersection(ga.boundary, gb.buffer(0.001))


def load_boundaries(path: Path) -> Boundaries:
    """Read country outlines (a FeatureCollection with an ``iso3`` property), cached per file.

    Raises
    ------
    LoadError
        If the file is not a readable FeatureCollection of polygons with ``iso3`` codes.
    """
    stat = path.stat()
    # one reader at a time: a build reads the outlines for its basemap in a thread while the
    # layers are validated, and the second caller waits for the first's parse instead of
    # repeating it
    with _LOADING:
        return _load_boundaries(str(path), stat.st_mtime_ns, stat.st_size)


_LOADING = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_boundaries(file: str, _mtime: int, _size: int) -> Boundaries:
    doc = read_feature_collection(file)
    countries: dict[str, BaseGeometry] = {}
    for number, feat in enumerate(doc["features"], start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        code = props.get("iso3") if isinstance(props, dict) else None
        geom = _polygon(feat.get("geometry") if isinstance(feat, dict) else None)
        if not isinstance(code, str) or geom is None:
            raise LoadError(file, "features with an 'iso3' code and a Polygon or MultiPolygon",
                            f"feature #{number} without them", code="boundaries")
        geom = shapely.make_valid(geom) if not geom.is_valid else geom
        countries[code] = shapely.union(countries[code], geom) if code in countries else geom
    for geom in countries.values():
        shapely.prepare(geom)
    return Boundaries(file, countries)


def _polygon(member: object) -> BaseGeometry | None:
    """Build a GeoJSON Polygon or MultiPolygon member from numpy rings; ``None`` otherwise."""
    if not isinstance(member, dict) or member.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    coords: Any = member.get("coordinates")
    polygons = [coords] if member["type"] == "Polygon" else coords
    try:
        built = [shapely.polygons(_ring(rings[0]), holes=[_ring(r) for r in rings[1:]] or None)
                 for rings in polygons]
    except (shapely.errors.GEOSException, ValueError, TypeError, IndexError):
        return None
    if not built:
        return None
    return built[0] if member["type"] == "Polygon" else shapely.multipolygons(built)


def _ring(positions: Any) -> BaseGeometry:
    return shapely.linearrings(np.asarray(positions, dtype=np.float64)[:, :2])


def _line_km(geom: BaseGeometry) -> float:
    return float(GEOD.geometry_length(geom)) / 1000.0 if not geom.is_empty else 0.0


def _lines(geom: BaseGeometry) -> list[LineString]:
    """Return the LineString parts of ``geom`` (intersections may also hold points)."""
    if isinstance(geom, LineString):
        return [geom] if not geom.is_empty else []
    if hasattr(geom, "geoms"):
        return [g for part in geom.geoms for g in _lines(part)]
    return []


@dataclass(frozen=True)
class Visit:
    """One stretch of a line inside one country.

    Attributes
    ----------
    country
        ISO3 code.
    part
        Index of the line's part (0 for a LineString).
    start, end
        Where the stretch begins and ends, as planar distances along the part (degrees).
    km
        Geodesic length of the stretch.
    """

    country: str
    part: int
    start: float
    end: float
    km: float


def country_visits(line: BaseGeometry, bounds: Boundaries) -> list[Visit]:
    """Return the stretches of ``line`` inside each country, in route order.

    Consecutive stretches in the same country (split by the outline's vertices) are merged.
    """
    parts = line_parts(line)
    visits: list[Visit] = []
    for index, part in enumerate(parts):
        pieces: list[Visit] = []
        for code in bounds.candidates(part):
            country = bounds.countries[code]  # prepared: the tests below are cheap
            if not country.intersects(part):
                continue
            inside = part if country.covers(part) else shapely.intersection(part, country)
            for piece in _lines(inside):
                ends = [part.project(Point(c)) for c in (piece.coords[0], piece.coords[-1])]
                pieces.append(Visit(code, index, min(ends), max(ends), _line_km(piece)))
        pieces.sort(key=lambda v: (v.start, v.end))
        for piece in pieces:
            last = visits[-1] if visits else None
            if (last is not None and last.part == index and last.country == piece.country
                    and piece.start - last.end < 1e-9):
                visits[-1] = Visit(last.country, index, last.start, max(last.end, piece.end),
                                   last.km + piece.km)
            else:
                visits.append(piece)
    return visits


def line_parts(geom: BaseGeometry) -> list[LineString]:
    """Return the parts of a LineString or MultiLineString, in order."""
    return [geom] if isinstance(geom, LineString) else list(getattr(geom, "geoms", []))
