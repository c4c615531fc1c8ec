"""QGIS styles (QML) generated from the layer registry, with the HTML maps' styling rules.

The colours, opacities, dash patterns and symbol sizes come from
:func:`ccamap.style.feature_style` applied to each combination of category value and status,
so the maps and QGIS share one definition:

- a layer without a category field (railways, highways) gets a *categorized* renderer on
  ``status``;
- a layer with one (pipelines by ``substance``, power plants by ``technology``, border ports by
  ``modes``, sites by ``kind``) gets a *rule-based* renderer: one rule per category value, with
  one child rule per status;
- point symbols of a layer with a ``size_field`` (power plants) are sized by a data-defined
  expression, area proportional to capacity in MW, as :func:`ccamap.style.point_radius`;
- points placed at a locality (``geometry_precision = 'locality'``) are hollow, by data-defined
  fill colour and outline width (:func:`hollow_expression`).

List fields are stored ``;``-joined in the GeoPackage; their category is the sorted join, as
:func:`ccamap.style.category_key` computes it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ccamap.layers import STATUS_STYLE, STATUSES, Layer
from ccamap.style import feature_style, rgba

__all__ = ["category_expression", "hollow_expression", "layer_qml", "size_expression",
           "style_fields"]

_QGIS_VERSION = "3.22.0"


def _quote(text: str) -> str:
    """Return ``text`` as a QGIS expression string literal."""
    return "'" + text.replace("'", "''") + "'"


def category_expression(layer: Layer) -> str | None:
    """Return the QGIS expression of the layer's colour category, or ``None``."""
    name = layer.category_field
    if name is None:
        return None
    if layer.field(name).kind in ("list", "iso3_list", "choice_list"):
        return f"array_to_string(array_sort(string_to_array(\"{name}\", ';')), ';')"
    return f'"{name}"'


def size_expression(layer: Layer) -> str | None:
    """Return the QGIS expression of a point's diameter in pixels, or ``None`` (fixed size).

    Mirrors :func:`ccamap.style.point_radius`: radius ``max(4, 0.5·√capacity)`` px when the
    capacity is in MW, else 6 px.
    """
    if layer.is_line or not layer.size_field:
        return None
    f = layer.size_field
    return (f"2 * CASE WHEN \"capacity_unit\" = 'MW' AND \"{f}\" > 0 "
            f"THEN max(4, 0.5 * sqrt(\"{f}\")) ELSE 6 END")


#: The fill of a point placed at a locality: hollow (QGIS styles show no status by fill).
_LOCALITY_FILL = "#ffffff"


def hollow_expression(layer: Layer, style: dict[str, Any], part: str) -> str:
    """Return the QGIS expression of a point's fill colour or outline width.

    Points placed at a locality (``geometry_precision = 'locality'``, site unknown) are hollow,
    with the outline width :func:`ccamap.style.feature_style` gives them (the HTML maps, whose
    fill shows status, draw a dashed ring instead).

    Parameters
    ----------
    layer
        A point layer.
    style
        The symbol's style for a point that is not a locality.
    part
        ``"fill"`` (an ``r,g,b,a`` colour) or ``"width"`` (pixels).
    """
    ring = feature_style({"status": "operating", "geometry_precision": "locality"}, layer)
    if part == "fill":
        then = _quote(rgba(_LOCALITY_FILL, 1.0))
        other = _quote(rgba(style["fillColor"], float(style["fillOpacity"])))
    else:
        then, other = f"{ring['weight']:g}", f"{style['weight']:g}"
    return f"CASE WHEN \"geometry_precision\" = 'locality' THEN {then} ELSE {other} END"


def style_fields(layer: Layer) -> list[str]:
    """Return the fields the layer's QGIS style reads."""
    fields = ["status"]
    if not layer.is_line:
        fields.append("geometry_precision")
    if layer.category_field:
        fields.append(layer.category_field)
    if size_expression(layer):
        fields += [str(layer.size_field), "capacity_unit"]
    return fields


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    opts = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(opts, "Option", name=key, type="QString", value=value)


def _data_defined(parent: ET.Element, properties: dict[str, str]) -> None:
    ddp = ET.SubElement(parent, "data_defined_properties")
    coll = ET.SubElement(ddp, "Option", type="Map")
    ET.SubElement(coll, "Option", name="name", type="QString", value="")
    props = ET.SubElement(coll, "Option", name="properties", type="Map")
    for key, expression in properties.items():
        prop = ET.SubElement(props, "Option", name=key, type="Map")
        ET.SubElement(prop, "Option", name="active", type="bool", value="true")
        ET.SubElement(prop, "Option", name="expression", type="QString", value=expression)
        ET.SubElement(prop, "Option", name="type", type="int", value="3")
    ET.SubElement(coll, "Option", name="type", type="QString", value="collection")


def _symbol(name: str, style: dict[str, Any], layer: Layer) -> ET.Element:
    kind = "line" if layer.is_line else "marker"
    opacity = float(style["opacity"])
    sym = ET.Element("symbol", name=name, type=kind, clip_to_extent="1", force_rhr="0",
                     alpha=f"{opacity:g}" if layer.is_line else "1")
    if layer.is_line:
        sl = ET.SubElement(sym, "layer", {"class": "SimpleLine", "enabled": "1",
                                          "locked": "0", "pass": "0"})
        dash = style.get("dashArray")
        _options(sl, {
            "line_color": rgba(style["color"], 1.0),
            "line_width": f"{style['weight']:g}",
            "line_width_unit": "Pixel",
            "line_style": "solid",
            "use_custom_dash": "1" if dash else "0",
            "customdash": ";".join(str(dash).split()) if dash else "5;2",
            "customdash_unit": "Pixel",
            "capstyle": "flat",
            "joinstyle": "round",
        })
        return sym
    ml = ET.SubElement(sym, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0",
                                      "pass": "0"})
    _options(ml, {
        "name": "circle",
        "color": rgba(style["fillColor"], float(style["fillOpacity"])),
        "outline_color": rgba(style["color"], opacity),
        "outline_style": "dash" if style.get("dashArray") else "solid",
        "outline_width": f"{style['weight']:g}",
        "outline_width_unit": "Pixel",
        "size": f"{2 * float(style['radius']):g}",
        "size_unit": "Pixel",
        "scale_method": "diameter",
        "joinstyle": "round",
    })
    properties = {"fillColor": hollow_expression(layer, style, "fill"),
                  "outlineWidth": hollow_expression(layer, style, "width")}
    size = size_expression(layer)
    if size:
        properties["size"] = size
    _data_defined(ml, properties)
    return sym


def _category_values(layer: Layer) -> list[str]:
    values = list(layer.category_colors)
    if layer.category_field:
        for choice in layer.field(layer.category_field).choices:
            if choice not in values:
                values.append(choice)
    return values


def _record(layer: Layer, status: str, key: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"status": status}
    if layer.category_field and key is not None:
        f = layer.field(layer.category_field)
        record[f.name] = key.split(";") if f.kind.endswith("list") else key
    return record


def layer_qml(layer: Layer) -> str:
    """Return the QGIS QML style of a layer (renderer and symbols), from the registry.

    Parameters
    ----------
    layer
        The registry entry.

    Returns
    -------
    str
        A QML document QGIS loads as the layer's style (``layer_styles.styleQML``).
    """
    root = ET.Element("qgis", version=_QGIS_VERSION, styleCategories="Symbology")
    symbols = ET.Element("symbols")
    expression = category_expression(layer)
    if expression is None:
        renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr="status",
                                 symbollevels="0", enableorderby="0", forceraster="0")
        cats = ET.SubElement(renderer, "categories")
        for i, status in enumerate(STATUSES):
            ET.SubElement(cats, "category", render="true", symbol=str(i), value=status,
                          label=status, type="string")
            symbols.append(_symbol(str(i), feature_style(_record(layer, status, None), layer),
                                   layer))
        renderer.append(symbols)
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="RuleRenderer", symbollevels="0",
                                 enableorderby="0", forceraster="0")
        rules = ET.SubElement(renderer, "rules", key="root")
        n = 0
        for key in [*_category_values(layer), None]:
            label = "other" if key is None else key.replace("_", " ").replace(";", " + ")
            parent = ET.SubElement(rules, "rule", key=f"cat-{n}", label=label,
                                   filter="ELSE" if key is None
                                   else f"{expression} = {_quote(key)}")
            for status in STATUS_STYLE:
                style = feature_style(_record(layer, status, key), layer)
                ET.SubElement(parent, "rule", key=f"rule-{n}", label=status,
                              filter=f'"status" = {_quote(status)}', symbol=str(n))
                symbols.append(_symbol(str(n), style, layer))
                n += 1
        renderer.append(symbols)
    ET.SubElement(root, "layerGeometryType").text = "1" if layer.is_line else "0"
    ET.indent(root, space=" ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode") + "\n"
