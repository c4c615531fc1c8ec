"""Binary exports: GeoPackage and FlatGeobuf through GDAL, GeoParquet through Arrow."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ccamap.errors import ExportError
from ccamap.export.frame import (
    claims_gdal,
    export_frame,
    export_paths,
    layer_of,
    sources_frame,
)
from ccamap.export.tables import claims_csv_text, sources_csv_text
from ccamap.io import text_writer
from ccamap.layers import Layer
from ccamap.qgis_style import layer_qml

__all__ = ["binary_writers", "gdal_frame", "refuse_nul"]


def gdal_frame(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a layer for GDAL: lists joined, lines as MultiLineString."""
    layer = layer_of(name, gdf)
    frame = export_frame(gdf, layer, lists="joined")
    if layer.is_line:
        geoms = frame.geometry.to_numpy().copy()
        single = shapely.get_type_id(geoms) == 1  # LineString
        geoms[single] = shapely.multilinestrings(geoms[single],
                                                 indices=np.arange(int(single.sum())))
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs="EPSG:4326")
    return frame


def refuse_nul(frame: pd.DataFrame, layer: str, target: str) -> None:
    """Refuse text holding a NUL character, which GDAL's drivers and PostgreSQL would cut at.

    Raises
    ------
    ExportError
        Naming the layer, the feature id, the field and where the NUL is.
    """
    for col in frame.columns:
        if "\x00" in str(col):
            msg = (f"layer {layer!r}, field {str(col)!r}: expected a column name without NUL "
                   f"characters ({target} would cut it there), found one")
            raise ExportError(msg)
        if col == "geometry" or not _may_hold_nul(frame[col]):
            continue
        for fid, value in zip(frame.get("id", frame.index), frame[col], strict=True):
            if isinstance(value, str) and "\x00" in value:
                at = value.index("\x00")
                msg = (f"layer {layer!r}, feature {fid!r}, field {str(col)!r}: expected text "
                       f"without NUL characters ({target} would cut it there), found a NUL at "
                       f"character {at + 1} of {value[:60]!r}")
                raise ExportError(msg)


def _may_hold_nul(column: pd.Series) -> bool:
    """Whether a column may hold text with a NUL (a whole-column test; exact when False)."""
    if column.dtype.kind in "iufcbmM":
        return False
    try:
        return bool(column.astype(object).str.contains("\x00", regex=False, na=False).any())
    except (AttributeError, TypeError):  # not text at all: look value by value
        return True


def _write_gdal(frame: pd.DataFrame, path: Path, layer: str, driver: str,
                **options: Any) -> None:
    # Loaded here, not with the module: importing pyogrio maps GDAL (about 30 MB of resident
    # memory and 0.04 s) into every ccamap process, and only the gpkg and fgb writers need it.
    import pyogrio

    refuse_nul(frame, layer, f"GDAL's {driver} driver")
    try:
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, **options)
    except Exception as exc:  # pyogrio raises several error types, all from GDAL
        msg = f"{path}: expected GDAL's {driver} driver to write layer {layer!r}, found: {exc}"
        raise ExportError(msg) from exc


def _write_gpkg(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, tmp: Path) -> None:
    for name, gdf in layers.items():
        _write_gdal(gdal_frame(name, gdf), tmp, name, "GPKG", SPATIAL_INDEX="YES",
                    promote_to_multi=False, dataset_options={"VERSION": "1.2"})
    _write_gdal(claims_gdal(layers, sources), tmp, "claims", "GPKG")
    _write_gdal(sources_frame(sources), tmp, "sources", "GPKG")
    try:
        with contextlib.closing(sqlite3.connect(tmp)) as con, con:
            _write_layer_styles(con, [(name, layer_of(name, gdf))
                                      for name, gdf in layers.items()])
    except sqlite3.Error as exc:
        msg = f"{tmp}: expected SQLite to write the layer_styles table, found: {exc}"
        raise ExportError(msg) from exc


def _write_layer_styles(con: sqlite3.Connection, layers: list[tuple[str, Layer]]) -> None:
    """Create QGIS's ``layer_styles`` table with each layer's default QML style."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
        "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
        "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
        "update_time DATETIME DEFAULT CURRENT_TIMESTAMP)")
    con.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
        "'QGIS layer styles', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")
    for name, layer in layers:
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, 'ccamap', '')",
            (name, f"ccamap {name}", layer_qml(layer),
             f"ccamap style of {layer.title}, generated from the layer registry"))


def _write_parquet(frame: pd.DataFrame, tmp: Path) -> None:
    try:
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(tmp, index=False, schema_version="1.1.0",
                             write_covering_bbox=True)
        else:
            frame.to_parquet(tmp, index=False)
    except Exception as exc:  # pyarrow raises its own error types
        msg = f"{tmp}: expected Arrow to write GeoParquet 1.1, found: {exc}"
        raise ExportError(msg) from exc


def _write_fgb(name: str, gdf: gpd.GeoDataFrame, tmp: Path) -> None:
    _write_gdal(gdal_frame(name, gdf), tmp, name, "FlatGeobuf", SPATIAL_INDEX="YES",
                promote_to_multi=False)


def _write_layer_parquet(name: str, gdf: gpd.GeoDataFrame, tmp: Path) -> None:
    _write_parquet(export_frame(gdf, name), tmp)


def binary_writers(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> dict[Path, Callable[[Path], None]]:
    """Return a writer for each file of a binary format (gpkg, parquet, fgb), by path.

    Each writer builds its file when it is called, so only one layer's frame exists at a time.
    """
    if fmt == "gpkg":
        return {out / "ccamap.gpkg": partial(_write_gpkg, layers, sources)}
    writer = _write_fgb if fmt == "fgb" else _write_layer_parquet
    writers: dict[Path, Callable[[Path], None]] = {
        path: partial(writer, name, layers[name])
        for name, path in export_paths(out, list(layers), fmt).items()}
    if fmt == "parquet":
        writers[out / "sources.parquet"] = partial(_write_parquet, sources_frame(sources))
        writers[out / "claims.parquet"] = partial(_write_parquet, claims_gdal(layers, sources))
    else:
        writers[out / "sources.csv"] = text_writer(sources_csv_text(sources))
        writers[out / "claims.csv"] = text_writer(claims_csv_text(layers, sources))
    return writers
