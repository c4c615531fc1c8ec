"""Exports for GIS tools: RFC 7946 GeoJSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from ccamap import settings
from ccamap.errors import ExportError, UsageError
from ccamap.io import write_text_atomic

__all__ = ["FORMATS", "check_format", "export_paths", "geojson_text", "render_export",
           "round_geometry", "to_postgis", "write_export"]

#: Export formats and the file suffix of each.
FORMATS: dict[str, str] = {"geojson": ".geojson"}


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


def round_geometry(geom: shapely.Geometry, fid: str, decimals: int) -> shapely.Geometry:
    """Round coordinates to ``decimals`` places, refusing a geometry that collapses.

    Raises
    ------
    ExportError
        If rounding leaves a line with fewer than two distinct points, or an empty geometry.
    """
    rounded = shapely.transform(geom, lambda xy: np.round(xy, decimals))
    if geom.geom_type in ("LineString", "MultiLineString"):
        parts = [rounded] if rounded.geom_type == "LineString" else list(rounded.geoms)
        for part in parts:
            if len({tuple(c) for c in part.coords}) < 2:
                msg = (f"feature {fid!r}: expected a line of 2+ distinct points after rounding "
                       f"to {decimals} decimals, found one that collapses to a point")
                raise ExportError(msg)
    if rounded.is_empty or not shapely.is_valid(rounded):
        msg = f"feature {fid!r}: geometry becomes invalid when rounded to {decimals} decimals"
        raise ExportError(msg)
    return rounded


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    return value


def _citations(ids: list[str] | None, sources: pd.DataFrame) -> list[dict[str, str]]:
    out = []
    for sid in ids or []:
        if sid in sources.index:
            src = sources.loc[sid]
            out.append({k: str(src[k]) for k in ("id", "title", "publisher", "date", "url")})
        else:
            out.append({"id": sid})
    return out


def geojson_text(gdf: gpd.GeoDataFrame, sources: pd.DataFrame) -> str:
    """Return one layer as an RFC 7946 FeatureCollection.

    WGS84 lon/lat, no ``crs`` member, a top-level ``bbox``, coordinates rounded to
    :data:`ccamap.settings.COORDINATE_PRECISION` places, typed properties (numbers stay numbers,
    lists stay arrays) and ``sources`` as an array of full citations.
    """
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    decimals = settings.COORDINATE_PRECISION
    features = []
    for record, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry,
                            strict=True):
        fid = record["id"]
        props = {k: _jsonable(v) for k, v in record.items()}
        props["sources"] = _citations(record.get("sources"), sources)
        rounded = round_geometry(geom, fid, decimals)
        features.append({"type": "Feature", "id": fid, "properties": props,
                         "geometry": mapping(rounded)})
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if len(gdf):
        doc["bbox"] = [round(float(v), decimals) for v in gdf.total_bounds]
    doc["features"] = features
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def export_paths(out: Path, names: list[str], fmt: str) -> dict[str, Path]:
    """Return the output file of each layer for a format."""
    return {name: out / f"{name}{FORMATS[fmt]}" for name in names}


def render_export(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> dict[Path, str]:
    """Return the export files' contents by path, without writing anything."""
    check_format(fmt)
    return {path: geojson_text(layers[name], sources)
            for name, path in export_paths(out, list(layers), fmt).items()}



def write_export(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> list[Path]:
    """Write ``layers`` in format ``fmt`` under ``out``; return the files written.

    Every file is written to a temporary path beside its target and moved into place only when
    complete.
    """
    files = render_export(layers, sources, fmt, out)
    for path, text in files.items():
        write_text_atomic(path, text)
    return list(files)


def to_postgis(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, url: str, schema: str
) -> list[str]:
    """Write every layer and the sources table into PostGIS; return the tables written."""
    msg = f"expected a supported export target, found PostGIS ({url}), not available yet"
    raise ExportError(msg)
