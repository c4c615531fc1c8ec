"""The export frame: registry column types, rounded geometry and JSON values, column by column.

Shared by every export format: the list of formats, the checks every export makes (a format
that exists, geometry that survives rounding) and the conversions from a joined layer to typed
columns (:func:`export_frame`) or JSON values (:func:`plain_values`). Conversions work on whole
columns and geometry arrays (numpy, shapely 2), not value by value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from ccamap import settings
from ccamap.claims import EXPORT_COLUMNS as CLAIM_COLUMNS
from ccamap.claims import claims_of
from ccamap.errors import ExportError, UsageError
from ccamap.layers import LAYERS, Layer
from ccamap.render.pagedata import source_rows

__all__ = ["FORMATS", "LIST_SEPARATOR", "check_format", "claims_table", "export_frame",
           "export_paths", "list_columns", "plain_values", "round_geometries", "round_geometry"]

#: Export formats and the file suffix of each.
FORMATS: dict[str, str] = settings.EXPORT_FORMATS

#: Formats that hold every layer in one file, ``ccamap<suffix>``.
SINGLE_FILE = frozenset({"gpkg", "kml"})
#: Formats rendered to text by :func:`ccamap.export.render_export`; the others are written by
#: GDAL or Arrow.
TEXT_FORMATS = frozenset({"geojson", "kml", "csv"})
#: How list values are joined where a format has no arrays.
LIST_SEPARATOR = ";"
SOURCE_COLUMNS = ("id", "title", "publisher", "date", "url", "kind")
_LIST_KINDS = ("list", "iso3_list", "choice_list")
_POINT, _LINE, _MULTILINE = 0, 1, 5  # shapely.get_type_id


def check_format(fmt: str) -> str:
    """Return ``fmt`` if it is a known export format.

    Raises
    ------
    UsageError
        Naming the formats that exist.
    """
    if fmt not in FORMATS:
        msg = f"unknown export format {fmt!r}; expected one of: {', '.join(FORMATS)}"
        raise UsageError(msg)
    return fmt


def export_paths(out: Path, names: list[str], fmt: str) -> dict[str, Path]:
    """Return the output file of each layer for a format (one shared file for gpkg and kml)."""
    check_format(fmt)
    if fmt in SINGLE_FILE:
        return dict.fromkeys(names, out / f"ccamap{FORMATS[fmt]}")
    return {name: out / f"{name}{FORMATS[fmt]}" for name in names}


def round_geometry(geom: shapely.Geometry, fid: str, decimals: int) -> shapely.Geometry:
    """Round coordinates to ``decimals`` places, refusing a geometry that collapses.

    Raises
    ------
    ExportError
        If rounding leaves a line with fewer than two distinct points, or an empty geometry.
    """
    geoms = np.empty(1, dtype=object)
    geoms[0] = geom
    return round_geometries(geoms, [fid], decimals)[0]


def round_geometries(geoms: Any, fids: Sequence[Any], decimals: int) -> np.ndarray:
    """Round the coordinates of a whole geometry array, refusing any geometry that collapses.

    The array version of :func:`round_geometry`: one rounding over every coordinate, then
    vectorized checks (every part of a line keeps two distinct points; nothing becomes empty or
    invalid). The first feature that fails, in order, is the one named.

    Parameters
    ----------
    geoms
        Shapely geometries (an array, a list or a GeoSeries).
    fids
        The feature id of each geometry, for the message.
    decimals
        Decimal places to keep.

    Returns
    -------
    numpy.ndarray
        The rounded geometries (object array).

    Raises
    ------
    ExportError
        If rounding leaves a line with fewer than two distinct points, or an empty or invalid
        geometry.
    """
    geoms = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    collapsed = np.zeros(len(geoms), dtype=bool)
    types = shapely.get_type_id(geoms)
    lines = np.flatnonzero((types == _LINE) | (types == _MULTILINE))
    if len(lines):
        parts, owner = shapely.get_parts(rounded[lines], return_index=True)
        coords, part_of = shapely.get_coordinates(parts, return_index=True)
        counts = np.bincount(part_of, minlength=len(parts))
        starts = np.cumsum(counts) - counts
        if len(coords):
            moves = np.any(coords != coords[starts[part_of]], axis=1)
            distinct = np.bincount(part_of, weights=moves, minlength=len(parts)) > 0
        else:
            distinct = np.zeros(len(parts), dtype=bool)
        flat = np.bincount(owner, weights=~distinct, minlength=len(lines)) > 0
        collapsed[lines] = flat
    invalid = shapely.is_empty(rounded) | ~shapely.is_valid(rounded)
    bad = np.flatnonzero(collapsed | invalid)
    if len(bad):
        i = int(bad[0])
        if collapsed[i]:
            msg = (f"feature {fids[i]!r}: expected a line of 2+ distinct points after rounding "
                   f"to {decimals} decimals, found one that collapses to a point")
        else:
            msg = (f"feature {fids[i]!r}: geometry becomes invalid when rounded to {decimals} "
                   "decimals")
        raise ExportError(msg)
    return rounded


def geometry_mappings(geoms: np.ndarray) -> list[dict[str, Any]]:
    """Return the GeoJSON geometry object of each geometry, as :func:`shapely.geometry.mapping`.

    Points, lines and multi-lines (2D) are converted from one coordinate array; any other
    geometry goes through ``mapping``. Serialised with :func:`json.dumps`, the result is the
    same text as ``mapping``'s (tuples and lists both become JSON arrays).
    """
    out: list[dict[str, Any]] = []
    if not len(geoms):
        return out
    types = shapely.get_type_id(geoms)
    simple = (np.isin(types, (_POINT, _LINE, _MULTILINE)) & ~shapely.has_z(geoms)
              & ~shapely.is_empty(geoms))
    parts, owner = shapely.get_parts(geoms[simple], return_index=True)
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(part_of, minlength=len(parts))
    ends = np.cumsum(counts)
    listed = coords.tolist()
    part_coords = [listed[s:e] for s, e in zip((ends - counts).tolist(), ends.tolist(),
                                              strict=True)]
    part_ends = np.cumsum(np.bincount(owner, minlength=int(simple.sum()))).tolist()
    k = start = 0
    for geom, kind, fast in zip(geoms, types.tolist(), simple.tolist(), strict=True):
        if not fast:
            out.append(mapping(geom))
            continue
        mine = part_coords[start:part_ends[k]]
        start = part_ends[k]
        k += 1
        if kind == _POINT:
            out.append({"type": "Point", "coordinates": mine[0][0]})
        elif kind == _LINE:
            out.append({"type": "LineString", "coordinates": mine[0]})
        else:
            out.append({"type": "MultiLineString", "coordinates": mine})
    return out


# --------------------------------------------------------------------------- typed columns


def list_columns(layer: Layer) -> list[str]:
    """Return the columns of a joined layer that hold lists of strings."""
    return [f.name for f in layer.all_fields if f.kind in _LIST_KINDS] + [
        "waypoints", "coordinate_sources"]


def int_columns(layer: Layer) -> list[str]:
    """Return the registry's integer columns of a layer."""
    return [f.name for f in layer.all_fields if f.kind == "int"]


def float_columns(layer: Layer) -> list[str]:
    """Return the registry's float columns of a layer (and ``length_km`` for lines)."""
    return [f.name for f in layer.all_fields if f.kind == "float"] + (
        ["length_km"] if layer.is_line else [])


def gdal_type(layer: Layer, column: str) -> str:
    """Return GDAL's field type of a column: ``Integer``, ``Real`` or ``String``."""
    if column in int_columns(layer):
        return "Integer"
    if column in float_columns(layer):
        return "Real"
    return "String"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _all_text(values: Any) -> bool:
    return set(map(type, values)) <= {str}


def _text_list(value: Any) -> list[str]:
    """Return a list cell as a list of strings (``[]`` for no value)."""
    if _missing(value):
        return []
    return list(value) if type(value) is list and _all_text(value) else [str(x) for x in value]


def export_frame(
    gdf: gpd.GeoDataFrame, layer: Layer | str, *, lists: str = "array"
) -> gpd.GeoDataFrame:
    """Return a joined layer with the registry's column types, ready for a typed format.

    Parameters
    ----------
    gdf
        A joined layer (:func:`ccamap.join.join_layer`).
    layer
        Its registry entry or name.
    lists
        ``"array"`` keeps list columns as lists (an empty list for no value in ``waypoints``
        and ``coordinate_sources``, ``None`` elsewhere); ``"joined"`` joins them with
        :data:`LIST_SEPARATOR` (``None`` for no value).

    Returns
    -------
    geopandas.GeoDataFrame
        Integer fields as ``Int64``, float fields as ``float64``, text as ``str`` or ``None``,
        geometry rounded to :data:`ccamap.settings.COORDINATE_PRECISION` places, EPSG:4326.
    """
    if isinstance(layer, str):
        layer = LAYERS[layer]
    if lists not in ("array", "joined"):
        msg = f"expected lists='array' or 'joined', found {lists!r}"
        raise ValueError(msg)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    known = (*layer.columns, "waypoints", "coordinate_sources", "layer", "length_km")
    extras = [c for c in gdf.columns if c not in known and c != gdf.geometry.name]
    columns = [c for c in (*layer.columns, *extras, "waypoints", "coordinate_sources", "layer",
                           "length_km") if c in gdf.columns]
    out = pd.DataFrame(index=range(len(gdf)))
    ints, floats, lists_ = int_columns(layer), float_columns(layer), list_columns(layer)
    for col in columns:
        values = list(gdf[col])
        if col in ints:
            out[col] = pd.array([None if _missing(v) else int(v) for v in values],
                                dtype="Int64")
        elif col in floats:
            out[col] = pd.Series([np.nan if _missing(v) else float(v) for v in values],
                                 dtype="float64")
        elif col in lists_:
            items = [_text_list(v) for v in values]
            if lists == "joined":
                out[col] = pd.Series([LIST_SEPARATOR.join(v) if v else None for v in items],
                                     dtype=object)
            elif col in ("waypoints", "coordinate_sources"):
                out[col] = pd.Series(items, dtype=object)
            else:
                out[col] = pd.Series([v or None for v in items], dtype=object)
        else:
            out[col] = pd.Series([v if type(v) is str else None if _missing(v) else str(v)
                                  for v in values], dtype=object)
    geoms = round_geometries(gdf.geometry.to_numpy(), [str(fid) for fid in gdf["id"]],
                             settings.COORDINATE_PRECISION)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")


# --------------------------------------------------------------------------- JSON values


def plain(value: Any) -> Any:
    """Return the JSON value of one cell (numbers stay numbers, lists stay arrays, NA is null)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, list | tuple | np.ndarray):
        if type(value) is not np.ndarray and _all_text(value):
            return list(value)
        return [plain(v) for v in value]
    return value


def plain_values(column: pd.Series) -> list[Any]:
    """Return :func:`plain` of every value of a column, converted column-wise where possible.

    A float column becomes Python floats, whole numbers (below 2**53) as ``int`` and NaN as
    ``None``, in numpy; integer and boolean columns convert directly; other columns go value by
    value, with text and lists of text passed through as they are.
    """
    values = column.to_numpy()
    kind = values.dtype.kind
    if kind == "f" and values.dtype == np.float64:
        out = values.astype(object)
        whole = np.isfinite(values) & (np.abs(values) < 2**53)
        whole[whole] = values[whole] == np.floor(values[whole])
        out[whole] = values[whole].astype(np.int64).astype(object)
        out[np.isnan(values)] = None
        return list(out)
    if kind in "iub":
        return list(values.tolist())
    return [v if v is None or type(v) is str else plain(v) for v in values]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of a frame (without its geometry) as dicts of :func:`plain` values."""
    names = [c for c in frame.columns if c != "geometry"]
    columns = [plain_values(frame[c]) for c in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if names \
        else [{} for _ in range(len(frame))]


def citation_lookup(sources: pd.DataFrame) -> Callable[[Any], list[dict[str, str]]]:
    """Return a function from a list of source ids to their full citations.

    A known id becomes ``{id, title, publisher, date, url}`` (text), an unknown one ``{id}``;
    each id is looked up in ``sources`` once.
    """
    cache: dict[Any, dict[str, str]] = {}
    fields = ("id", "title", "publisher", "date", "url")
    # every source's row read in one pass, once a build (``render.pagedata.source_rows``); the
    # rows of a table with a repeated id, which have no one row each, are looked up one by one
    rows: dict[Any, dict[Any, Any]] | None = (
        source_rows(sources)
        if sources.index.is_unique and set(fields) <= set(sources.columns) else None)

    def cite(sid: Any) -> dict[str, str]:
        if sid not in cache:
            if sid in sources.index:
                src = rows[sid] if rows is not None else sources.loc[sid]
                cache[sid] = {k: str(src[k]) for k in fields}
            else:
                cache[sid] = {"id": sid}
        return cache[sid]

    def citations(ids: Any) -> list[dict[str, str]]:
        return [cite(sid) for sid in ids or []]

    return citations


def layer_of(name: str, gdf: gpd.GeoDataFrame) -> Layer:
    """Return the registry entry of an exported layer, by name or by its ``layer`` column.

    Raises
    ------
    ExportError
        If neither names a layer of the registry.
    """
    if name in LAYERS:
        return LAYERS[name]
    if "layer" in gdf.columns and len(gdf) and gdf["layer"].iloc[0] in LAYERS:
        return LAYERS[gdf["layer"].iloc[0]]
    msg = f"expected a layer name ({', '.join(LAYERS)}), found {name!r}"
    raise ExportError(msg)


# --------------------------------------------------------------------------- shared tables


def claims_table(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> pd.DataFrame:
    """Return the claims on the exported layers as one table for GIS tools.

    Columns :data:`ccamap.claims.EXPORT_COLUMNS` (``layer, id, field, value, unit, as_of,
    source, note``): ``value`` is text as written in ``claims.csv`` (a claim may be a number, a
    year or a status), ``as_of`` an integer year or empty; join to a layer on ``id`` and to the
    sources table on ``source``.
    """
    names = [layer_of(name, gdf).name for name, gdf in layers.items()]
    return claims_of(sources).frame(names)


def claims_gdal(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`claims_table` typed for GDAL and Arrow: text, ``as_of`` as Int64."""
    table = claims_table(layers, sources)
    return table.astype({c: "string" for c in CLAIM_COLUMNS if c != "as_of"})


def sources_frame(sources: pd.DataFrame) -> pd.DataFrame:
    """Return the sources table as text columns ``id, title, publisher, date, url, kind``."""
    return pd.DataFrame({c: [str(v or "") for v in sources[c]] for c in SOURCE_COLUMNS})
