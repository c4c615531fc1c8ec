r"""Exports for GIS tools: GeoJSON, GeoPackage, KML, CSV, GeoParquet, FlatGeobuf and PostGIS.

How list-valued columns (``countries``, ``owners``, ``sources``, ``waypoints`` …) are written:

========== ========================= ==========================================================
format     lists                     notes
========== ========================= ==========================================================
geojson    JSON arrays               ``sources`` is an array of full citations
parquet    Arrow ``list<string>``    GeoParquet 1.1 metadata; also ``sources.parquet``
postgis    ``text[]``                plus a ``sources`` table
gpkg       ``;``-joined text         plus a ``sources`` table and a ``layer_styles`` table
fgb        ``;``-joined text         plus ``sources.csv`` beside the layers
csv        ``;``-joined text         geometry as WKT in column ``WKT``; ``.csvt`` sidecars for
                                     GDAL's field types; plus ``sources.csv``; text cells that
                                     a spreadsheet would run as a formula get a leading ``'``
kml        ``;``-joined text         typed ``SchemaData``; the popup card as ``description``;
                                     characters XML cannot hold as visible escapes (``\x1b``)
========== ========================= ==========================================================

Every format also carries the contested values of ``geodata/claims.csv`` (:func:`claims_table`):
a ``claims`` table in gpkg and PostGIS, ``claims.csv`` / ``claims.parquet`` beside the other
formats, a ``claims`` array in each GeoJSON feature, and the card in KML.

Every file is written to a temporary path in its target directory and moved into place only when
every file of the export is complete, so a failed export never leaves a truncated file. Text that
a format cannot hold is never cut silently: a NUL character, which GDAL's GeoPackage and
FlatGeobuf drivers and PostgreSQL would cut the text at, is refused with the layer, feature and
field that hold it.

The package's modules: :mod:`~ccamap.export.frame` (formats, typed columns, rounding, JSON
values), :mod:`~ccamap.export.geojson`, :mod:`~ccamap.export.tables` (CSV),
:mod:`~ccamap.export.kml`, :mod:`~ccamap.export.gdal` (GeoPackage, FlatGeobuf, GeoParquet),
:mod:`~ccamap.export.write` (rendering and writing a whole export) and
:mod:`~ccamap.export.postgis`.
"""

from __future__ import annotations

from ccamap.export.frame import (
    FORMATS,
    LIST_SEPARATOR,
    check_format,
    claims_table,
    export_frame,
    export_paths,
    list_columns,
    round_geometries,
    round_geometry,
)
from ccamap.export.geojson import geojson_pieces, geojson_text
from ccamap.export.kml import kml_text
from ccamap.export.postgis import to_postgis
from ccamap.export.tables import claims_csv_text, csv_texts, sources_csv_text
from ccamap.export.write import render_export, write_export

__all__ = ["FORMATS", "LIST_SEPARATOR", "check_format", "claims_csv_text", "claims_table",
           "csv_texts", "export_frame", "export_paths", "geojson_pieces", "geojson_text",
           "kml_text",
           "list_columns", "render_export", "round_geometries", "round_geometry",
           "sources_csv_text", "to_postgis", "write_export"]
