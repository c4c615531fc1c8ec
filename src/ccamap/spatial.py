"""Spatial consistency: declared countries against Natural Earth boundaries, and ports at borders.

Every check records a :class:`~ccamap.report.Problem` and goes on. Distances are geodesic (WGS84)
and every tolerance is a named setting in km, read when the check runs: from
:mod:`ccamap.settings` when it defines the name, else from this module's defaults.

========================  ========  =========================================================
code                      severity  meaning
========================  ========  =========================================================
``line-countries``        error     a stretch of a line inside an undeclared country is longer
                                    than ``LINE_COUNTRY_TOLERANCE_KM``, or the line does not
                                    come within it of a country it declares
``line-country-order``    warning   the line visits its declared countries in another order
``line-endpoint``         error     the first (last) vertex is not in the first (last)
                                    declared country, within ``LINE_ENDPOINT_TOLERANCE_KM``
``point-country``         error     a point is farther than ``POINT_COUNTRY_TOLERANCE_KM``
                                    from every country it declares
``port-border``           error     a border port is farther than ``BORDER_PORT_DISTANCE_KM``
                                    from the border between its ``country_a`` and
                                    ``country_b`` (or the two share no border)
``rail-crossing-port``    warning   a railway crosses a land border with no rail border port
                                    of those two countries within ``RAIL_CROSSING_PORT_KM``
``boundary-unknown``      warning   a declared country has no outline in ``boundaries.geojson``
``spatial-skipped``       info      there is no ``boundaries.geojson``: nothing was checked
========================  ========  =========================================================
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, Point, shape
from shapely.geometry.base import BaseGeometry

from ccamap import settings
from ccamap.errors import LoadError
from ccamap.io import read_feature_collection
from ccamap.report import Report
from ccamap.validate import LayerInput

__all__ = [
    "Boundaries",
    "Visit",
    "check_spatial",
    "country_visits",
    "distance_km",
    "load_boundaries",
]

_GEOD = Geod(ellps="WGS84")
_KM_PER_DEGREE = 111.32
#: Two visits along a line closer than this (km) meet at a land border; farther apart, the
#: line left land in between (a sea leg such as the Trans-Caspian ferry).
_TOUCH_KM = 1.0


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
    def _tree(self) -> tuple[list[str], shapely.STRtree]:
        codes = list(self.countries)
        return codes, shapely.STRtree([self.countries[c] for c in codes])

    def candidates(self, geom: BaseGeometry, km: float = 0.0) -> list[str]:
        """Return the codes whose outline's box comes within about ``km`` of ``geom``'s box."""
        codes, tree = self._tree
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
    return _load_boundaries(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _load_boundaries(file: str, _mtime: int, _size: int) -> Boundaries:
    doc = read_feature_collection(file)
    countries: dict[str, BaseGeometry] = {}
    for number, feat in enumerate(doc["features"], start=1):
        props = feat.get("properties") if isinstance(feat, dict) else None
        code = props.get("iso3") if isinstance(props, dict) else None
        try:
            geom = shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            geom = None
        if not isinstance(code, str) or geom is None or geom.geom_type not in (
                "Polygon", "MultiPolygon"):
            raise LoadError(file, "features with an 'iso3' code and a Polygon or MultiPolygon",
                            f"feature #{number} without them", code="boundaries")
        geom = shapely.make_valid(geom) if not geom.is_valid else geom
        countries[code] = shapely.union(countries[code], geom) if code in countries else geom
    for geom in countries.values():
        shapely.prepare(geom)
    return Boundaries(file, countries)


# --------------------------------------------------------------------------- geometry helpers


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
    return float(_GEOD.inv(lon, lat, near_lon, near_lat)[2]) / 1000.0


def _line_km(geom: BaseGeometry) -> float:
    return float(_GEOD.geometry_length(geom)) / 1000.0 if not geom.is_empty else 0.0


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
    parts = [line] if isinstance(line, LineString) else list(getattr(line, "geoms", []))
    visits: list[Visit] = []
    for index, part in enumerate(parts):
        pieces: list[Visit] = []
        for code in bounds.candidates(part):
            for piece in _lines(shapely.intersection(part, bounds.countries[code])):
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


# --------------------------------------------------------------------------- checks


def check_spatial(inputs: dict[str, LayerInput], geodata: Path, report: Report) -> None:
    """Check every layer's geometry against the countries it declares.

    Parameters
    ----------
    inputs
        The checked inputs by layer name (as :func:`ccamap.validate.validate` returns them).
    geodata
        The data directory; its ``boundaries.geojson`` holds the country outlines.
    report
        Where problems are recorded.
    """
    path = Path(geodata) / settings.BOUNDARIES_FILE
    if not path.exists():
        report.info(path, "", "", "spatial-skipped", "country outlines", "no file",
                    "no country outlines: spatial checks skipped")
        return
    try:
        bounds = load_boundaries(path)
    except LoadError as exc:
        report.error(exc.path, "", "", exc.code, exc.expected, exc.found,
                     "cannot read the country outlines")
        return
    rail_ports = _rail_ports(inputs.get("border_ports"))
    for name, inp in inputs.items():
        attrs: dict[Any, dict[str, Any]] = {
            rec["id"]: {str(k): v for k, v in rec.items()}
            for rec in inp.attributes.to_dict("records")}
        for fid, geom in zip(inp.geometries["id"], inp.geometries.geometry, strict=True):
            rec = attrs.get(fid)
            if rec is None or geom is None or geom.is_empty:
                continue  # orphans and bad geometry are reported by validation
            declared = [c for c in rec.get("countries") or [] if isinstance(c, str)]
            ctx = _Feature(str(inp.geometry_file), str(fid), declared, bounds, report)
            if not ctx.known_countries():
                continue
            if inp.layer.is_line:
                visits = _check_line(ctx, geom)
                if name == "railways":
                    _check_rail_crossings(ctx, geom, visits, rail_ports)
            else:
                _check_point(ctx, geom)
                if name == "border_ports":
                    _check_port(ctx, geom, rec)


@dataclass
class _Feature:
    file: str
    fid: str
    declared: list[str]
    bounds: Boundaries
    report: Report

    def known_countries(self) -> bool:
        """Warn about declared codes without an outline; say whether any code is left."""
        for code in self.declared:
            if code not in self.bounds.countries:
                self.report.warning(self.file, self.fid, "countries", "boundary-unknown",
                                    f"a country of {Path(self.bounds.file).name}", code,
                                    "no outline for this country: it is not checked")
        self.declared = [c for c in self.declared if c in self.bounds.countries]
        return bool(self.declared)

    def where(self, lon: float, lat: float) -> str:
        code = self.bounds.country_at(lon, lat)
        return f"{code or 'no country'} at lon {lon:.5f}, lat {lat:.5f}"


def _check_line(ctx: _Feature, geom: BaseGeometry) -> list[Visit]:
    tol = float(settings.LINE_COUNTRY_TOLERANCE_KM)
    visits = country_visits(geom, ctx.bounds)
    km_in: dict[str, float] = {}
    longest: dict[str, float] = {}
    for visit in visits:
        km_in[visit.country] = km_in.get(visit.country, 0.0) + visit.km
        longest[visit.country] = max(longest.get(visit.country, 0.0), visit.km)
    for code, km in sorted(longest.items()):
        if code not in ctx.declared and km > tol:
            ctx.report.error(ctx.file, ctx.fid, "countries", "line-countries",
                             f"no stretch longer than {tol:g} km in an undeclared country",
                             f"{km:.0f} km in {code} ({km_in[code]:.0f} km in all)",
                             f"line runs through {code}, which 'countries' does not list")
    for code in ctx.declared:
        if code in km_in:
            continue
        gap = _geom_distance_km(geom, ctx.bounds.countries[code])
        if gap > tol:
            ctx.report.error(ctx.file, ctx.fid, "countries", "line-countries",
                             f"the line within {tol:g} km of {code}",
                             f"{gap:.0f} km away",
                             f"line never reaches {code}, which 'countries' lists")
    order = [c for c, _ in itertools.groupby(
        v.country for v in visits if v.country in ctx.declared)]
    first_seen = list(dict.fromkeys(order))
    expected = [c for c in ctx.declared if c in first_seen]
    if isinstance(geom, LineString) and first_seen != expected:
        ctx.report.warning(ctx.file, ctx.fid, "countries", "line-country-order",
                           ";".join(expected), ";".join(first_seen),
                           "'countries' is not in the order the line visits them")
    _check_endpoints(ctx, geom)
    return visits


def _geom_distance_km(geom: BaseGeometry, country: BaseGeometry) -> float:
    """Geodesic distance from a line to a country, through the line's nearest vertex-ish point."""
    if geom.intersects(country):
        return 0.0
    near = shapely.get_coordinates(shapely.shortest_line(geom, country))[0]
    return distance_km(float(near[0]), float(near[1]), country)


def _endpoints(geom: BaseGeometry) -> tuple[tuple[float, float], tuple[float, float]]:
    parts = [geom] if isinstance(geom, LineString) else list(geom.geoms)
    first, last = parts[0].coords[0], parts[-1].coords[-1]
    return (first[0], first[1]), (last[0], last[1])


def _check_endpoints(ctx: _Feature, geom: BaseGeometry) -> None:
    if not isinstance(geom, LineString | MultiLineString):
        return
    tol = float(settings.LINE_ENDPOINT_TOLERANCE_KM)
    first, last = _endpoints(geom)
    for label, (lon, lat), code in (("first", first, ctx.declared[0]),
                                    ("last", last, ctx.declared[-1])):
        gap = distance_km(lon, lat, ctx.bounds.countries[code])
        if gap > tol:
            ctx.report.error(ctx.file, ctx.fid, "geometry", "line-endpoint",
                             f"the {label} vertex within {tol:g} km of {code} (the {label} of "
                             "'countries')", f"{ctx.where(lon, lat)}, {gap:.0f} km from {code}",
                             f"the line's {label} vertex is not in its {label} declared country")


def _check_point(ctx: _Feature, geom: BaseGeometry) -> None:
    tol = float(settings.POINT_COUNTRY_TOLERANCE_KM)
    lon, lat = geom.x, geom.y
    gaps = {c: distance_km(lon, lat, ctx.bounds.countries[c]) for c in ctx.declared}
    nearest = min(gaps, key=lambda c: gaps[c])
    if gaps[nearest] > tol:
        ctx.report.error(ctx.file, ctx.fid, "geometry", "point-country",
                         f"within {tol:g} km of {' or '.join(ctx.declared)}",
                         f"{ctx.where(lon, lat)}, {gaps[nearest]:.0f} km from {nearest}",
                         "point is not in the country it declares")


def _check_port(ctx: _Feature, geom: BaseGeometry, rec: dict[str, Any]) -> None:
    a, b = rec.get("country_a"), rec.get("country_b")
    if not (isinstance(a, str) and isinstance(b, str)):
        return
    if a not in ctx.bounds.countries or b not in ctx.bounds.countries:
        return  # reported as boundary-unknown when declared
    tol = float(settings.BORDER_PORT_DISTANCE_KM)
    border = ctx.bounds.border(a, b)
    if border.is_empty:
        ctx.report.error(ctx.file, ctx.fid, "country_b", "port-border",
                         f"a country bordering {a}", b, f"{a} and {b} share no border")
        return
    gap = distance_km(geom.x, geom.y, border)
    if gap > tol:
        ctx.report.error(ctx.file, ctx.fid, "geometry", "port-border",
                         f"within {tol:g} km of the {a}–{b} border",
                         f"{ctx.where(geom.x, geom.y)}, {gap:.0f} km from it",
                         "border port is far from the border it serves")


# --------------------------------------------------------------------------- rail crossings


@dataclass(frozen=True)
class _Port:
    fid: str
    countries: frozenset[str]
    lon: float
    lat: float


def _rail_ports(inp: LayerInput | None) -> list[_Port]:
    if inp is None:
        return []
    points = dict(zip(inp.geometries["id"], inp.geometries.geometry, strict=True))
    ports = []
    for rec in inp.attributes.to_dict("records"):
        geom = points.get(rec["id"])
        if geom is None or geom.geom_type != "Point" or "rail" not in (rec.get("modes") or []):
            continue
        sides = frozenset(s for s in (rec.get("country_a"), rec.get("country_b")) if s)
        ports.append(_Port(str(rec["id"]), sides, geom.x, geom.y))
    return ports


def _crossings(geom: BaseGeometry, visits: list[Visit], declared: list[str],
               ) -> list[tuple[str, str, float, float]]:
    """Land-border crossings along the line: (from, to, lon, lat)."""
    tol = float(settings.LINE_COUNTRY_TOLERANCE_KM)
    parts = [geom] if isinstance(geom, LineString) else list(geom.geoms)
    out = []
    for index, part in enumerate(parts):
        # drop brief stretches through third countries, then look at each change of country
        stays = [v for v in visits
                 if v.part == index and (v.country in declared or v.km > tol)]
        for prev, nxt in itertools.pairwise(stays):
            if prev.country == nxt.country:
                continue
            x0, y0 = part.interpolate(prev.end).coords[0]
            x1, y1 = part.interpolate(nxt.start).coords[0]
            if _GEOD.line_length([x0, x1], [y0, y1]) / 1000.0 > _TOUCH_KM and not any(
                    v.part == index and prev.end <= v.start and v.end <= nxt.start
                    for v in visits):
                continue  # the line leaves land in between: a sea leg, not a border
            out.append((prev.country, nxt.country, (x0 + x1) / 2, (y0 + y1) / 2))
    return out


def _check_rail_crossings(ctx: _Feature, geom: BaseGeometry, visits: list[Visit],
                          ports: list[_Port]) -> None:
    tol = float(settings.RAIL_CROSSING_PORT_KM)
    for a, b, lon, lat in _crossings(geom, visits, ctx.declared):
        pair = frozenset((a, b))
        near = [p for p in ports if p.countries == pair
                and _GEOD.inv(lon, lat, p.lon, p.lat)[2] / 1000.0 <= tol]
        if not near:
            ctx.report.warning(ctx.file, ctx.fid, "geometry", "rail-crossing-port",
                               f"a rail border port of {a} and {b} within {tol:g} km",
                               f"none near lon {lon:.4f}, lat {lat:.4f}",
                               f"railway crosses the {a}–{b} border where no rail port is "
                               "recorded")
