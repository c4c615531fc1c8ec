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
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import partial
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
from ccamap.io import text_writer, write_files_atomic
from ccamap.layers import LAYERS, Layer
from ccamap.qgis_style import layer_qml
from ccamap.render import card_html
from ccamap.safety import neutralise_formula, redact, secrets_in_url, xml_text
from ccamap.style import feature_style, kml_color

__all__ = ["FORMATS", "LIST_SEPARATOR", "check_format", "claims_csv_text", "claims_table",
           "export_frame", "export_paths", "geojson_text", "list_columns", "render_export",
           "round_geometry", "to_postgis", "write_export"]

#: Export formats and the file suffix of each.
FORMATS: dict[str, str] = {
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "kml": ".kml",
    "csv": ".csv",
    "parquet": ".parquet",
    "fgb": ".fgb",
}

#: Formats that hold every layer in one file, ``ccamap<suffix>``.
_SINGLE_FILE = frozenset({"gpkg", "kml"})
#: Formats rendered to text by :func:`render_export`; the others are written by GDAL or Arrow.
_TEXT_FORMATS = frozenset({"geojson", "kml", "csv"})
#: How list values are joined where a format has no arrays.
LIST_SEPARATOR = ";"
_SOURCE_COLUMNS = ("id", "title", "publisher", "date", "url", "kind")
_LIST_KINDS = ("list", "iso3_list", "choice_list")


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


# --------------------------------------------------------------------------- the export frame


def list_columns(layer: Layer) -> list[str]:
    """Return the columns of a joined layer that hold lists of strings."""
    return [f.name for f in layer.all_fields if f.kind in _LIST_KINDS] + [
        "waypoints", "coordinate_sources"]


def _int_columns(layer: Layer) -> list[str]:
    return [f.name for f in layer.all_fields if f.kind == "int"]


def _float_columns(layer: Layer) -> list[str]:
    return [f.name for f in layer.all_fields if f.kind == "float"] + (
        ["length_km"] if layer.is_line else [])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


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
    ints, floats, lists_ = _int_columns(layer), _float_columns(layer), list_columns(layer)
    for col in columns:
        values = list(gdf[col])
        if col in ints:
            out[col] = pd.array([None if _missing(v) else int(v) for v in values],
                                dtype="Int64")
        elif col in floats:
            out[col] = pd.Series([np.nan if _missing(v) else float(v) for v in values],
                                 dtype="float64")
        elif col in lists_:
            items = [[] if _missing(v) or v is None else [str(x) for x in v] for v in values]
            if lists == "joined":
                out[col] = pd.Series([LIST_SEPARATOR.join(v) if v else None for v in items],
                                     dtype=object)
            elif col in ("waypoints", "coordinate_sources"):
                out[col] = pd.Series(items, dtype=object)
            else:
                out[col] = pd.Series([v or None for v in items], dtype=object)
        else:
            out[col] = pd.Series([None if _missing(v) else str(v) for v in values],
                                 dtype=object)
    decimals = settings.COORDINATE_PRECISION
    geoms = [round_geometry(g, str(fid), decimals) for fid, g in
             zip(gdf["id"], gdf.geometry, strict=True)]
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
                            crs="EPSG:4326")


def _plain(value: Any) -> Any:
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
        return [_plain(v) for v in value]
    return value


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in rec.items()}
            for rec in frame.drop(columns="geometry").to_dict("records")]


def _citations(ids: list[str] | None, sources: pd.DataFrame) -> list[dict[str, str]]:
    out = []
    for sid in ids or []:
        if sid in sources.index:
            src = sources.loc[sid]
            out.append({k: str(src[k]) for k in ("id", "title", "publisher", "date", "url")})
        else:
            out.append({"id": sid})
    return out


def _layer_of(name: str, gdf: gpd.GeoDataFrame) -> Layer:
    if name in LAYERS:
        return LAYERS[name]
    if "layer" in gdf.columns and len(gdf) and gdf["layer"].iloc[0] in LAYERS:
        return LAYERS[gdf["layer"].iloc[0]]
    msg = f"expected a layer name ({', '.join(LAYERS)}), found {name!r}"
    raise ExportError(msg)


# --------------------------------------------------------------------------- text formats


def geojson_text(gdf: gpd.GeoDataFrame, sources: pd.DataFrame) -> str:
    """Return one layer as an RFC 7946 FeatureCollection.

    WGS84 lon/lat, no ``crs`` member, a top-level ``bbox``, coordinates rounded to
    :data:`ccamap.settings.COORDINATE_PRECISION` places, typed properties (numbers stay numbers,
    lists stay arrays, strings that look like JSON stay strings) and ``sources`` as an array of
    full citations.
    """
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    decimals = settings.COORDINATE_PRECISION
    features = []
    for record, geom in zip(gdf.drop(columns="geometry").to_dict("records"), gdf.geometry,
                            strict=True):
        fid = record["id"]
        props = {k: _plain(v) for k, v in record.items()}
        props["sources"] = _citations(record.get("sources"), sources)
        props["claims"] = _claims_property(str(record.get("layer") or ""), fid, sources)
        rounded = round_geometry(geom, fid, decimals)
        features.append({"type": "Feature", "id": fid, "properties": props,
                         "geometry": mapping(rounded)})
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if len(gdf):
        doc["bbox"] = [round(float(v), decimals) for v in gdf.total_bounds]
    doc["features"] = features
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def _claims_property(layer: str, fid: str, sources: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a feature's claims for GeoJSON: typed values, each with its full citation."""
    return [{"field": c.field, "value": _plain(c.value), "unit": c.unit or None, "as_of": c.as_of,
             "source": _citations([c.source], sources)[0], "note": c.note or None}
            for c in claims_of(sources).for_feature(layer, fid)]


# --------------------------------------------------------------------------- claims table


def claims_table(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> pd.DataFrame:
    """Return the claims on the exported layers as one table for GIS tools.

    Columns :data:`ccamap.claims.EXPORT_COLUMNS` (``layer, id, field, value, unit, as_of,
    source, note``): ``value`` is text as written in ``claims.csv`` (a claim may be a number, a
    year or a status), ``as_of`` an integer year or empty; join to a layer on ``id`` and to the
    sources table on ``source``.
    """
    names = [_layer_of(name, gdf).name for name, gdf in layers.items()]
    return claims_of(sources).frame(names)


def claims_csv_text(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> str:
    """Return :func:`claims_table` as CSV (empty cells for no value)."""
    table = claims_table(layers, sources)
    rows = [list(CLAIM_COLUMNS)]
    for rec in table.to_dict("records"):
        rows.append(["" if rec[c] is None or rec[c] is pd.NA else str(rec[c])
                     for c in CLAIM_COLUMNS])
    return _csv_text(rows)


def _claims_gdal(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`claims_table` typed for GDAL and Arrow: text, ``as_of`` as Int64."""
    table = claims_table(layers, sources)
    return table.astype({c: "string" for c in CLAIM_COLUMNS if c != "as_of"})


def _csv_cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value) if not isinstance(value, float) else repr(value)


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _gdal_type(layer: Layer, column: str) -> str:
    if column in _int_columns(layer):
        return "Integer"
    if column in _float_columns(layer):
        return "Real"
    return "String"


def csv_texts(name: str, gdf: gpd.GeoDataFrame) -> tuple[str, str]:
    """Return one layer as CSV (one row per feature, geometry as WKT) and its ``.csvt``.

    List values are joined with :data:`LIST_SEPARATOR`; the geometry is the last column,
    ``WKT``, which GDAL's CSV driver reads as the geometry. The ``.csvt`` sidecar gives GDAL
    each column's type. Text cells (and column names) that start with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return get a leading ``'`` so that no spreadsheet runs them as a
    formula (:func:`ccamap.safety.neutralise_formula`, as OWASP recommends); numbers and the
    ``WKT`` column are written as they are.
    """
    layer = _layer_of(name, gdf)
    frame = export_frame(gdf, layer)
    columns = [c for c in frame.columns if c != "geometry"]
    text = {c for c in columns if _gdal_type(layer, c) == "String"}
    rows = [[*(neutralise_formula(c) for c in columns), "WKT"]]
    for rec, geom in zip(_records(frame), frame.geometry, strict=True):
        cells = [_csv_cell(rec[c]) for c in columns]
        rows.append([neutralise_formula(v) if c in text else v
                     for c, v in zip(columns, cells, strict=True)]
                    + [shapely.to_wkt(geom, rounding_precision=-1, trim=True)])
    types = [[*(_gdal_type(layer, c) for c in columns), "WKT"]]
    return _csv_text(rows), _csv_text(types)


def sources_csv_text(sources: pd.DataFrame) -> str:
    """Return the sources table as CSV (``id, title, publisher, date, url, kind``).

    Every cell is text: one that starts like a spreadsheet formula gets a leading ``'``.
    """
    rows = [list(_SOURCE_COLUMNS)]
    for rec in sources.to_dict("records"):
        rows.append([neutralise_formula(str(rec.get(c, "") or "")) for c in _SOURCE_COLUMNS])
    return _csv_text(rows)


def _kml_color(hex_color: str, opacity: float) -> str:
    """``#rrggbb`` and an opacity as KML's ``aabbggrr`` (:func:`ccamap.style.kml_color`)."""
    return kml_color(hex_color, opacity)


def _kml_coords(coords: Any) -> str:
    return " ".join(f"{x!r},{y!r}" for x, y, *_ in coords)


def _kml_geometry(parent: ET.Element, geom: shapely.Geometry) -> None:
    if geom.geom_type == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = \
            _kml_coords(geom.coords)
    elif geom.geom_type == "LineString":
        line = ET.SubElement(parent, "LineString")
        ET.SubElement(line, "tessellate").text = "1"
        ET.SubElement(line, "coordinates").text = _kml_coords(geom.coords)
    else:
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in getattr(geom, "geoms", []):
            _kml_geometry(multi, part)


_KML_TYPES = {"Integer": "int", "Real": "double", "String": "string"}


def kml_text(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame) -> str:
    r"""Return every layer as one KML document for Google Earth.

    One ``Folder`` per layer; one shared ``Style`` per colour, status and symbol size, as on
    the maps (KML has no dash patterns: status shows by colour and opacity); the popup card
    (:func:`ccamap.render.card_html`, already HTML-escaped) as each placemark's
    ``description``, escaped again as XML text; every attribute as typed ``SchemaData``, lists
    joined with :data:`LIST_SEPARATOR`. Characters XML 1.0 cannot hold (control characters)
    appear as visible escapes such as ``\x1b`` (:func:`ccamap.safety.xml_text`); all other text
    is kept as written. The document is parsed again before it is returned.

    Raises
    ------
    ExportError
        If the document does not parse as XML (it always should).
    """
    root = ET.Element("kml", xmlns="http://www.opengis.net/kml/2.2")
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = "ccamap — China–Central Asia cooperation infrastructure"
    styles: dict[str, ET.Element] = {}
    folders: list[ET.Element] = []
    for name, gdf in layers.items():
        layer = _layer_of(name, gdf)
        frame = export_frame(gdf, layer)
        columns = [c for c in frame.columns if c != "geometry"]
        schema = ET.SubElement(doc, "Schema", name=layer.name, id=f"schema-{layer.name}")
        for col in columns:
            field = ET.SubElement(schema, "SimpleField", name=col,
                                  type=_KML_TYPES[_gdal_type(layer, col)])
            with contextlib.suppress(KeyError):
                ET.SubElement(field, "displayName").text = layer.field(col).title
        folder = ET.Element("Folder", id=layer.name)
        ET.SubElement(folder, "name").text = layer.title
        folders.append(folder)
        for rec, geom, joined in zip(_records(frame), frame.geometry,
                                     gdf.drop(columns="geometry").to_dict("records"),
                                     strict=True):
            style = feature_style(joined, layer)
            style_id = _kml_style(styles, style, layer)
            mark = ET.SubElement(folder, "Placemark", id=f"{layer.name}.{rec['id']}")
            ET.SubElement(mark, "name").text = str(rec["name"])
            ET.SubElement(mark, "description").text = card_html(joined, layer, sources)
            ET.SubElement(mark, "styleUrl").text = f"#{style_id}"
            data = ET.SubElement(ET.SubElement(mark, "ExtendedData"), "SchemaData",
                                 schemaUrl=f"#schema-{layer.name}")
            for col in columns:
                if rec[col] is not None:
                    ET.SubElement(data, "SimpleData", name=col).text = _csv_cell(rec[col])
            _kml_geometry(mark, geom)
    for style_id in sorted(styles):
        doc.append(styles[style_id])
    doc.extend(folders)
    _xml_safe(root)
    ET.indent(root, space=" ")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
    try:
        ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        msg = f"ccamap.kml: expected a well-formed KML document, found: {exc}"
        raise ExportError(msg) from exc
    return text


def _xml_safe(root: ET.Element) -> None:
    """Replace the characters XML cannot hold in every text, tail and attribute, in place."""
    for elem in root.iter():
        if elem.text:
            elem.text = xml_text(elem.text)
        if elem.tail:
            elem.tail = xml_text(elem.tail)
        if elem.attrib:
            elem.attrib = {xml_text(k): xml_text(v) for k, v in elem.attrib.items()}


def _kml_style(styles: dict[str, ET.Element], style: dict[str, Any], layer: Layer) -> str:
    opacity = float(style["opacity"])
    color = str(style["color"])
    if layer.is_line:
        style_id = f"line-{color[1:]}-{round(opacity * 100)}"
    else:
        style_id = f"point-{color[1:]}-{round(opacity * 100)}-{style['radius']:g}" + (
            "-locality" if style.get("locality") else "")
    if style_id not in styles:
        elem = ET.Element("Style", id=style_id)
        if layer.is_line:
            line = ET.SubElement(elem, "LineStyle")
            ET.SubElement(line, "color").text = _kml_color(color, opacity)
            ET.SubElement(line, "width").text = str(style["weight"])
        else:
            icon = ET.SubElement(elem, "IconStyle")
            ET.SubElement(icon, "color").text = _kml_color(color, opacity)
            ET.SubElement(icon, "scale").text = f"{float(style['radius']) / 6:.2f}"
            shape = "donut" if style.get("locality") else "placemark_circle"  # locality: a ring
            ET.SubElement(ET.SubElement(icon, "Icon"), "href").text = \
                f"https://maps.google.com/mapfiles/kml/shapes/{shape}.png"
        styles[style_id] = elem
    return style_id


def export_paths(out: Path, names: list[str], fmt: str) -> dict[str, Path]:
    """Return the output file of each layer for a format (one shared file for gpkg and kml)."""
    check_format(fmt)
    if fmt in _SINGLE_FILE:
        return dict.fromkeys(names, out / f"ccamap{FORMATS[fmt]}")
    return {name: out / f"{name}{FORMATS[fmt]}" for name in names}


def render_export(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> dict[Path, str]:
    """Return the files of a text format (geojson, kml, csv) by path, without writing anything.

    Raises
    ------
    UsageError
        For a binary format (gpkg, parquet, fgb): use :func:`write_export`.
    """
    check_format(fmt)
    if fmt not in _TEXT_FORMATS:
        msg = (f"expected a text format ({', '.join(sorted(_TEXT_FORMATS))}) to render, found "
               f"{fmt!r}; write it with write_export")
        raise UsageError(msg)
    paths = export_paths(out, list(layers), fmt)
    if fmt == "geojson":
        return {path: geojson_text(layers[name], sources) for name, path in paths.items()}
    if fmt == "kml":
        return {out / "ccamap.kml": kml_text(layers, sources)}
    files: dict[Path, str] = {}
    for name, path in paths.items():
        files[path], files[path.with_suffix(".csvt")] = csv_texts(name, layers[name])
    files[out / "sources.csv"] = sources_csv_text(sources)
    files[out / "claims.csv"] = claims_csv_text(layers, sources)
    return files


# --------------------------------------------------------------------------- binary formats


def _gdal_frame(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a layer for GDAL: lists joined, lines as MultiLineString."""
    layer = _layer_of(name, gdf)
    frame = export_frame(gdf, layer, lists="joined")
    if layer.is_line:
        frame = frame.set_geometry(
            [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g
             for g in frame.geometry], crs="EPSG:4326")
    return frame


def _refuse_nul(frame: pd.DataFrame, layer: str, target: str) -> None:
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
        if col == "geometry":
            continue
        for fid, value in zip(frame.get("id", frame.index), frame[col], strict=True):
            if isinstance(value, str) and "\x00" in value:
                at = value.index("\x00")
                msg = (f"layer {layer!r}, feature {fid!r}, field {str(col)!r}: expected text "
                       f"without NUL characters ({target} would cut it there), found a NUL at "
                       f"character {at + 1} of {value[:60]!r}")
                raise ExportError(msg)


def _write_gdal(frame: pd.DataFrame, path: Path, layer: str, driver: str,
                **options: Any) -> None:
    import pyogrio

    _refuse_nul(frame, layer, f"GDAL's {driver} driver")
    try:
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, **options)
    except Exception as exc:  # pyogrio raises several error types, all from GDAL
        msg = f"{path}: expected GDAL's {driver} driver to write layer {layer!r}, found: {exc}"
        raise ExportError(msg) from exc


def _write_gpkg(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, tmp: Path) -> None:
    for name, gdf in layers.items():
        _write_gdal(_gdal_frame(name, gdf), tmp, name, "GPKG", SPATIAL_INDEX="YES",
                    promote_to_multi=False, dataset_options={"VERSION": "1.2"})
    _write_gdal(_claims_gdal(layers, sources), tmp, "claims", "GPKG")
    table = pd.DataFrame({c: [str(v or "") for v in sources[c]] for c in _SOURCE_COLUMNS})
    _write_gdal(table, tmp, "sources", "GPKG")
    try:
        with contextlib.closing(sqlite3.connect(tmp)) as con, con:
            _write_layer_styles(con, [(name, _layer_of(name, gdf))
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
    _write_gdal(_gdal_frame(name, gdf), tmp, name, "FlatGeobuf", SPATIAL_INDEX="YES",
                promote_to_multi=False)


def _write_layer_parquet(name: str, gdf: gpd.GeoDataFrame, tmp: Path) -> None:
    _write_parquet(export_frame(gdf, name), tmp)


def _binary_writers(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> dict[Path, Callable[[Path], None]]:
    if fmt == "gpkg":
        return {out / "ccamap.gpkg": partial(_write_gpkg, layers, sources)}
    writer = _write_fgb if fmt == "fgb" else _write_layer_parquet
    writers: dict[Path, Callable[[Path], None]] = {
        path: partial(writer, name, layers[name])
        for name, path in export_paths(out, list(layers), fmt).items()}
    if fmt == "parquet":
        table = pd.DataFrame({c: [str(v or "") for v in sources[c]] for c in _SOURCE_COLUMNS})
        writers[out / "sources.parquet"] = partial(_write_parquet, table)
        writers[out / "claims.parquet"] = partial(_write_parquet, _claims_gdal(layers, sources))
    else:
        writers[out / "sources.csv"] = text_writer(sources_csv_text(sources))
        writers[out / "claims.csv"] = text_writer(claims_csv_text(layers, sources))
    return writers


def write_export(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, fmt: str, out: Path
) -> list[Path]:
    """Write ``layers`` in format ``fmt`` under ``out``; return the files written.

    Every file is first written to a temporary path beside its target; only when all of them
    are complete are they moved into place. On any failure the temporary files are removed and
    the previous files are left as they were.

    Raises
    ------
    UsageError
        For an unknown format.
    ExportError
        If a geometry collapses when rounded, a value cannot be held by the format, GDAL or
        Arrow fails to write, or the system refuses a write (a read-only directory, a full
        disk: then the previous files are unchanged).
    """
    check_format(fmt)
    out = Path(out)
    writers: dict[Path, Callable[[Path], None]]
    if fmt in _TEXT_FORMATS:
        texts = render_export(layers, sources, fmt, out)
        writers = {path: text_writer(text) for path, text in texts.items()}
    else:
        writers = _binary_writers(layers, sources, fmt, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        return write_files_atomic(writers)
    except OSError as exc:
        raise _write_failed(out, fmt, exc) from exc


def _write_failed(out: Path, fmt: str, exc: OSError) -> ExportError:
    where = exc.filename if exc.filename is not None else out
    reason = exc.strerror or os.strerror(exc.errno or 0) or str(exc)
    msg = (f"{where}: expected to write the {fmt} export into {out}, found: {reason}; the "
           "previous files there are unchanged")
    return ExportError(msg)


# --------------------------------------------------------------------------- PostGIS


def _engine_url(url: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    expected = "a database URL postgresql://USER@HOST:PORT/DB"
    userinfo = url.partition("://")[2].rpartition("@")[0]
    if any(c in userinfo for c in "@/?#"):  # which '@' ends the password is anyone's guess
        msg = redact(f"expected {expected} with '@', '/', '?' and '#' in the user name and "
                     f"password written as %40, %2F, %3F and %23, found {url!r}",
                     known=secrets_in_url(url))
        raise ExportError(msg)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        msg = redact(f"expected {expected}, found {url!r}", known=secrets_in_url(url))
        raise ExportError(msg) from None
    if parsed.get_backend_name() != "postgresql":
        msg = redact(f"expected a postgresql:// URL, found {parsed.drivername}://")
        raise ExportError(msg)
    return parsed.set(drivername="postgresql+psycopg")


def to_postgis(
    layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame, url: str, schema: str
) -> list[str]:
    """Write every layer and the sources table into PostGIS; return the tables written.

    Each layer becomes ``schema.<layer>`` with typed columns (lists as ``text[]``), a
    ``geometry`` column in EPSG:4326 (lines as MultiLineString) with a GiST index and ``id`` as
    primary key; ``schema.sources`` holds the sources table and ``schema.claims`` the contested
    values (:func:`claims_table`). All tables are replaced inside one transaction: if anything
    fails, the previous tables stay as they were.

    Parameters
    ----------
    layers
        Joined layers by name.
    sources
        The sources table.
    url
        ``postgresql://USER[:PASSWORD]@HOST:PORT/DB``.
    schema
        The schema to write into (created if missing).

    Raises
    ------
    ExportError
        If the URL is malformed, the database cannot be reached, lacks PostGIS, a value holds a
        NUL character, or a write fails. No message shows a password (:func:`ccamap.safety.redact`).
    """
    import psycopg
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.exc import SQLAlchemyError

    engine_url = _engine_url(url)
    known = secrets_in_url(url)
    shown = redact(engine_url.set(drivername="postgresql").render_as_string(hide_password=True),
                   known=known)
    if not schema.isidentifier():
        msg = f"expected a schema name of letters, digits and underscores, found {schema!r}"
        raise ExportError(msg)
    frames = {name: _gdal_frame(name, gdf) for name, gdf in layers.items()}
    for name, gdf in layers.items():
        array = export_frame(gdf, name)
        for col in list_columns(_layer_of(name, gdf)):
            if col in array.columns:  # geopandas writes with COPY: PostgreSQL array literals
                frames[name][col] = [None if v is None else _pg_array(v) for v in array[col]]
    table = pd.DataFrame({c: [str(v or "") for v in sources[c]] for c in _SOURCE_COLUMNS})
    for name, frame in {**frames, "sources": table}.items():
        _refuse_nul(frame, name, "PostgreSQL text")
    engine = sa.create_engine(engine_url)
    written: list[str] = []
    try:
        with engine.begin() as con:
            _require_postgis(con, shown)
            con.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            for name, frame in frames.items():
                dtype = {c: ARRAY(sa.Text) for c in list_columns(_layer_of(name, frame))
                         if c in frame.columns}
                frame.to_postgis(name, con, schema=schema, if_exists="replace", index=False,
                                 dtype=dtype)
                con.execute(sa.text(f'ALTER TABLE "{schema}"."{name}" ADD PRIMARY KEY (id)'))
                con.execute(sa.text(
                    f'CREATE INDEX IF NOT EXISTS "idx_{name}_geometry" '
                    f'ON "{schema}"."{name}" USING GIST (geometry)'))
                written.append(f"{schema}.{name}")
            table.to_sql("sources", con, schema=schema, if_exists="replace", index=False)
            con.execute(sa.text(f'ALTER TABLE "{schema}"."sources" ADD PRIMARY KEY (id)'))
            written.append(f"{schema}.sources")
            _claims_gdal(layers, sources).to_sql("claims", con, schema=schema,
                                                 if_exists="replace", index=False)
            written.append(f"{schema}.claims")
    except (SQLAlchemyError, psycopg.Error) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        msg = redact(f"expected to replace the ccamap tables in {shown} (schema {schema}), "
                     f"found: {reason}; the previous tables are unchanged", known=known)
        raise ExportError(msg) from None
    finally:
        engine.dispose()
    return written


def _pg_array(items: list[str]) -> str:
    """Return a PostgreSQL ``text[]`` literal, quoting every element."""
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in items)
    return "{" + ",".join(quoted) + "}"


def _require_postgis(con: Any, shown: str) -> None:
    import sqlalchemy as sa

    installed = con.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
    if installed is None:
        msg = (f"expected the postgis extension in {shown}, found it not installed "
               "(run CREATE EXTENSION postgis as a superuser)")
        raise ExportError(msg)
