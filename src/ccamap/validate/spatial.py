"""Spatial consistency: declared countries against the country outlines, and ports at borders.

Every check records a problem and goes on. Distances are geodesic (WGS84) and every tolerance is
a named setting in km, read when the check runs (the codes and their meaning are in
:mod:`ccamap.rules`: ``line-countries``, ``line-country-order``, ``line-endpoint``,
``point-country``, ``port-border``, ``rail-crossing-port``, ``boundary-unknown``,
``spatial-skipped``).

What a layer is checked for comes from the layer registry: lines against the countries they
cross, points against the country they stand in, a layer with :attr:`~ccamap.layers.Layer.sides`
against the border between its two sides, and a line layer with
:attr:`~ccamap.layers.Layer.crossing_ports` for a port at each land border it crosses.

The common case is decided for every feature at once: one spatial index query finds the lines
wholly inside their one declared country and the points inside a declared country, which have
nothing to report; only the others are measured one by one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from ccamap import rules, settings
from ccamap.boundaries import Boundaries, Visit, country_visits, line_parts, load_boundaries
from ccamap.errors import LoadError
from ccamap.geo import distance_km, pair_km
from ccamap.layers import CrossingPorts, Layer
from ccamap.report import Report
from ccamap.validate.inputs import LayerInput

__all__ = ["check_spatial"]

#: Two visits along a line closer than this (km) meet at a land border; farther apart, the
#: line left land in between (a sea leg such as the Trans-Caspian ferry).
_TOUCH_KM = 1.0


def check_spatial(
    inputs: dict[str, LayerInput],
    geodata: Path,
    report: Report,
    *,
    step: Callable[[str], None] | None = None,
) -> None:
    """Check every layer's geometry against the countries it declares.

    Parameters
    ----------
    inputs
        The checked inputs by layer name (as :func:`ccamap.validate.validate` returns them).
    geodata
        The data directory; its ``boundaries.geojson`` holds the country outlines.
    report
        Where problems are recorded.
    step
        Told the name of each layer once it is checked (for progress).
    """
    path = Path(geodata) / settings.BOUNDARIES_FILE
    if not path.exists():
        report.add(rules.SPATIAL_SKIPPED, file=path, expected="country outlines",
                   found="no file", message="no country outlines: spatial checks skipped")
        return
    try:
        bounds = load_boundaries(path)
    except LoadError as exc:
        report.add(rules.rule(exc.code), file=exc.path, expected=exc.expected, found=exc.found,
                   message="cannot read the country outlines")
        return
    for name, inp in inputs.items():
        rule = inp.layer.crossing_ports
        ports = _crossing_ports(inputs, rule) if rule is not None else []
        _check_layer(inp, bounds, report, ports)
        if step is not None:
            step(name)


def _declared(inp: LayerInput) -> list[list[str] | None]:
    """Each geometry's declared countries (``None``: no attribute row)."""
    attrs = inp.attributes
    if "countries" not in attrs:
        by_id: dict[Any, Any] = {key: [] for key in attrs["id"]}
    else:
        by_id = dict(zip(attrs["id"], attrs["countries"], strict=True))
    missing = object()
    out: list[list[str] | None] = []
    for fid in inp.geometries["id"]:
        value = by_id.get(fid, missing)
        out.append(None if value is missing else
                   [c for c in value or [] if isinstance(c, str)])
    return out


def _quiet(geoms: np.ndarray, declared: list[list[str] | None], bounds: Boundaries,
           layer: Layer) -> np.ndarray:
    """Mark the features that have nothing to report, decided for all of them at once.

    A feature without a row or geometry is skipped (validation reports it). A line wholly
    inside its one declared country, or a point inside one of its declared countries, has no
    problem to report; everything else is measured one by one.
    """
    skip = np.array([not d for d in declared], dtype=bool)  # no row, or no country given
    skip |= shapely.is_missing(geoms)
    skip[~skip] |= shapely.is_empty(geoms[~skip])
    if layer.sides is not None or skip.all():
        return skip  # each port is measured against its own border
    pairs = pd.DataFrame([(i, c) for i, d in enumerate(declared) if d for c in d],
                         columns=["row", "code"])
    unknown = pairs.loc[~pairs["code"].isin(list(bounds.countries)), "row"].unique()
    if layer.is_line:  # a line is quiet only inside its one declared country
        single = np.array([d is not None and len(d) == 1 for d in declared], dtype=bool)
        pairs = pairs[single[pairs["row"].to_numpy()]]
    codes, tree = bounds.tree
    candidates = geoms.copy()
    candidates[skip] = None
    inside, country = tree.query(candidates, predicate="covered_by")
    covered = pd.DataFrame({"row": inside, "code": np.asarray(codes, dtype=object)[country]})
    quiet = skip.copy()
    quiet[pairs.merge(covered, on=["row", "code"])["row"].unique()] = True
    quiet[unknown] = skip[unknown]  # warn about codes without an outline
    return quiet


def _check_layer(inp: LayerInput, bounds: Boundaries, report: Report,
                 ports: list[_Port]) -> None:
    """Check one layer: the common case at once, the rest feature by feature."""
    layer = inp.layer
    geoms = np.asarray(inp.geometries.geometry, dtype=object)
    declared = _declared(inp)
    quiet = _quiet(geoms, declared, bounds, layer)
    todo = np.flatnonzero(~quiet)
    if not len(todo):
        return
    ids = inp.geometries["id"].to_numpy(dtype=object)
    records = inp.attributes.set_index("id", drop=False)
    file = str(inp.geometry_file)
    for i in todo:
        fid, geom, codes = ids[i], geoms[i], declared[i]
        rec = {str(k): v for k, v in records.loc[fid].items()}
        ctx = _Feature(file, str(fid), list(codes or []), bounds, report)
        if not ctx.known_countries():
            continue
        if layer.is_line:
            visits = _check_line(ctx, geom)
            if layer.crossing_ports is not None:
                _check_crossings(ctx, geom, visits, ports, layer.crossing_ports)
        else:
            _check_point(ctx, geom)
            if layer.sides is not None:
                _check_port(ctx, geom, rec, layer.sides)


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
                self.report.add(rules.BOUNDARY_UNKNOWN, file=self.file, feature_id=self.fid,
                                field="countries",
                                expected=f"a country of {Path(self.bounds.file).name}", found=code,
                                message="no outline for this country: it is not checked")
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
            ctx.report.add(rules.LINE_COUNTRIES, file=ctx.file, feature_id=ctx.fid,
                           field="countries",
                           expected=f"no stretch longer than {tol:g} km in an undeclared country",
                           found=f"{km:.0f} km in {code} ({km_in[code]:.0f} km in all)",
                           message=f"line runs through {code}, which 'countries' does not list")
    for code in ctx.declared:
        if code in km_in:
            continue
        gap = _geom_distance_km(geom, ctx.bounds.countries[code])
        if gap > tol:
            ctx.report.add(rules.LINE_COUNTRIES, file=ctx.file, feature_id=ctx.fid,
                           field="countries", expected=f"the line within {tol:g} km of {code}",
                           found=f"{gap:.0f} km away",
                           message=f"line never reaches {code}, which 'countries' lists")
    order = [c for c, _ in itertools.groupby(
        v.country for v in visits if v.country in ctx.declared)]
    first_seen = list(dict.fromkeys(order))
    expected = [c for c in ctx.declared if c in first_seen]
    if isinstance(geom, LineString) and first_seen != expected:
        ctx.report.add(rules.LINE_COUNTRY_ORDER, file=ctx.file, feature_id=ctx.fid,
                       field="countries", expected=";".join(expected), found=";".join(first_seen),
                       message="'countries' is not in the order the line visits them")
    _check_endpoints(ctx, geom)
    return visits


def _geom_distance_km(geom: BaseGeometry, country: BaseGeometry) -> float:
    """Geodesic distance from a line to a country, through the line's nearest vertex-ish point."""
    if geom.intersects(country):
        return 0.0
    near = shapely.get_coordinates(shapely.shortest_line(geom, country))[0]
    return distance_km(float(near[0]), float(near[1]), country)


def _endpoints(geom: BaseGeometry) -> tuple[tuple[float, float], tuple[float, float]]:
    parts = line_parts(geom)
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
            ctx.report.add(rules.LINE_ENDPOINT, file=ctx.file, feature_id=ctx.fid, field="geometry",
                           expected=f"the {label} vertex within {tol:g} km of {code} "
                                    f"(the {label} of 'countries')",
                           found=f"{ctx.where(lon, lat)}, {gap:.0f} km from {code}",
                           message=f"the line's {label} vertex is not in its {label} "
                                   "declared country")


def _check_point(ctx: _Feature, geom: BaseGeometry) -> None:
    tol = float(settings.POINT_COUNTRY_TOLERANCE_KM)
    lon, lat = geom.x, geom.y
    gaps = {c: distance_km(lon, lat, ctx.bounds.countries[c]) for c in ctx.declared}
    nearest = min(gaps, key=lambda c: gaps[c])
    if gaps[nearest] > tol:
        ctx.report.add(rules.POINT_COUNTRY, file=ctx.file, feature_id=ctx.fid, field="geometry",
                       expected=f"within {tol:g} km of {' or '.join(ctx.declared)}",
                       found=f"{ctx.where(lon, lat)}, {gaps[nearest]:.0f} km from {nearest}",
                       message="point is not in the country it declares")


def _check_port(ctx: _Feature, geom: BaseGeometry, rec: dict[str, Any],
                sides: tuple[str, str]) -> None:
    a, b = rec.get(sides[0]), rec.get(sides[1])
    if not (isinstance(a, str) and isinstance(b, str)):
        return
    if a not in ctx.bounds.countries or b not in ctx.bounds.countries:
        return  # reported as boundary-unknown when declared
    tol = float(settings.BORDER_PORT_DISTANCE_KM)
    border = ctx.bounds.border(a, b)
    if border.is_empty:
        ctx.report.add(rules.PORT_BORDER, file=ctx.file, feature_id=ctx.fid, field=sides[1],
                       expected=f"a country bordering {a}", found=b,
                       message=f"{a} and {b} share no border")
        return
    gap = distance_km(geom.x, geom.y, border)
    if gap > tol:
        ctx.report.add(rules.PORT_BORDER, file=ctx.file, feature_id=ctx.fid, field="geometry",
                       expected=f"within {tol:g} km of the {a}–{b} border",
                       found=f"{ctx.where(geom.x, geom.y)}, {gap:.0f} km from it",
                       message="border port is far from the border it serves")


# --------------------------------------------------------------------------- border crossings


@dataclass(frozen=True)
class _Port:
    fid: str
    countries: frozenset[str]
    lon: float
    lat: float


def _crossing_ports(inputs: dict[str, LayerInput], rule: CrossingPorts) -> list[_Port]:
    """Return the points of ``rule.layer`` whose ``rule.field`` lists ``rule.value``."""
    inp = inputs.get(rule.layer)
    if inp is None or inp.layer.sides is None or rule.field not in inp.attributes:
        return []
    side_a, side_b = inp.layer.sides
    points = dict(zip(inp.geometries["id"], inp.geometries.geometry, strict=True))
    table = inp.attributes.reindex(columns=["id", rule.field, side_a, side_b])
    ports = []
    for fid, values, a, b in table.itertuples(index=False, name=None):
        geom = points.get(fid)
        if geom is None or geom.geom_type != "Point" or rule.value not in (values or []):
            continue
        sides = frozenset(s for s in (a, b) if s)
        ports.append(_Port(str(fid), sides, geom.x, geom.y))
    return ports


def _crossings(geom: BaseGeometry, visits: list[Visit], declared: list[str],
               ) -> list[tuple[str, str, float, float]]:
    """Land-border crossings along the line: (from, to, lon, lat)."""
    tol = float(settings.LINE_COUNTRY_TOLERANCE_KM)
    parts = line_parts(geom)
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
            if pair_km(x0, y0, x1, y1) > _TOUCH_KM and not any(
                    v.part == index and prev.end <= v.start and v.end <= nxt.start
                    for v in visits):
                continue  # the line leaves land in between: a sea leg, not a border
            out.append((prev.country, nxt.country, (x0 + x1) / 2, (y0 + y1) / 2))
    return out


def _check_crossings(ctx: _Feature, geom: BaseGeometry, visits: list[Visit],
                     ports: list[_Port], rule: CrossingPorts) -> None:
    tol = float(settings.RAIL_CROSSING_PORT_KM)
    for a, b, lon, lat in _crossings(geom, visits, ctx.declared):
        pair = frozenset((a, b))
        near = [p for p in ports if p.countries == pair
                and pair_km(lon, lat, p.lon, p.lat) <= tol]
        if not near:
            ctx.report.add(rules.RAIL_CROSSING_PORT, file=ctx.file, feature_id=ctx.fid,
                           field="geometry",
                           expected=f"a {rule.value} border port of {a} and {b} within {tol:g} km",
                           found=f"none near lon {lon:.4f}, lat {lat:.4f}",
                           message=f"{rule.noun} crosses the {a}–{b} border where no "
                                   f"{rule.value} port is recorded")
