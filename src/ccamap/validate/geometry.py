"""Checks of GeoJSON features: structure, ids, geometry types and coordinates.

The features are parsed JSON, so their structure is checked feature by feature; the
coordinates of a clean line (every position 2 or 3 finite numbers, no repeated vertex) are
checked as one numpy array, and only a line that fails goes through the position-by-position
checks that say exactly what is wrong. The built geometries are then checked all at once
(:mod:`ccamap.validate.shapes`).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ccamap import rules
from ccamap.coords import PackedLines, pack_lines
from ccamap.errors import LoadError
from ccamap.layers import Layer
from ccamap.report import Problem, Report
from ccamap.safety import reserved_column
from ccamap.validate.inputs import ID_PATTERN, RESERVED_EXPECTED, short
from ccamap.validate.shapes import check_shapes

__all__ = ["check_features"]

_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84",
          "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"}
#: Reserved names a GeoJSON feature's properties may use: the per-vertex lists live there.
_GEOJSON_MEMBERS = ("waypoints", "coordinate_sources")


def check_features(
    doc: dict[str, Any], layer: Layer, file: str, report: Report
) -> gpd.GeoDataFrame:
    """Check every feature of a FeatureCollection; return the usable ones.

    Parameters
    ----------
    doc
        The parsed FeatureCollection.
    layer
        The layer it should hold.
    file
        The file name used in problems.
    report
        Where problems are recorded.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``waypoints``, ``coordinate_sources`` and ``geometry`` (EPSG:4326) of each
        feature that passed; features with errors are left out.
    """
    transformer = _crs_transformer(doc, file, report)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    start = len(report.problems)
    marks: list[int] = []  # where each row's structure problems end
    for number, feature in enumerate(doc["features"], start=1):
        row = _check_feature(feature, number, layer, file, report, seen)
        if row is not None:
            rows.append(row)
            marks.append(len(report.problems))
    geoms = np.array([r["geometry"] for r in rows], dtype=object)
    if transformer is not None and len(geoms):
        geoms = shapely.transform(geoms, lambda xy: _transform_xy(transformer, xy))
    ok, found = check_shapes(geoms, [r["id"] for r in rows], file)
    _interleave(report, start, marks, found)
    kept = [dict(r, geometry=g) for r, g, good in zip(rows, geoms, ok, strict=True) if good]
    _check_reserved_properties(doc["features"], file, report)
    columns = ["id", "waypoints", "coordinate_sources", "geometry"]
    gdf = gpd.GeoDataFrame(kept, columns=columns, geometry="geometry", crs="EPSG:4326")
    # ids of features that exist but were rejected: not orphans, already reported
    gdf.attrs["rejected"] = sorted(seen - {r["id"] for r in kept})
    return gdf


def _interleave(report: Report, start: int, marks: list[int],
                found: dict[int, list[Problem]]) -> None:
    """Put each geometry's shape problems right after its structure problems, in file order."""
    if not found:
        return
    problems = report.problems[start:]
    merged: list[Problem] = []
    done = 0
    for row, mark in enumerate(marks):
        if row in found:
            merged.extend(problems[done:mark - start])
            merged.extend(found[row])
            done = mark - start
    merged.extend(problems[done:])
    del report.problems[start:]
    report.problems.extend(merged)


def _clean_line(coords: Any, gtype: Any) -> tuple[bool, BaseGeometry] | None:
    """Build a line whose positions are all clean, checked over arrays; ``None`` otherwise.

    ``coords`` is either already built by the reader or a list, built here
    (:func:`ccamap.coords.pack_lines` says what clean means). Anything else returns ``None``
    and is checked position by position, with exact messages.
    """
    packed = coords if isinstance(coords, PackedLines) else pack_lines(coords, gtype)
    if packed is None:
        return None
    return packed.altitude, packed.geometry


def _listed(value: Any) -> list[Any]:
    """Return a per-vertex property (``waypoints``, ``coordinate_sources``) as a list.

    A list is taken as it is: it holds one item per vertex, and a copy would double its memory
    while the document is alive. Anything else becomes ``list(value or [])``.
    """
    return value if type(value) is list else list(value or [])


def _position_problem(pos: Any) -> str | None:
    """Say what is wrong with one GeoJSON position, or ``None``."""
    if not isinstance(pos, list):
        return f"a position array, found {type(pos).__name__}"
    if len(pos) < 2 or len(pos) > 3:
        return f"a position of 2 numbers (lon, lat), found {len(pos)} number(s)"
    for value in pos:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"numbers in positions, found {value!r}"
        if not math.isfinite(value):
            return f"finite numbers in positions, found {value!r}"
    return None


#: How many levels of arrays each geometry type's ``coordinates`` has (a position is one).
_COORDINATE_DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3,
                     "Polygon": 3, "MultiPolygon": 4}
_COORDINATE_SHAPE = {"Point": "one position", "MultiPoint": "an array of positions",
                     "LineString": "an array of positions",
                     "MultiLineString": "an array of arrays of positions",
                     "Polygon": "an array of rings of positions",
                     "MultiPolygon": "an array of polygons of rings of positions"}


def _nesting_problem(coords: Any, depth: int) -> str | None:
    """Say how ``coords`` departs from ``depth`` levels of arrays, or ``None`` if it does not."""
    level, items = 1, [coords]
    while level < depth:
        below = []
        for item in items:
            for child in item:
                if not isinstance(child, list):
                    return f"a number or {type(child).__name__} at depth {level}"
                below.append(child)
        items, level = below, level + 1
    for item in items:
        if any(isinstance(value, list) for value in item):
            return f"arrays nested deeper than {depth} level{'s' if depth > 1 else ''}"
    return None


def _positions(coords: Any) -> list[Any]:
    """Flatten nested GeoJSON coordinates into positions (anything not a list is a position)."""
    if isinstance(coords, list) and coords and isinstance(coords[0], list):
        out: list[Any] = []
        for item in coords:
            out.extend(_positions(item))
        return out
    return [coords]


def _crs_transformer(doc: dict[str, Any], file: str, report: Report) -> Transformer | None:
    """Read a legacy ``crs`` member: ``None`` for lon/lat, a transformer to reproject otherwise."""
    member = doc.get("crs")
    if member is None:
        return None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if name in _CRS84:
        report.add(rules.CRS_MEMBER, file=file, field="crs", expected="no crs member (RFC 7946)",
                   found=name, message="crs member names WGS84 lon/lat; it is ignored")
        return None
    try:
        crs = CRS.from_user_input(name)
    except (CRSError, TypeError):
        raise LoadError(file, "a crs member naming a known CRS", short(member),
                        code="crs-unknown",
                        hint="coordinates cannot be read as lon/lat") from None
    report.add(rules.REPROJECTED, file=file, field="crs", expected="WGS84 lon/lat (RFC 7946)",
               found=name, message=f"coordinates reprojected from {name} to WGS84")
    return Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)


def _drop_repeated(coords: list[Any]) -> tuple[list[Any], list[int]]:
    """Remove consecutive duplicate positions; return the kept list and dropped indexes."""
    kept: list[Any] = []
    dropped: list[int] = []
    for i, pos in enumerate(coords):
        if kept and pos == kept[-1]:
            dropped.append(i)
        else:
            kept.append(pos)
    return kept, dropped


def _check_feature(
    feature: Any,
    number: int,
    layer: Layer,
    file: str,
    report: Report,
    seen: set[str],
) -> dict[str, Any] | None:
    label = f"#{number}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        kind = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
        report.add(rules.FEATURE_TYPE, file=file, feature_id=label, field="type",
                   expected="'Feature'", found=repr(kind), message="not a GeoJSON Feature")
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        props = {}
    fid = props.get("id", feature.get("id"))
    if fid is None or fid == "":
        report.add(rules.MISSING_ID, file=file, feature_id=label, field="id",
                   expected="a string id", found="nothing", message="feature has no id")
        return None
    if not isinstance(fid, str):
        report.add(rules.ID_TYPE, file=file, feature_id=label, field="id", expected="a string id",
                   found=f"{type(fid).__name__} {fid!r}",
                   message="ids are strings (write \"007\", not 7)")
        return None
    if fid in seen:
        report.add(rules.DUPLICATE_ID, file=file, feature_id=fid, field="id",
                   expected="a unique id", found="a second feature",
                   message="duplicate feature id")
        return None
    seen.add(fid)
    if fid != fid.strip() or not ID_PATTERN.match(fid):
        report.add(rules.ID_FORMAT, file=file, feature_id=fid, field="id",
                   expected="a lowercase slug like 'rail-cku'", found=repr(fid),
                   message="malformed id")

    geom = feature.get("geometry")
    if geom is None:
        report.add(rules.NULL_GEOMETRY, file=file, feature_id=fid, field="geometry",
                   expected="a geometry", found="null", message="feature has no geometry")
        return None
    if not isinstance(geom, dict):
        report.add(rules.GEOMETRY_TYPE, file=file, feature_id=fid, field="geometry",
                   expected="a geometry object", found=type(geom).__name__,
                   message="geometry is not an object")
        return None
    gtype = geom.get("type")
    if gtype not in layer.geometry_types:
        hint = ""
        if isinstance(gtype, str) and gtype.lower() in {t.lower() for t in layer.geometry_types}:
            hint = " (type names are case-sensitive)"
        report.add(rules.GEOMETRY_TYPE, file=file, feature_id=fid, field="geometry",
                   expected=" or ".join(layer.geometry_types), found=repr(gtype),
                   message=f"wrong geometry type for layer {layer.name}{hint}")
        return None
    coords: Any = geom.get("coordinates")  # a list, or PackedLines from a compact read
    if not isinstance(coords, list | PackedLines):
        report.add(rules.COORDINATES, file=file, feature_id=fid, field="geometry",
                   expected="a coordinates array", found=short(coords),
                   message="geometry has no coordinates")
        return None
    if isinstance(coords, list) and (coords == [] or all(part == [] for part in coords)):
        report.add(rules.EMPTY_GEOMETRY, file=file, feature_id=fid, field="geometry",
                   expected="a non-empty geometry", found=f"empty {gtype}",
                   message="geometry is empty")
        return None
    fast = _clean_line(coords, gtype)
    if fast is not None:  # the common case, decided over numpy arrays
        altitude, shp = fast
        if altitude:
            report.add(rules.ALTITUDE_DROPPED, file=file, feature_id=fid, field="geometry",
                       expected="2D positions", found="3D positions", message="altitude dropped")
        return {"id": fid, "waypoints": _listed(props.get("waypoints")),
                "coordinate_sources": _listed(props.get("coordinate_sources")),
                "geometry": shp}
    nesting = _nesting_problem(coords, _COORDINATE_DEPTH.get(gtype, 1))
    if nesting:
        report.add(rules.COORDINATES, file=file, feature_id=fid, field="geometry",
                   expected=f"{gtype} coordinates as {_COORDINATE_SHAPE.get(gtype, 'positions')}",
                   found=nesting, message="coordinates nested wrongly for the geometry type")
        return None
    for pos in _positions(coords):
        problem = _position_problem(pos)
        if problem:
            report.add(rules.POSITION, file=file, feature_id=fid, field="geometry",
                       expected=problem.split(", found")[0], found=problem.split("found ", 1)[-1],
                       message="malformed position")
            return None
    if any(len(p) == 3 for p in _positions(coords)):
        report.add(rules.ALTITUDE_DROPPED, file=file, feature_id=fid, field="geometry",
                   expected="2D positions", found="3D positions", message="altitude dropped")
        coords = _map_positions(coords, lambda p: p[:2])

    waypoints = props.get("waypoints") or []
    coord_sources = props.get("coordinate_sources") or []
    if gtype in ("LineString", "MultiLineString"):
        parts = [coords] if gtype == "LineString" else coords
        new_parts: list[Any] = []
        offset = 0
        drop_all: list[int] = []
        for part in parts:
            kept, dropped = _drop_repeated(part)
            drop_all.extend(offset + i for i in dropped)
            offset += len(part)
            new_parts.append(kept)
        if drop_all:
            report.add(rules.DUPLICATE_VERTEX, file=file, feature_id=fid, field="geometry",
                       expected="distinct consecutive vertices",
                       found=f"{len(drop_all)} repeated", message="repeated vertices removed")
            coords = new_parts[0] if gtype == "LineString" else new_parts
            if len(waypoints) == offset:
                waypoints = [w for i, w in enumerate(waypoints) if i not in drop_all]
            if len(coord_sources) == offset:
                coord_sources = [s for i, s in enumerate(coord_sources) if i not in drop_all]
        for part in [coords] if gtype == "LineString" else coords:
            if len({tuple(p) for p in part}) < 2:
                report.add(rules.DEGENERATE_LINE, file=file, feature_id=fid, field="geometry",
                           expected="a line of at least 2 distinct points",
                           found=f"{len({tuple(p) for p in part})} distinct point(s)",
                           message="line collapses to a point")
                return None
    try:
        shp = shape({"type": gtype, "coordinates": coords})
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        report.add(rules.INVALID_GEOMETRY, file=file, feature_id=fid, field="geometry",
                   expected=f"a valid {gtype}", found=str(exc), message="geometry cannot be built")
        return None
    if shp.is_empty:
        report.add(rules.EMPTY_GEOMETRY, file=file, feature_id=fid, field="geometry",
                   expected="a non-empty geometry", found="empty", message="geometry is empty")
        return None
    return {"id": fid, "waypoints": list(waypoints), "coordinate_sources": list(coord_sources),
            "geometry": shp}


def _check_reserved_properties(features: list[Any], file: str, report: Report) -> None:
    """Report each property name ccamap sets itself, once per file, at its first feature."""
    reported: set[str] = set()
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            continue
        for key in props:
            if (isinstance(key, str) and key not in _GEOJSON_MEMBERS and key not in reported
                    and reserved_column(key)):
                reported.add(key)
                fid = props.get("id")
                report.add(rules.RESERVED_COLUMN, file=file,
                           feature_id=fid if isinstance(fid, str) and fid else f"#{number}",
                           field=key, expected=RESERVED_EXPECTED, found=repr(key),
                           message="property name is reserved by ccamap: rename the property")


def _transform_xy(transformer: Transformer, xy: Any) -> Any:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    xy[:, 0], xy[:, 1] = x, y
    return xy


def _map_positions(coords: Any, fn: Any) -> Any:
    if coords and isinstance(coords[0], list):
        return [_map_positions(c, fn) for c in coords]
    return fn(coords)

