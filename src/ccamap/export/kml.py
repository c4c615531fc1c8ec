"""KML export: every layer in one document for Google Earth, styled as on the maps."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from ccamap.errors import ExportError
from ccamap.export.frame import export_frame, gdal_type, layer_of, records
from ccamap.export.tables import csv_cell
from ccamap.layers import Layer
from ccamap.render import card_html
from ccamap.safety import xml_text
from ccamap.style import feature_style, kml_color

__all__ = ["kml_text"]


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
        layer = layer_of(name, gdf)
        frame = export_frame(gdf, layer)
        columns = [c for c in frame.columns if c != "geometry"]
        schema = ET.SubElement(doc, "Schema", name=layer.name, id=f"schema-{layer.name}")
        for col in columns:
            field = ET.SubElement(schema, "SimpleField", name=col,
                                  type=_KML_TYPES[gdal_type(layer, col)])
            with contextlib.suppress(KeyError):
                ET.SubElement(field, "displayName").text = layer.field(col).title
        folder = ET.Element("Folder", id=layer.name)
        ET.SubElement(folder, "name").text = layer.title
        folders.append(folder)
        for rec, geom, joined in zip(records(frame), frame.geometry,
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
                    ET.SubElement(data, "SimpleData", name=col).text = csv_cell(rec[col])
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
