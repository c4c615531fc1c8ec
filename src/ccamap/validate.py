"""Validation of geometries, attributes, sources and the join between them.

Every check records a :class:`~ccamap.report.Problem` and goes on; callers decide from the whole
report whether to fail.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pandera.pandas as pa
import pycountry
import shapely
from pandera.errors import SchemaErrors
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ccamap import settings
from ccamap.errors import CcamapError, LoadError
from ccamap.io import read_attribute_table, read_feature_collection
from ccamap.layers import LAYERS, Field, Layer
from ccamap.report import Report
from ccamap.safety import RESERVED_COLUMNS, reserved_column

__all__ = [
    "SOURCE_COLUMNS",
    "LayerInput",
    "check_attributes",
    "check_catalogue",
    "check_features",
    "check_join",
    "load_sources",
    "parse_field_sources",
    "validate",
    "validate_layer",
]

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SOURCE_COLUMNS = ("id", "title", "publisher", "date", "url", "kind")
SOURCE_KINDS = ("seed", "web", "dataset")
_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84",
          "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"}
#: Cyrillic letters that look like Latin ones (for reporting near-identical keys).
_HOMOGLYPHS = str.maketrans("аеорсухкмтвнАЕОРСХКМТВН", "aeopcyxkmtbhAEOPCXKMTBH")


@dataclass
class LayerInput:
    """One layer's checked input: geometries and typed attributes, not yet joined.

    Attributes
    ----------
    layer
        The registry entry.
    geometry_file, attribute_file
        The files read.
    geometries
        ``id``, ``waypoints``, ``coordinate_sources`` and ``geometry`` of every usable feature.
    attributes
        One row per record, parsed to the registry's types (missing values are ``None``).
    """

    layer: Layer
    geometry_file: Path
    attribute_file: Path
    geometries: gpd.GeoDataFrame
    attributes: pd.DataFrame


# --------------------------------------------------------------------------- geometry


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
        report.info(file, "", "crs", "crs-member", "no crs member (RFC 7946)", name,
                    "crs member names WGS84 lon/lat; it is ignored")
        return None
    try:
        crs = CRS.from_user_input(name)
    except (CRSError, TypeError):
        raise LoadError(file, "a crs member naming a known CRS", _short(member),
                        code="crs-unknown",
                        hint="coordinates cannot be read as lon/lat") from None
    report.warning(file, "", "crs", "reprojected", "WGS84 lon/lat (RFC 7946)", name,
                   f"coordinates reprojected from {name} to WGS84")
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
    for number, feature in enumerate(doc["features"], start=1):
        row = _check_feature(feature, number, layer, file, report, seen, transformer)
        if row is not None:
            rows.append(row)
    _check_reserved_properties(doc["features"], file, report)
    columns = ["id", "waypoints", "coordinate_sources", "geometry"]
    gdf = gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326")
    # ids of features that exist but were rejected: not orphans, already reported
    gdf.attrs["rejected"] = sorted(seen - {r["id"] for r in rows})
    return gdf


def _check_feature(
    feature: Any,
    number: int,
    layer: Layer,
    file: str,
    report: Report,
    seen: set[str],
    transformer: Transformer | None,
) -> dict[str, Any] | None:
    label = f"#{number}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        kind = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
        report.error(file, label, "type", "feature-type", "'Feature'", repr(kind),
                     "not a GeoJSON Feature")
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        props = {}
    fid = props.get("id", feature.get("id"))
    if fid is None or fid == "":
        report.error(file, label, "id", "missing-id", "a string id", "nothing",
                     "feature has no id")
        return None
    if not isinstance(fid, str):
        report.error(file, label, "id", "id-type", "a string id", f"{type(fid).__name__} {fid!r}",
                     "ids are strings (write \"007\", not 7)")
        return None
    if fid in seen:
        report.error(file, fid, "id", "duplicate-id", "a unique id", "a second feature",
                     "duplicate feature id")
        return None
    seen.add(fid)
    if fid != fid.strip() or not ID_PATTERN.match(fid):
        report.error(file, fid, "id", "id-format", "a lowercase slug like 'rail-cku'", repr(fid),
                     "malformed id")

    geom = feature.get("geometry")
    if geom is None:
        report.error(file, fid, "geometry", "null-geometry", "a geometry", "null",
                     "feature has no geometry")
        return None
    if not isinstance(geom, dict):
        report.error(file, fid, "geometry", "geometry-type", "a geometry object",
                     type(geom).__name__, "geometry is not an object")
        return None
    gtype = geom.get("type")
    if gtype not in layer.geometry_types:
        hint = ""
        if isinstance(gtype, str) and gtype.lower() in {t.lower() for t in layer.geometry_types}:
            hint = " (type names are case-sensitive)"
        report.error(file, fid, "geometry", "geometry-type", " or ".join(layer.geometry_types),
                     repr(gtype), f"wrong geometry type for layer {layer.name}{hint}")
        return None
    coords = geom.get("coordinates")
    if not isinstance(coords, list):
        report.error(file, fid, "geometry", "coordinates", "a coordinates array",
                     _short(coords), "geometry has no coordinates")
        return None
    if coords == [] or all(part == [] for part in coords):
        report.error(file, fid, "geometry", "empty-geometry", "a non-empty geometry",
                     f"empty {gtype}", "geometry is empty")
        return None
    nesting = _nesting_problem(coords, _COORDINATE_DEPTH.get(gtype, 1))
    if nesting:
        report.error(file, fid, "geometry", "coordinates",
                     f"{gtype} coordinates as {_COORDINATE_SHAPE.get(gtype, 'positions')}",
                     nesting, "coordinates nested wrongly for the geometry type")
        return None
    for pos in _positions(coords):
        problem = _position_problem(pos)
        if problem:
            report.error(file, fid, "geometry", "position", problem.split(", found")[0],
                         problem.split("found ", 1)[-1], "malformed position")
            return None
    if any(len(p) == 3 for p in _positions(coords)):
        report.warning(file, fid, "geometry", "altitude-dropped", "2D positions",
                       "3D positions", "altitude dropped")
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
            report.warning(file, fid, "geometry", "duplicate-vertex", "distinct consecutive "
                           "vertices", f"{len(drop_all)} repeated", "repeated vertices removed")
            coords = new_parts[0] if gtype == "LineString" else new_parts
            if len(waypoints) == offset:
                waypoints = [w for i, w in enumerate(waypoints) if i not in drop_all]
            if len(coord_sources) == offset:
                coord_sources = [s for i, s in enumerate(coord_sources) if i not in drop_all]
        for part in [coords] if gtype == "LineString" else coords:
            if len({tuple(p) for p in part}) < 2:
                report.error(file, fid, "geometry", "degenerate-line",
                             "a line of at least 2 distinct points",
                             f"{len({tuple(p) for p in part})} distinct point(s)",
                             "line collapses to a point")
                return None
    try:
        shp = shape({"type": gtype, "coordinates": coords})
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        report.error(file, fid, "geometry", "invalid-geometry", f"a valid {gtype}", str(exc),
                     "geometry cannot be built")
        return None
    if shp.is_empty:
        report.error(file, fid, "geometry", "empty-geometry", "a non-empty geometry", "empty",
                     "geometry is empty")
        return None
    if transformer is not None:
        shp = shapely.transform(shp, lambda xy: _transform_xy(transformer, xy))
    if not _check_shape(shp, fid, file, report):
        return None
    return {"id": fid, "waypoints": list(waypoints), "coordinate_sources": list(coord_sources),
            "geometry": shp}


#: Reserved names a GeoJSON feature's properties may use: the per-vertex lists live there.
_GEOJSON_MEMBERS = ("waypoints", "coordinate_sources")
_RESERVED_EXPECTED = "a name ccamap does not set itself (not " + ", ".join(RESERVED_COLUMNS) + ")"


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
                report.error(file, fid if isinstance(fid, str) and fid else f"#{number}", key,
                             "reserved-column", _RESERVED_EXPECTED, repr(key),
                             "property name is reserved by ccamap: rename the property")


def _transform_xy(transformer: Transformer, xy: Any) -> Any:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    xy[:, 0], xy[:, 1] = x, y
    return xy


def _map_positions(coords: Any, fn: Any) -> Any:
    if coords and isinstance(coords[0], list):
        return [_map_positions(c, fn) for c in coords]
    return fn(coords)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_shape(shp: BaseGeometry, fid: str, file: str, report: Report) -> bool:
    """Check a built geometry: NaN, validity, region and swap. Return whether it is usable."""
    xy = shapely.get_coordinates(shp)
    if not xy.size or not (xy == xy).all():
        report.error(file, fid, "geometry", "nan-coordinate", "finite coordinates", "NaN",
                     "geometry has NaN coordinates")
        return False
    reason = shapely.is_valid_reason(shp)
    if reason != "Valid Geometry":
        report.error(file, fid, "geometry", "invalid-geometry", "a valid geometry", reason,
                     "shapely reports the geometry invalid")
        return False
    if shp.geom_type in ("LineString", "MultiLineString") and not shp.is_simple:
        report.info(file, fid, "geometry", "self-crossing", "a simple line", "a self-crossing "
                    "line", "line crosses itself (accepted)")
    for a, b in itertools.pairwise(xy):
        if abs(a[0] - b[0]) > 180:
            report.error(file, fid, "geometry", "antimeridian", "segments shorter than 180° of "
                         "longitude", f"{a[0]:.4f} to {b[0]:.4f}", "line crosses the antimeridian")
            return False
    xmin, ymin, xmax, ymax = settings.REGION_BBOX
    ok = True
    for x, y in xy:
        if xmin <= x <= xmax and ymin <= y <= ymax:
            continue
        ok = False
        found = f"lon {x:.6g}, lat {y:.6g}"
        if xmin <= y <= xmax and ymin <= x <= ymax:
            report.error(file, fid, "geometry", "probable-swap", "lon, lat order", found,
                         "coordinate outside the region, inside it with lon and lat swapped")
        elif abs(x) > 180 or abs(y) > 90:
            report.error(file, fid, "geometry", "projected-coordinates",
                         "WGS84 degrees (lon -180..180, lat -90..90)", found,
                         "coordinates look projected; declare the CRS or reproject")
        else:
            report.error(file, fid, "geometry", "out-of-region",
                         f"lon {xmin:g}..{xmax:g}, lat {ymin:g}..{ymax:g}", found,
                         "coordinate outside the region")
        break
    return ok


# --------------------------------------------------------------------------- attributes


def _iso3_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.countries)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _check_for(f: Field) -> list[pa.Check]:
    """Pandera checks for one field over a column of strings (empty string = missing)."""

    def check(code: str, expected: str, fn: Any) -> pa.Check:
        return pa.Check(lambda s: s.map(lambda v: v == "" or bool(fn(v))).astype(bool),
                        element_wise=False, error=f"{code}|{expected}")

    checks: list[pa.Check] = []
    if f.required:
        checks.append(pa.Check(lambda s: s.str.strip() != "", error="required|a value"))
    if f.name == "id":
        checks.append(check("id-format", "a lowercase slug like 'rail-cku'", ID_PATTERN.match))
    if f.kind == "int":
        lo, hi = settings.YEAR_RANGE
        checks.append(check("not-integer", "an integer", lambda v: re.fullmatch(r"-?\d+", v)))
        if f.name.endswith("year"):
            checks.append(check("year-range", f"a year {lo}..{hi}",
                                lambda v: not re.fullmatch(r"-?\d+", v) or lo <= int(v) <= hi))
    elif f.kind == "float":
        checks.append(check("not-number", "a finite number >= 0", _is_nonneg_number))
    elif f.kind in ("choice", "choice_list"):
        allowed = f.choices
        code = "status-vocabulary" if f.name == "status" else "vocabulary"
        split = _split if f.kind == "choice_list" else (lambda v: [v])
        checks.append(check(code, "one of " + ", ".join(allowed),
                            lambda v: all(x in allowed for x in split(v))))
    elif f.kind in ("iso3", "iso3_list"):
        codes = _iso3_codes()
        split = _split if f.kind == "iso3_list" else (lambda v: [v])
        checks.append(check("iso3", "ISO 3166-1 alpha-3 codes separated by ';'",
                            lambda v: all(x in codes for x in split(v))))
    return checks


def _is_nonneg_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and number >= 0 and value.strip().lower() not in ("nan", "inf")


def _schema(layer: Layer, columns: list[str]) -> pa.DataFrameSchema:
    cols = {f.name: pa.Column(None, checks=checks, nullable=False, coerce=False)
            for f in layer.all_fields if f.name in columns and (checks := _check_for(f))}
    return pa.DataFrameSchema(cols, unique=["id"] if "id" in columns else None,
                              report_duplicates="exclude_first")


def check_attributes(
    table: pd.DataFrame, layer: Layer, file: str, report: Report
) -> pd.DataFrame:
    """Check an attribute table against the layer's schema and parse it to typed values.

    Parameters
    ----------
    table
        The table as read (every cell a string).
    layer
        The layer it belongs to.
    file
        The file name used in problems.
    report
        Where problems are recorded.

    Returns
    -------
    pandas.DataFrame
        The rows with a usable id, parsed: ints and floats as numbers, lists as lists, empty
        cells as ``None``. Cells that failed a check are ``None``.
    """
    expected = layer.columns
    lower = {c.lower(): c for c in expected}
    reserved = [c for c in table.columns if c not in expected and reserved_column(str(c))]
    for col in reserved:
        report.error(file, "", col, "reserved-column", _RESERVED_EXPECTED, repr(col),
                     "column name is reserved by ccamap: rename the column")
    table = table.drop(columns=reserved)
    columns = list(table.columns)
    for col in columns:
        if col not in expected:
            if col.lower() in lower:
                report.error(file, "", col, "column-case", repr(lower[col.lower()]), repr(col),
                             "column name differs from the schema only by case")
            else:
                report.warning(file, "", col, "unknown-column", "a column of the schema",
                               repr(col), "column not in the layer schema (kept)")
    if "id" not in columns:
        report.error(file, "", "id", "missing-key-column", "an 'id' column",
                     f"columns {columns}", "attribute table has no key column")
        return pd.DataFrame(columns=expected)
    for f in layer.all_fields:
        if f.name not in columns and f.required:
            report.error(file, "", f.name, "missing-column", f"a {f.name!r} column", "none",
                         "required column missing")
    table = table.copy()
    for col in columns:
        table[col] = table[col].map(lambda v: v if isinstance(v, str) else str(v))
    bad = _run_schema(table, layer, file, report)
    fields = {f.name: f for f in layer.all_fields}
    rows = [_parse_row(i, row, fields, bad) for i, row in enumerate(table.to_dict("records"))]
    typed = pd.DataFrame(rows, columns=columns, dtype=object)
    typed = typed.where(typed.notna(), None)  # NaN from all-empty columns back to None
    keep = (table["id"].str.strip() != "") & ~table["id"].duplicated()
    return typed[keep.to_numpy()].reset_index(drop=True)


def _run_schema(table: pd.DataFrame, layer: Layer, file: str, report: Report) -> set[tuple]:
    """Run pandera; record one problem per failing cell; return the failing (row, column) pairs."""
    bad: set[tuple] = set()
    try:
        _schema(layer, list(table.columns)).validate(table, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        for case in cases.itertuples(index=False):
            row = case.index
            column = case.column if isinstance(case.column, str) else "id"
            if case.check in ("field_uniqueness", "multiple_fields_uniqueness") or (
                    str(case.check).startswith("field_uniqueness")):
                code, expected = "duplicate-id", "a unique id"
            elif "|" in str(case.check):
                code, expected = str(case.check).split("|", 1)
            else:
                code, expected = "schema", str(case.check)
            fid = table["id"].iloc[row] if row is not None and row == row else ""
            report.error(file, fid, column, code, expected, repr(case.failure_case),
                         f"bad value in column {column!r}")
            if row is not None and row == row:
                bad.add((int(row), column))
    return bad


def _parse_row(
    number: int, row: dict[Any, Any], fields: dict[str, Field], bad: set[tuple]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col, value in row.items():
        name = str(col)
        text = value.strip() if isinstance(value, str) else value
        f = fields.get(name)
        if name == "id":
            out["id"] = value
        elif text == "" or (number, name) in bad:
            out[name] = None
        elif f is None or f.kind in ("text", "choice", "iso3"):
            out[name] = text
        elif f.kind == "int":
            out[name] = int(text)
        elif f.kind == "float":
            out[name] = float(text)
        else:
            out[name] = _split(text)
    return out


# --------------------------------------------------------------------------- sources


def load_sources(path: Path, report: Report) -> pd.DataFrame:
    """Read and check the sources table.

    Returns
    -------
    pandas.DataFrame
        Indexed by source id, with the columns of :data:`SOURCE_COLUMNS`.
    """
    file = str(path)
    table = read_attribute_table(path, report=report)
    missing = [c for c in SOURCE_COLUMNS if c not in table.columns]
    if missing:
        raise LoadError(file, f"columns {list(SOURCE_COLUMNS)}", f"{missing} missing",
                        code="missing-column")
    for number, row in enumerate(table.to_dict("records"), start=2):
        sid, title, kind, url = (str(row[k]) for k in ("id", "title", "kind", "url"))
        if not ID_PATTERN.match(sid):
            report.error(file, sid or f"line {number}", "id", "id-format", "a lowercase slug",
                         repr(sid), "malformed source id")
        if not title.strip():
            report.error(file, sid, "title", "required", "a title", "nothing",
                         "source has no title")
        if kind not in SOURCE_KINDS:
            report.error(file, sid, "kind", "vocabulary", "one of " + ", ".join(SOURCE_KINDS),
                         repr(kind), "unknown source kind")
        if kind == "web" and not url.startswith(("https://", "http://")):
            report.error(file, sid, "url", "source-url", "an http(s) address", repr(url),
                         "web source without an address")
    dupes = table["id"][table["id"].duplicated()]
    for sid in dupes:
        report.error(file, sid, "id", "duplicate-id", "a unique id", "a second row",
                     "duplicate source id")
    return table.drop_duplicates("id").set_index("id", drop=False)


# --------------------------------------------------------------------------- join checks


def _norm_key(key: str) -> str:
    return unicodedata.normalize("NFKC", key).translate(_HOMOGLYPHS).strip().casefold()


def check_join(
    geometries: gpd.GeoDataFrame,
    attributes: pd.DataFrame,
    layer: Layer,
    files: tuple[str, str],
    sources: pd.DataFrame,
    report: Report,
) -> None:
    """Check that geometries and attribute rows match one to one, and every citation resolves.

    Parameters
    ----------
    geometries, attributes
        The checked inputs.
    layer
        Their layer.
    files
        The geometry file and the attribute file, for messages.
    sources
        The sources table, indexed by id.
    report
        Where problems are recorded.
    """
    geo_file, attr_file = files
    geo_ids = set(geometries["id"])
    attr_ids = set(attributes["id"]) if "id" in attributes else set()
    attr_norm: dict[str, str] = {_norm_key(k): k for k in attr_ids - geo_ids}
    for gid in sorted(geo_ids - attr_ids):
        near = attr_norm.get(_norm_key(gid))
        if near is not None:
            report.error(attr_file, near, "id", "key-mismatch", repr(gid), repr(near),
                         "attribute key differs from the geometry id only by whitespace, case, "
                         "Unicode form or look-alike letters")
        else:
            report.error(geo_file, gid, "id", "orphan-geometry", f"a row in {attr_file}",
                         "no row", "geometry has no attribute row")
    geo_norm = {_norm_key(k) for k in geo_ids}
    rejected = set(geometries.attrs.get("rejected", []))
    for aid in sorted(attr_ids - geo_ids - rejected):
        if _norm_key(aid) not in geo_norm:
            report.error(attr_file, aid, "id", "orphan-attributes", f"a feature in {geo_file}",
                         "no feature", "attribute row has no geometry")
    by_id = geometries.set_index("id")
    if layer.is_line and "length_km_reported" in attributes:
        _check_lengths(by_id, attributes, geo_file, report)
    for rec in attributes.to_dict("records"):
        rec_str = {str(k): v for k, v in rec.items()}
        _check_record(rec_str, layer, attr_file, geo_file, sources, by_id, report)


def _check_lengths(
    by_id: gpd.GeoDataFrame, attributes: pd.DataFrame, file: str, report: Report
) -> None:
    """Warn where a reported length and the drawn geodesic length disagree."""
    from ccamap.join import geodesic_length_km

    reported = attributes.dropna(subset=["length_km_reported"]).set_index("id")
    reported = reported[reported.index.isin(by_id.index)]
    if reported.empty:
        return
    drawn = geodesic_length_km(by_id.loc[reported.index].geometry)
    tolerance = settings.LENGTH_TOLERANCE
    for fid, computed, value in zip(reported.index, drawn.to_numpy(),
                                    reported["length_km_reported"], strict=True):
        claimed = float(value)
        if abs(computed - claimed) > tolerance * claimed:
            report.warning(file, fid, "length_km_reported", "length-mismatch",
                           f"within {tolerance:.0%} of the geodesic {computed:g} km",
                           f"{claimed:g} km", "reported length and drawn length disagree")


def _check_record(
    rec: dict[str, Any],
    layer: Layer,
    file: str,
    geo_file: str,
    sources: pd.DataFrame,
    by_id: gpd.GeoDataFrame,
    report: Report,
) -> None:
    fid = rec["id"]
    cited = rec.get("sources") or []
    for sid in cited:
        if sid not in sources.index:
            report.error(file, fid, "sources", "unknown-source", "an id of sources.csv",
                         repr(sid), "cited source does not exist")
    backed = _parse_field_sources(rec.get("field_sources") or "", fid, file, report)
    for fname, sids in backed.items():
        if fname not in layer.columns:
            report.error(file, fid, "field_sources", "unknown-field", "a column name",
                         repr(fname), "field_sources names a column that does not exist")
        for sid in sids:
            if sid not in sources.index:
                report.error(file, fid, "field_sources", "unknown-source",
                             "an id of sources.csv", repr(sid), "cited source does not exist")
            elif sid not in cited:
                report.error(file, fid, "field_sources", "uncited-source",
                             "field sources listed in 'sources' too", repr(sid),
                             "field source missing from the record's sources")
    for f in layer.all_fields:
        if f.factual and rec.get(f.name) not in (None, []) and f.name not in backed:
            report.warning(file, fid, f.name, "unsourced-field", "an entry in field_sources",
                           "none", "value has no field source")
    if rec.get("status") and rec.get("status_year") is None:
        report.info(file, fid, "status_year", "status-year-unknown", "the year the status was "
                    "last confirmed", "nothing", "no source dates the status")
    if layer.is_line and rec.get("route_error_km") is None:
        report.error(file, fid, "route_error_km", "route-error", "the estimated maximum "
                     "distance in km between the drawing and the real route", "nothing",
                     "line without a route accuracy")
    if rec.get("capacity") is not None and not rec.get("capacity_unit"):
        report.error(file, fid, "capacity_unit", "missing-unit", "a unit (MW, bcm/y…)",
                     "nothing", "capacity without a unit")
    if layer.name == "border_ports":
        countries = rec.get("countries") or []
        for side in ("country_a", "country_b"):
            if rec.get(side) and rec[side] not in countries:
                report.error(file, fid, side, "port-countries", f"{rec[side]} in countries",
                             ";".join(countries), "port side not among the record's countries")
    if fid not in by_id.index:
        return
    feat = by_id.loc[fid]
    precision = rec.get("geometry_precision")
    if precision == "schematic" and not layer.is_line and not rec.get("parent_id"):
        report.error(file, fid, "geometry_precision", "precision", "exact, approximate or "
                     "locality for a point (schematic only for a point placed on its "
                     "parent_id's schematic line)", "schematic", "points cannot be schematic")
    if precision == "locality" and layer.is_line:
        report.error(file, fid, "geometry_precision", "precision", "exact, approximate or "
                     "schematic for a line (locality is for points)", "locality",
                     "lines cannot be locality")
    n_vertices = len(shapely.get_coordinates(feat.geometry))
    waypoints, coord_sources = feat["waypoints"], feat["coordinate_sources"]
    if precision == "locality" and not layer.is_line:
        named = [w for w in waypoints if isinstance(w, str) and w.strip()]
        if len(waypoints) != n_vertices or len(named) != n_vertices:
            report.error(geo_file, fid, "waypoints", "locality-place", "the name of the place "
                         "the point stands on (one non-empty waypoint name)",
                         _short(list(waypoints)), "a locality point must name its place")
    if precision == "schematic" and len(waypoints) != n_vertices:
        report.error(geo_file, fid, "waypoints", "waypoints", f"{n_vertices} waypoint names "
                     "(one per vertex)", f"{len(waypoints)}", "schematic line must name every "
                     "waypoint")
    if len(coord_sources) != len(waypoints):
        report.error(geo_file, fid, "coordinate_sources", "coordinate-sources",
                     f"{len(waypoints)} entries (one per waypoint)", f"{len(coord_sources)}",
                     "each waypoint needs the source of its coordinate")
    if not coord_sources:
        report.error(geo_file, fid, "coordinate_sources", "coordinate-sources",
                     "the source of each coordinate", "none", "coordinates have no source")
    for entry in dict.fromkeys(coord_sources):
        sid = str(entry).split(":", 1)[0]
        if sid not in sources.index:
            report.error(geo_file, fid, "coordinate_sources", "unknown-source",
                         "an id of sources.csv", repr(entry), "coordinate source does not exist")


def parse_field_sources(text: str | None) -> tuple[dict[str, list[str]], list[str]]:
    """Parse ``field=src1,src2; field2,field3=src3``.

    Returns
    -------
    tuple
        The source ids of each field named, and the parts that could not be parsed.
    """
    out: dict[str, list[str]] = {}
    bad: list[str] = []
    for part in (p.strip() for p in (text or "").split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        sids = [s.strip() for s in value.split(",") if s.strip()]
        if not sep or not name.strip() or not sids:
            bad.append(part)
            continue
        for field_name in name.split(","):
            out.setdefault(field_name.strip(), []).extend(sids)
    return out, bad


def _parse_field_sources(
    text: str, fid: str, file: str, report: Report
) -> dict[str, list[str]]:
    """Parse ``field_sources``, reporting each part that cannot be parsed."""
    out, bad = parse_field_sources(text)
    for part in bad:
        report.error(file, fid, "field_sources", "field-sources-syntax",
                     "field=source[,source]; …", repr(part), "cannot parse field_sources")
    return out


# --------------------------------------------------------------------------- whole layers


def validate_layer(
    layer: Layer | str, geodata: Path, sources: pd.DataFrame, report: Report
) -> LayerInput | None:
    """Read and check one layer's geometry file and attribute table.

    Returns
    -------
    LayerInput or None
        The checked input, or ``None`` when a file could not be read at all (the load error is
        recorded in ``report``; the other file is still checked).
    """
    if isinstance(layer, str):
        layer = LAYERS[layer]
    geo_path = geodata / f"{layer.name}.geojson"
    attr_path = geodata / f"{layer.name}.csv"
    geometries = attributes = None
    try:
        doc = read_feature_collection(geo_path, report=report)
        geometries = check_features(doc, layer, str(geo_path), report)
    except LoadError as exc:
        _record_load_error(exc, report)
    try:
        table = read_attribute_table(attr_path, report=report)
        attributes = check_attributes(table, layer, str(attr_path), report)
    except LoadError as exc:
        _record_load_error(exc, report)
    if geometries is None or attributes is None:
        return None
    check_join(geometries, attributes, layer, (str(geo_path), str(attr_path)), sources, report)
    return LayerInput(layer, geo_path, attr_path, geometries, attributes)


def _record_load_error(exc: LoadError, report: Report) -> None:
    where = f"line {exc.line}, column {exc.column}" if exc.line is not None else ""
    report.error(exc.path, "", where, exc.code, exc.expected, exc.found,
                 "cannot read the file" + (f"; {exc.hint}" if exc.hint else ""))


def validate(
    geodata: str | Path | None = None, layers: list[str] | None = None
) -> tuple[Report, dict[str, LayerInput], pd.DataFrame]:
    """Validate ``geodata/``: every layer named (all by default) and the sources table.

    Returns
    -------
    tuple
        The report, the checked inputs by layer name, and the sources table.

    Raises
    ------
    CcamapError
        If the sources table itself cannot be read.
    """
    root = Path(geodata) if geodata is not None else settings.GEODATA_DIR
    if not root.is_dir():
        msg = f"expected a geodata directory, found nothing at {root}"
        raise CcamapError(msg)
    report = Report()
    sources = load_sources(root / "sources.csv", report)
    names = layers or list(LAYERS)
    inputs: dict[str, LayerInput] = {}
    for name in names:
        result = validate_layer(LAYERS[name], root, sources, report)
        if result is not None:
            inputs[name] = result
    if not layers and (root / "catalogue.csv").exists():
        check_catalogue(root / "catalogue.csv", inputs, sources, report)
    from ccamap.claims import attach_claims

    attach_claims(root, inputs, sources, report, complete=not layers)
    from ccamap.spatial import check_spatial

    check_spatial(inputs, root, report)
    return report, inputs, sources


def check_catalogue(
    path: Path, inputs: dict[str, LayerInput], sources: pd.DataFrame, report: Report
) -> None:
    """Check the inventory catalogue: drawn items name existing ids, others give a reason."""
    file = str(path)
    try:
        table = read_attribute_table(path, report=report)
    except LoadError as exc:
        _record_load_error(exc, report)
        return
    known = {fid for inp in inputs.values() for fid in inp.geometries["id"]}
    listed: set[str] = set()
    for row in table.to_dict("records"):
        item = str(row.get("item", ""))
        ids = _split(str(row.get("ids", "")))
        listed.update(ids)
        for fid in ids:
            if fid not in known:
                report.error(file, fid, "ids", "catalogue-id", "the id of a drawn feature",
                             repr(fid), f"catalogue item {item!r} names an unknown id")
        if not ids and not str(row.get("reason", "")).strip():
            report.error(file, item, "reason", "catalogue-reason", "why the item is not drawn",
                         "nothing", "undrawn catalogue item without a reason")
        for sid in _split(str(row.get("seed", ""))):
            if sid not in sources.index:
                report.error(file, item, "seed", "unknown-source", "an id of sources.csv",
                             repr(sid), "catalogue cites an unknown source")
    for fid in sorted(known - listed):
        report.warning(file, fid, "ids", "not-catalogued", "every drawn feature in the "
                       "catalogue", "absent", "feature missing from the inventory catalogue")
