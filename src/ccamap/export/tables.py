"""CSV export: one table per layer with WKT geometry and ``.csvt`` types, sources and claims."""

from __future__ import annotations

import csv
import io
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from ccamap.claims import EXPORT_COLUMNS as CLAIM_COLUMNS
from ccamap.export.frame import (
    LIST_SEPARATOR,
    SOURCE_COLUMNS,
    claims_table,
    export_frame,
    gdal_type,
    layer_of,
    plain,
    records,
)
from ccamap.safety import neutralise_formula

__all__ = ["claims_csv_text", "csv_cell", "csv_texts", "sources_csv_text"]


def csv_cell(value: Any) -> str:
    """Return one value as CSV text: lists joined with :data:`LIST_SEPARATOR`, floats exact."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value) if not isinstance(value, float) else repr(value)


def csv_text(rows: list[list[str]]) -> str:
    """Return rows as CSV text (newline line ends, minimal quoting)."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def claims_csv_text(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> str:
    """Return :func:`ccamap.export.claims_table` as CSV (empty cells for no value)."""
    table = claims_table(layers, sources)
    rows = [list(CLAIM_COLUMNS)]
    for rec in table.to_dict("records"):
        rows.append(["" if rec[c] is None or rec[c] is pd.NA else str(rec[c])
                     for c in CLAIM_COLUMNS])
    return csv_text(rows)


def csv_texts(name: str, gdf: gpd.GeoDataFrame) -> tuple[str, str]:
    """Return one layer as CSV (one row per feature, geometry as WKT) and its ``.csvt``.

    List values are joined with :data:`LIST_SEPARATOR`; the geometry is the last column,
    ``WKT``, which GDAL's CSV driver reads as the geometry. The ``.csvt`` sidecar gives GDAL
    each column's type. Text cells (and column names) that start with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return get a leading ``'`` so that no spreadsheet runs them as a
    formula (:func:`ccamap.safety.neutralise_formula`, as OWASP recommends); numbers and the
    ``WKT`` column are written as they are.
    """
    layer = layer_of(name, gdf)
    frame = export_frame(gdf, layer)
    columns = [c for c in frame.columns if c != "geometry"]
    text = {c for c in columns if gdal_type(layer, c) == "String"}
    rows = [[*(neutralise_formula(c) for c in columns), "WKT"]]
    wkt = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=-1, trim=True)
    for rec, geom_wkt in zip(records(frame), wkt, strict=True):
        cells = [csv_cell(rec[c]) for c in columns]
        rows.append([neutralise_formula(v) if c in text else v
                     for c, v in zip(columns, cells, strict=True)] + [str(geom_wkt)])
    types = [[*(gdal_type(layer, c) for c in columns), "WKT"]]
    return csv_text(rows), csv_text(types)


def sources_csv_text(sources: pd.DataFrame) -> str:
    """Return the sources table as CSV (``id, title, publisher, date, url, kind``).

    Every cell is text: one that starts like a spreadsheet formula gets a leading ``'``.
    """
    rows = [list(SOURCE_COLUMNS)]
    for rec in sources.to_dict("records"):
        rows.append([neutralise_formula(str(rec.get(c, "") or "")) for c in SOURCE_COLUMNS])
    return csv_text(rows)
