"""The data a map page carries for one layer: one attribute table, styles, compact geometry.

:func:`layer_geojson` returns, per layer, the attribute table once (``columns`` and ``rows``),
the distinct styles and each feature's style number, what the card needs besides the attributes
(:func:`ccamap.render.cards.card_extras`), km per country of lines, and the geometry encoded by
:mod:`ccamap.render.geometry` (lines at every zoom band). The map runtime (``assets/runtime/``)
draws it, on a canvas when the layer is large (:data:`CANVAS_MIN_FEATURES`,
:data:`CANVAS_MIN_VERTICES`).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ccamap import geo
from ccamap.layers import Layer
from ccamap.render.cards import CARD_SKIP, card_extras
from ccamap.render.geometry import PRECISION, encode_line_bands, encode_points, lod_bands
from ccamap.render.packing import line_arrays
from ccamap.style import feature_style

__all__ = ["CANVAS_MIN_FEATURES", "CANVAS_MIN_VERTICES", "attribute_records", "cited_sources",
           "first_year", "km_by_country", "layer_geojson", "shared_records", "shared_value",
           "source_rows"]

T = TypeVar("T")
F = TypeVar("F", bound=pd.DataFrame)

#: A layer of at least this many features, or vertices, is drawn on a canvas, not as SVG.
CANVAS_MIN_FEATURES = 1000
CANVAS_MIN_VERTICES = 50_000
#: Record keys the page never carries (the layer is the table's; coordinate sources are
#: summarised for the card).
_NOT_CARRIED = ("layer", "coordinate_sources")

#: What :func:`shared_value` computed inside :func:`shared_records`, by kind and frame (kept
#: with the frame, so that its id stays its own while the block runs).
_SHARED: ContextVar[dict[tuple[str, int], tuple[pd.DataFrame, Any]] | None] = (
    ContextVar("ccamap_shared_records", default=None))


@contextlib.contextmanager
def shared_records() -> Iterator[None]:
    """Inside the block, what is read from a frame (:func:`shared_value`) is read once.

    A build reads each layer's attributes for several parts of several pages (the legend, the
    runtime's settings, the table, the page data), and the sources table for every page and
    export, and its frames do not change meanwhile. Outside the block every call reads the
    frame as it is. Blocks nest: an inner one shares the outer one's values.
    """
    token = _SHARED.set({}) if _SHARED.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _SHARED.reset(token)


def shared_value(kind: str, frame: F, read: Callable[[F], T]) -> T:
    """Return ``read(frame)``, read once per frame and kind inside :func:`shared_records`.

    Read-only: inside the block, every caller gets the same value.
    """
    shared = _SHARED.get()
    if shared is None:
        return read(frame)
    hit = shared.get((kind, id(frame)))
    if hit is None or hit[0] is not frame:
        hit = shared[(kind, id(frame))] = (frame, read(frame))
    value: T = hit[1]
    return value


def attribute_records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Return the attributes of ``gdf``, a dict per feature (every column but ``geometry``).

    Read-only: inside :func:`shared_records`, every caller gets the same records.
    """
    return shared_value("records", gdf, _records)


def _records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = gdf.drop(columns="geometry").to_dict("records")
    return records


def source_rows(sources: pd.DataFrame) -> dict[Any, dict[str, Any]]:
    """Return each source's row by id (``{column: value}``), read in one pass.

    A Series per source costs ~50 µs; a build cites the same table for every page and export,
    so inside :func:`shared_records` it is read once. The index must be unique.
    """
    return shared_value("source rows", sources, _source_rows)


def _source_rows(sources: pd.DataFrame) -> dict[Any, dict[str, Any]]:
    return cast(dict[Any, dict[str, Any]], sources.to_dict("index"))


def first_year(record: dict[str, Any]) -> int | None:
    """Return the year from which the year slider shows a feature (``None``: always shown).

    The earliest of its construction start, completion and opening years; without those, the
    status year of a feature that is built or being built (it existed by then). Features with
    no such date are undated and stay visible at every year.
    """
    years = [record.get(k) for k in ("start_year", "completion_year", "opened_year")]
    known = [int(y) for y in years if y is not None]
    if known:
        return min(known)
    built = ("construction", "operating", "mothballed", "retired")
    if record.get("status") in built and record.get("status_year") is not None:
        return int(record["status_year"])
    return None


def _plain(value: Any) -> Any:
    """Return a JSON value (numbers stay numbers, lists stay lists, NaN is ``None``)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def km_by_country(geometry: Any, countries: gpd.GeoDataFrame | None) -> dict[str, float]:
    """Return the geodesic length in km of a line inside each country outline it crosses."""
    return _km_by_country([geometry], countries)[0]


def _km_by_country(geoms: list[Any], countries: gpd.GeoDataFrame | None
                   ) -> list[dict[str, float]]:
    """:func:`km_by_country` of many lines (:func:`ccamap.geo.km_by_country`)."""
    if countries is None:
        return [{} for _ in geoms]
    return geo.km_by_country(geoms, countries["iso3"].astype(str), countries.geometry)


#: Joins the waypoint names of a large layer's line into one text, a name a line (see
#: :func:`_row`; names that hold a line break stay a list).
WAYPOINT_SEPARATOR = "\n"


def _row(record: dict[str, Any], columns: list[str], *, join: bool = False) -> list[Any]:
    row = []
    for key in columns:
        value = _plain(record.get(key))
        if key == "waypoints" and isinstance(value, list) and value:
            if not any(v is not None and str(v).strip() for v in value):
                value = len(value)  # unnamed waypoints (``ccamap import``): their number only
            elif join and all(isinstance(v, str) and WAYPOINT_SEPARATOR not in v
                              for v in value):
                # one text, not a string per vertex: a page of 100k lines would hold millions
                value = WAYPOINT_SEPARATOR.join(value)
        row.append(value)
    return row


def layer_geojson(gdf: gpd.GeoDataFrame, layer: Layer, sources: pd.DataFrame, *,
                  countries: gpd.GeoDataFrame | None = None) -> dict[str, Any]:
    """Return a layer as the page data the map runtime (``assets/runtime/``) draws.

    Parameters
    ----------
    gdf
        The joined layer.
    layer
        Its layer.
    sources
        The sources table, indexed by id (for the claims on each feature).
    countries
        Country outlines with an ``iso3`` column: the km of each line in each country, for the
        statistics strip.

    Returns
    -------
    dict
        ``columns``, ``rows`` (the attributes, for the card, search and "download what I see";
        a ``waypoints`` cell of only unnamed waypoints is their number; in a canvas layer,
        named waypoints are one text joined by :data:`WAYPOINT_SEPARATOR`), ``ints`` (columns of
        whole numbers), ``fields`` and ``extras`` (the card's rows), ``styles`` and ``style``,
        ``first`` (:func:`first_year`), ``refs``, ``claims`` and ``coords`` (the card's
        sources), ``km``, ``kind`` (``line`` or ``point``), ``geometry`` (lines: per feature, the
        full text, or its vertices' levels and the full text) or ``points`` (one text), ``bands``,
        ``precision`` and ``canvas``. A canvas layer's line geometry is
        :class:`ccamap.render.packing.LineArrays`, for :func:`ccamap.render.packing.pack`.
    """
    records = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in r.items()} for r in attribute_records(gdf)]
    columns = [c for c in gdf.columns if c != "geometry" and c not in _NOT_CARRIED]
    geoms = gdf.geometry.to_numpy()
    styles: dict[str, int] = {}
    style_of = []
    for record in records:
        key = json.dumps(feature_style(record, layer), sort_keys=True)
        style_of.append(styles.setdefault(key, len(styles)))
    extras = [card_extras(r, layer, sources) for r in records]
    internal = {*layer.columns, "waypoints", "coordinate_sources", "layer", "length_km"}
    vertices = int(shapely.get_num_coordinates(geoms).sum()) if len(geoms) else 0
    canvas = len(records) >= CANVAS_MIN_FEATURES or vertices >= CANVAS_MIN_VERTICES
    data: dict[str, Any] = {
        "kind": "line" if layer.is_line else "point",
        "columns": columns,
        "ints": [c for c in columns if any(isinstance(r.get(c), int | np.integer)
                                           and not isinstance(r.get(c), bool) for r in records)],
        "rows": [_row(r, columns, join=canvas) for r in records],
        "fields": [[f.name, f.title, f.kind] for f in layer.all_fields
                   if f.name not in CARD_SKIP and f.name != "capacity_unit"],
        "extras": [c for c in columns if c not in internal],
        "styles": [json.loads(k) for k in styles],
        "style": style_of,
        "first": [first_year(r) for r in records],
        "refs": [e[0] for e in extras],
        "claims": [e[1] for e in extras],
        "coords": [e[2] for e in extras],
        "precision": PRECISION,
        "canvas": canvas,
    }
    if layer.is_line:
        data["km"] = _km_by_country(list(geoms), countries)
        data["bands"] = [[b.min_zoom, b.max_zoom] for b in lod_bands()]
        # a canvas layer's page is packed (:mod:`ccamap.render.packing`): binary arrays
        data["geometry"] = line_arrays(geoms) if data["canvas"] else encode_line_bands(geoms)
    else:
        data["points"] = encode_points(geoms)
    return data


def cited_sources(data: dict[str, Any]) -> set[str]:
    """Return the ids of every source a layer's cards cite (attributes, coordinates, claims)."""
    at = data["columns"].index("sources") if "sources" in data["columns"] else None
    cited = {str(s) for row in data["rows"] for s in ((row[at] or []) if at is not None else [])}
    cited.update(s for ids in data["coords"] if ids for s in ids)
    cited.update(c[3] for claims in data["claims"] if claims for c in claims)
    return cited
