"""GeoJSON export: one RFC 7946 FeatureCollection per layer, built column by column."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import geopandas as gpd
import pandas as pd

from ccamap import settings
from ccamap.claims import Claims, claims_of
from ccamap.export.frame import (
    citation_lookup,
    geometry_mappings,
    plain,
    plain_values,
    round_geometries,
)

__all__ = ["geojson_pieces", "geojson_text"]

#: Features rounded and serialised per batch: one batch's coordinates are alive at a time.
_BATCH = 2048

_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def geojson_text(gdf: gpd.GeoDataFrame, sources: pd.DataFrame) -> str:
    """Return one layer as an RFC 7946 FeatureCollection.

    WGS84 lon/lat, no ``crs`` member, a top-level ``bbox``, coordinates rounded to
    :data:`ccamap.settings.COORDINATE_PRECISION` places, typed properties (numbers stay numbers,
    lists stay arrays, strings that look like JSON stay strings) and ``sources`` as an array of
    full citations. The text is the pieces of :func:`geojson_pieces`, joined.
    """
    return "".join(geojson_pieces(gdf, sources))


def geojson_pieces(gdf: gpd.GeoDataFrame, sources: pd.DataFrame) -> Iterator[str]:
    """Yield the text of :func:`geojson_text` piece by piece, a batch of features at a time.

    Properties are converted a column at a time (:func:`ccamap.export.frame.plain_values`);
    each batch's coordinates are rounded and checked in one pass
    (:func:`ccamap.export.frame.round_geometries`) and its features serialised together, so
    only one batch's rounded geometries, coordinate lists and text exist at once: written as
    they come, a layer of 30 million vertices never has its whole export in memory.

    Raises
    ------
    ExportError
        From the batch of the first feature whose geometry collapses when rounded (the pieces
        before it have been yielded).
    """
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    decimals = settings.COORDINATE_PRECISION
    attributes = gdf.drop(columns="geometry")
    names = list(attributes.columns)
    fids = attributes["id"].tolist()
    geometries = gdf.geometry.to_numpy()
    columns = [plain_values(attributes[c]) for c in names]
    raw_sources = attributes["sources"].tolist() if "sources" in names else [None] * len(gdf)
    raw_layers = attributes["layer"].tolist() if "layer" in names else [None] * len(gdf)
    cite = citation_lookup(sources)
    claims = claims_of(sources)
    rows = zip(*columns, strict=True) if names else iter([()] * len(gdf))
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if len(gdf):
        doc["bbox"] = [round(float(v), decimals) for v in gdf.total_bounds]
    doc["features"] = []
    yield _dumps(doc)[:-2]  # ends with "[]}": the features go between the brackets
    for start in range(0, len(gdf), _BATCH):
        stop = start + _BATCH
        rounded = round_geometries(geometries[start:stop], fids[start:stop], decimals)
        parts: list[str] = []
        for fid, row, geometry, ids, layer in zip(fids[start:stop], rows,
                                                  geometry_mappings(rounded),
                                                  raw_sources[start:stop], raw_layers[start:stop],
                                                  strict=False):
            props = dict(zip(names, row, strict=True))
            props["sources"] = cite(ids)
            props["claims"] = _claims_property(claims, str(layer or ""), fid, cite)
            parts.append(_dumps({"type": "Feature", "id": fid, "properties": props,
                                 "geometry": geometry}))
        yield ("," if start else "") + ",".join(parts)
    yield "]}\n"


def _claims_property(claims: Claims, layer: str, fid: Any,
                     cite: Callable[[Any], list[dict[str, str]]]) -> list[dict[str, Any]]:
    """Return a feature's claims for GeoJSON: typed values, each with its full citation."""
    return [{"field": c.field, "value": plain(c.value), "unit": c.unit or None, "as_of": c.as_of,
             "source": cite([c.source])[0], "note": c.note or None}
            for c in claims.for_feature(layer, fid)]
