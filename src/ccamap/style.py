"""The style of every feature, shared by the HTML maps, the KML export and the QGIS styles.

One definition, read from the layer registry (:data:`ccamap.layers.STATUS_STYLE`, each layer's
colour, category colours and size field): :func:`feature_style` gives the Leaflet path style of a
record; :func:`kml_color` and :func:`rgba` turn its colours into KML's and QGIS's notations.
"""

from __future__ import annotations

import math
from typing import Any

from ccamap.layers import STATUS_STYLE, Layer

__all__ = ["HOLLOW", "category_key", "feature_style", "kml_color", "point_radius", "rgba"]

#: Statuses drawn as hollow points: not (yet) built.
HOLLOW = frozenset({"construction", "pre-construction", "announced"})


def category_key(record: dict[str, Any], layer: Layer) -> str | None:
    """Return the value of the layer's colour category for one record (lists: sorted, ``;``)."""
    if layer.category_field is None:
        return None
    value = record.get(layer.category_field)
    if isinstance(value, list):
        return ";".join(sorted(value))
    return value


def point_radius(record: dict[str, Any], layer: Layer) -> float:
    """Return a point symbol's radius in pixels: area proportional to capacity in MW."""
    if layer.size_field and record.get("capacity_unit") == "MW" and record.get(layer.size_field):
        return round(max(4.0, 0.5 * math.sqrt(float(record[layer.size_field]))), 2)
    return 6.0


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) \
        and value != ""


def feature_style(record: dict[str, Any], layer: Layer) -> dict[str, Any]:
    """Return the Leaflet path style of one record, from the registry's style definitions.

    Lines carry ``haloKm``, their ``route_error_km``, which the map draws as an optional
    uncertainty halo. Points show status by their fill; points placed at a locality (site
    unknown) have a dashed ring and are marked ``locality`` for the KML and QGIS styles.
    """
    status = STATUS_STYLE.get(record.get("status") or "", STATUS_STYLE["announced"])
    key = category_key(record, layer)
    color = layer.category_colors.get(key or "", layer.color)
    if status["color"]:
        color = str(status["color"])
    style: dict[str, Any] = {"color": color, "opacity": status["opacity"]}
    if status["dash"]:
        style["dashArray"] = status["dash"]
    if layer.is_line:
        style["weight"] = 4
        if _present(record.get("route_error_km")):  # the uncertainty halo's half-width
            style["haloKm"] = float(record["route_error_km"])
    else:
        # Status as fill: solid when operating, hollow (a white centre in a thick ring) while
        # planned or being built, grey when shelved, cancelled, mothballed or retired.
        style.update(radius=point_radius(record, layer), weight=1.5, fillColor=color,
                     fillOpacity=0.9, opacity=1)
        style.pop("dashArray", None)
        if record.get("status") in HOLLOW:
            style.update(fillColor="#ffffff", weight=3)
        if record.get("geometry_precision") == "locality":
            # Site unknown, placed at the nearest named place: a dashed ring on the map (the
            # fill already tells status); KML and QGIS, which draw no status fill, show it
            # hollow (see ``ccamap.export`` and ``ccamap.qgis_style``).
            style.update(dashArray="2 2", weight=max(float(style["weight"]), 2.5),
                         locality=True)
    return style


def kml_color(hex_color: str, opacity: float) -> str:
    """Return ``#rrggbb`` and an opacity as KML's ``aabbggrr``."""
    r, g, b = hex_color[1:3], hex_color[3:5], hex_color[5:7]
    return f"{round(255 * opacity):02x}{b}{g}{r}"


def rgba(hex_color: str, opacity: float) -> str:
    """Return ``#rrggbb`` and an opacity as QGIS's ``r,g,b,a``."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(255 * opacity)}"
