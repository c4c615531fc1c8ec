"""Rendering joined layers as Folium maps: styled layers, cards, legend, deterministic ids."""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import json
import math
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import branca.element
import folium
import geopandas as gpd
import pandas as pd
import pycountry
import shapely
from branca.element import MacroElement
from jinja2 import Template

from ccamap.claims import Claim, claim_text, claims_of
from ccamap.layers import LAYERS, STATUS_STYLE, STATUSES, Layer
from ccamap.validate import parse_field_sources

__all__ = [
    "card_html",
    "country_names",
    "deterministic_ids",
    "escape",
    "feature_style",
    "first_year",
    "layer_geojson",
    "leaflet_assets",
    "outlines_for_display",
    "outlines_frame",
    "render_map",
    "render_table",
    "unsafe_elements",
]

#: Fields the card shows in its header and key-figure rows rather than in the table.
_CARD_SKIP = {"id", "name", "name_zh", "name_ru", "status", "status_year", "countries",
              "sources", "field_sources", "description", "layer", "geometry",
              "coordinate_sources", "editor_notes"}
_MISSING = "not reported"


def escape(value: object) -> str:
    """Escape text for HTML, and for JavaScript template literals it may pass through.

    ``html.escape`` covers ``& < > " '``; backticks, ``$`` and backslashes are also encoded so a
    value cannot close a template literal or start a ``${…}`` substitution.
    """
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


@contextlib.contextmanager
def deterministic_ids(prefix: str = "ccamap") -> Iterator[None]:
    """Give every Folium/branca element created inside the block a counter-based id.

    Folium names elements with random hex ids, so two builds of the same data differ; inside this
    block they are numbered in creation order and the HTML is reproducible.
    """
    counter = itertools.count(1)
    element = branca.element.Element
    original = element.__dict__["_generate_id"]
    element._generate_id = classmethod(  # type: ignore[method-assign,assignment]
        lambda cls: f"{prefix}{next(counter):05d}"
    )
    try:
        yield
    finally:
        element._generate_id = original  # type: ignore[method-assign]


def _fmt(value: Any, *, integer: bool = False) -> str:
    """Format a value for display; ``integer`` values (years) have no thousands separator."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if integer:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,}"
    return str(value)


def _countries_text(codes: list[str] | None) -> str:
    names = country_names(set(codes or []))
    return " → ".join(f"{names[c]} ({c})" for c in codes or [])


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def card_html(record: dict[str, Any], layer: Layer, sources: pd.DataFrame) -> str:
    """Return the popup card of one feature: every attribute, escaped, with numbered sources.

    Parameters
    ----------
    record
        One row of a joined layer, as a dict.
    layer
        Its layer.
    sources
        The sources table, indexed by id.
    """
    cited: list[str] = list(record.get("sources") or [])
    coord_sources = [str(s).split(":", 1)[0] for s in record.get("coordinate_sources") or []]
    claims: dict[str, list[Claim]] = {}
    for claim in claims_of(sources).for_feature(layer.name, record.get("id")):
        claims.setdefault(claim.field, []).append(claim)
    for sid in [*coord_sources, *(c.source for cs in claims.values() for c in cs)]:
        if sid not in cited:
            cited.append(sid)
    number = {sid: i for i, sid in enumerate(cited, start=1)}
    backed, _ = parse_field_sources(record.get("field_sources"))
    precision_text = {
        "exact": "the site or track itself",
        "approximate": "within about 5 km",
        "schematic": "a line through named waypoints",
        "locality": "placed at the nearest named place; the site is unknown",
    }

    def sup(sids: list[str]) -> str:
        nums = sorted({number[s] for s in sids if s in number})
        return "".join(f'<sup class="ccamap-ref">[{n}]</sup>' for n in nums)

    def refs(field_name: str) -> str:
        return sup(backed.get(field_name, []))

    def also(*field_names: str) -> str:
        """Return the other values sources give for these fields, a line per value and year."""
        lines: dict[tuple[str, int | None], list[Claim]] = {}
        for name in field_names:
            for claim in claims.get(name, []):
                lines.setdefault((claim_text(claim, record), claim.as_of), []).append(claim)
        out = []
        for (text, year), same in lines.items():
            when = f" ({year})" if year is not None else ""
            notes = "; ".join(dict.fromkeys(c.note for c in same if c.note))
            out.append(f'<div class="ccamap-claim">also reported: {escape(text)} '
                       f"{sup([c.source for c in same])}{when}"
                       + (f' <span class="ccamap-claim-note">— {escape(notes)}</span>'
                          if notes else "") + "</div>")
        return "".join(out)

    names = " · ".join(escape(record.get(k)) for k in ("name_zh", "name_ru") if record.get(k))
    status = escape(str(record.get("status") or "").capitalize())
    if record.get("status_year"):
        status += (' <span class="ccamap-status-year">(status as of '
                   f"{escape(_fmt(record['status_year'], integer=True))})</span>")
    rows = []
    missing: list[str] = []  # titles of unknown fields: one "not reported: …" line
    for f in layer.all_fields:
        if f.name in _CARD_SKIP:
            continue
        value = _fmt(record.get(f.name), integer=f.kind == "int")
        if not value and f.name != "capacity_unit" and not claims.get(f.name):
            missing.append(f.title)
            continue
        # a field no kept value fills, but that sources dispute, keeps its row for the claims
        shown = escape(value) if value else f'<span class="ccamap-missing">{_MISSING}</span>'
        if f.name == "capacity_unit":
            continue
        if f.name == "capacity" and value and record.get("capacity_unit"):
            shown += " " + escape(record["capacity_unit"])
        if f.name == "route_error_km" and value:
            shown = f"drawing within ~{escape(value)} km of the real route"
        if f.name == "geometry_precision" and value in precision_text:
            shown += f' <span class="ccamap-hint">({escape(precision_text[value])})</span>'
        rows.append(f"<tr><th>{escape(f.title)}</th><td>{shown}{refs(f.name)}"
                    f"{also(f.name)}</td></tr>")
    internal = {*layer.columns, "waypoints", "coordinate_sources", "layer", "length_km"}
    for key in (k for k in record if k not in internal and k != "geometry"):
        value = _fmt(record.get(key))
        if not value:
            missing.append(key)
            continue
        rows.append(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>")
    if "length_km" in record and record["length_km"] is not None:
        rows.append(f"<tr><th>Drawn length (geodesic)</th><td>{escape(_fmt(record['length_km']))}"
                    " km</td></tr>")
    if record.get("waypoints"):
        rows.append(f"<tr><th>Waypoints</th><td>{escape(_fmt(record['waypoints']))}</td></tr>")
    items = []
    for sid in cited:
        if sid in sources.index:
            src = sources.loc[sid]
            title = escape(src["title"])
            meta = ", ".join(escape(src[k]) for k in ("publisher", "date") if src[k])
            url = _safe_url(str(src["url"]))
            link = f'<a href="{escape(url)}" target="_blank" rel="noopener">{title}</a>' if url \
                else title
            items.append(f"<li>{link}{' — ' + meta if meta else ''}</li>")
        else:
            items.append(f"<li>{escape(sid)} (unknown source)</li>")
    return (
        f'<div class="ccamap-card" data-id="{escape(record.get("id"))}">'
        f"<h4>{escape(record.get('name'))}</h4>"
        + (f'<div class="ccamap-names">{names}</div>' if names else "")
        + f'<div class="ccamap-status ccamap-status-{escape(record.get("status"))}">'
        f"{status}{refs('status')}{also('status', 'status_year')}</div>"
        f'<div class="ccamap-countries">{escape(_countries_text(record.get("countries")))}</div>'
        f'<p class="ccamap-description">{escape(record.get("description"))}</p>'
        f'<table class="ccamap-attrs">{"".join(rows)}</table>'
        + (f'<p class="ccamap-missing">{_MISSING}: {escape(", ".join(missing))}</p>'
           if missing else "")
        +
        f'<div class="ccamap-sources"><b>Sources</b><ol>{"".join(items)}</ol></div>'
        f'<div class="ccamap-id">{escape(layer.name)} / {escape(record.get("id"))}</div>'
        "</div>"
    )


def category_key(record: dict[str, Any], layer: Layer) -> str | None:
    """Return the value of the layer's colour category for one record."""
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
        halo = _fmt(record.get("route_error_km"))  # the uncertainty halo's half-width
        if halo:
            style["haloKm"] = float(record["route_error_km"])
    else:
        # Status as fill: solid when operating, hollow (a white centre in a thick ring) while
        # planned or being built, grey when shelved, cancelled, mothballed or retired.
        style.update(radius=point_radius(record, layer), weight=1.5, fillColor=color,
                     fillOpacity=0.9, opacity=1)
        style.pop("dashArray", None)
        if record.get("status") in _HOLLOW:
            style.update(fillColor="#ffffff", weight=3)
        if record.get("geometry_precision") == "locality":
            # Site unknown, placed at the nearest named place: a dashed ring on the map (the
            # fill already tells status); KML and QGIS, which draw no status fill, show it
            # hollow (see ``ccamap.export`` and ``ccamap.qgis_style``).
            style.update(dashArray="2 2", weight=max(float(style["weight"]), 2.5),
                         locality=True)
    return style


#: Statuses drawn as hollow points: not (yet) built.
_HOLLOW = frozenset({"construction", "pre-construction", "announced"})


def _asset(name: str) -> str:
    return resources.files("ccamap").joinpath("assets", name).read_text(encoding="utf-8")


#: Leaflet as folium references it online (the same version XStatic-Leaflet ships offline).
_LEAFLET_CDN = {
    "js": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
    "css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
}


def leaflet_assets(*, offline: bool) -> tuple[str, str]:
    """Return the ``<script>`` and ``<style>``/``<link>`` tags that load Leaflet.

    Offline, Leaflet's JavaScript and CSS are read from the installed ``xstatic-leaflet``
    package and inlined, with the CSS images as data URIs, so the page needs no network.
    """
    if not offline:
        return (f'<script src="{_LEAFLET_CDN["js"]}"></script>',
                f'<link rel="stylesheet" href="{_LEAFLET_CDN["css"]}"/>')
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js).replace("</script", "<\\/script")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = base / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    return f"<script>{js}</script>", f"<style>{css}</style>"


class _Raw(branca.element.Element):
    """Literal HTML in the page (already escaped or our own), with no template to compile."""

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.html_text = html_text

    def render(self, **kwargs: Any) -> str:
        """Return the HTML as given."""
        return self.html_text


class _SafeMacro(MacroElement):
    """A MacroElement whose rendered macros are inserted as text, never compiled again.

    branca's ``MacroElement.render`` wraps the *output* of each macro (``header``, ``html``,
    ``script``) in a new ``Element``, whose constructor compiles that output as a Jinja
    template: any ``{{ … }}``, ``{% … %}`` or ``{# … #}`` in the data a macro serialised would run
    as template code (or vanish, or crash the build). This class renders the macros once, with
    the data as values, and adds the result as literal text. Every element of a ccamap map
    derives from it (it sits just above ``MacroElement`` in each class's MRO, so folium's own
    ``render`` methods still run first).
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render the macros to literal text in the figure, then the children."""
        figure = self.get_root()
        if not isinstance(figure, branca.element.Figure):
            msg = f"expected {type(self).__name__} to be inside a Figure, found no Figure"
            raise TypeError(msg)
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Raw(str(macro(self, kwargs))),
                                                name=self.get_name())
        for element in self._children.values():
            if _plain_macro(element):
                # A helper folium adds while rendering (e.g. ``ElementAddToElement``): it has
                # no render of its own, so render its macros the safe way too.
                _SafeMacro.render(element, **kwargs)  # type: ignore[arg-type]
            else:
                element.render(**kwargs)


def _plain_macro(element: branca.element.Element) -> bool:
    """Whether ``element`` is a MacroElement that uses branca's unsafe ``render`` as it is."""
    return (isinstance(element, MacroElement) and not isinstance(element, _SafeMacro)
            and type(element).render is MacroElement.render)


class _Map(folium.Map, _SafeMacro):
    """folium's Map, rendered without re-compiling its output, and with page zoom allowed.

    folium's header forbids pinch-zoom (``maximum-scale=1.0, user-scalable=no``), which fails
    WCAG 1.4.4; the map's own two-finger zoom is Leaflet's and stays on.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render as :class:`_SafeMacro`, then let the reader zoom the page."""
        _SafeMacro.render(self, **kwargs)
        figure = self.get_root()
        header = getattr(figure, "header", None)
        raw = header._children.get(self.get_name()) if header is not None else None
        if isinstance(raw, _Raw):
            raw.html_text = re.sub(r'<meta name="viewport"[^>]*>', _VIEWPORT, raw.html_text)


_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1"/>'

#: The page around the map: branca's Figure template with the document language set.
_FIGURE_TEMPLATE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="en">\n'
    "<head>\n"
    "    {{this.header.render(**kwargs)}}\n"
    "</head>\n"
    '<body class="ccamap-page">\n'
    "    {{this.html.render(**kwargs)}}\n"
    "</body>\n"
    "<script>\n"
    "    {{this.script.render(**kwargs)}}\n"
    "</script>\n"
    "</html>\n",
)


class _TileLayer(folium.TileLayer, _SafeMacro):
    """folium's TileLayer, rendered without re-compiling its output."""


class _LayerControl(folium.LayerControl, _SafeMacro):
    """folium's LayerControl, rendered without re-compiling its output."""


class _FitBounds(folium.map.FitBounds, _SafeMacro):
    """folium's FitBounds, rendered without re-compiling its output."""


def unsafe_elements(m: folium.Map) -> list[str]:
    """Return the names of elements of ``m`` whose output branca would compile as a template.

    Every ``MacroElement`` in a ccamap map must be a :class:`_SafeMacro`, or a plain helper
    that a :class:`_SafeMacro` parent renders safely; the tests use this (after rendering, when
    folium has added its helpers) to make sure no element slips through.
    """
    found: list[str] = []

    def walk(element: branca.element.Element) -> None:
        if (isinstance(element, MacroElement) and not isinstance(element, _SafeMacro)
                and not (_plain_macro(element) and isinstance(element._parent, _SafeMacro))):
            found.append(f"{type(element).__name__} {element.get_name()}")
        for child in element._children.values():
            walk(child)

    walk(m)
    return found


class _DataLayer(folium.map.Layer, _SafeMacro):
    """One ccamap layer: a GeoJSON layer drawn by the ccamap runtime (``assets/ccamap.js``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = ccamap.addLayer({{ this._parent.get_name() }},
            {{ this.key|tojson }}, {{ this.data|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, title: str, data: dict[str, Any], *, show: bool = True) -> None:
        super().__init__(name=escape(title), overlay=True, control=True, show=show)
        self._name = "CcamapLayer"
        self.key = key
        self.data = data


class _Outlines(folium.map.Layer, _SafeMacro):
    """The offline vector basemap: country outlines from Natural Earth."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = ccamap.addOutlines({{ this._parent.get_name() }},
            {{ this.data|tojson }}, {{ this.extra|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        super().__init__(name="Country outlines (offline)", overlay=False, control=True,
                         show=True)
        self._name = "CcamapOutlines"
        self.data = data
        self.extra = extra or {}


class _Runtime(_SafeMacro):
    """Configures the runtime and adds the filter panel and controls (added last)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        ccamap.configure({{ this.config|tojson }});
        ccamap.addControls({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "CcamapRuntime"
        self.config = config


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
    """Return a JSON value for the in-page downloads (numbers stay numbers, lists stay lists)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def km_by_country(geometry: Any, countries: gpd.GeoDataFrame | None) -> dict[str, float]:
    """Return the geodesic length in km of a line inside each country outline it crosses."""
    if countries is None or geometry is None or "Line" not in geometry.geom_type:
        return {}
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    out = {}
    for code, outline in zip(countries["iso3"], countries.geometry, strict=True):
        if not outline.intersects(geometry):
            continue
        km = geod.geometry_length(outline.intersection(geometry)) / 1000
        if km >= 0.5:
            out[str(code)] = round(km, 1)
    return out


def layer_geojson(gdf: gpd.GeoDataFrame, layer: Layer, sources: pd.DataFrame, *,
                  countries: gpd.GeoDataFrame | None = None) -> dict[str, Any]:
    """Return a layer as the GeoJSON the map runtime draws: styles, tooltip and card per feature.

    Each feature also carries its attributes (``_data``, for "download what I see") and, with
    ``countries`` (outlines with an ``iso3`` column), the km of a line in each country (``_km``,
    for the statistics strip).
    """
    features: list[dict[str, Any]] = []
    geometries = list(gdf.geometry)
    for record in gdf.drop(columns="geometry").to_dict("records"):
        record = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                  for k, v in record.items()}
        props = {k: record.get(k) for k in ("id", "name", "name_zh", "name_ru", "status",
                                              "status_year", "start_year", "completion_year",
                                              "countries")}
        props["layer"] = layer.name
        props["_first_year"] = first_year(record)
        props["_style"] = feature_style(record, layer)
        props["_tooltip"] = escape(record.get("name"))
        props["_card"] = card_html(record, layer, sources)
        props["_category"] = category_key(record, layer)
        props["_data"] = {k: _plain(v) for k, v in record.items()
                          if k not in ("layer", "coordinate_sources")}
        if layer.is_line:
            props["_km"] = km_by_country(geometries[len(features)], countries)
        features.append(props)
    geoms = json.loads(gdf.geometry.to_json(drop_id=True))["features"]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": p, "geometry": g["geometry"]}
            for p, g in zip(features, geoms, strict=True)
        ],
    }


def _legend_html(layers: dict[str, gpd.GeoDataFrame]) -> str:
    parts = ['<details class="ccamap-legend" open><summary data-i18n="legend">Legend</summary>']
    statuses_used: set[str] = set()
    for name, gdf in layers.items():
        layer = LAYERS[name]
        parts.append(f'<div class="ccamap-legend-layer"><i data-layer="{escape(name)}">'
                     f"{escape(layer.title)}</i>")
        records = gdf.drop(columns="geometry").to_dict("records")
        statuses_used.update(r["status"] for r in records if r.get("status"))
        keys = sorted({k for r in records if (k := category_key(r, layer))})
        swatches = [(k, layer.category_colors.get(k, layer.color)) for k in keys] or [
            ("", layer.color)]
        for label, color in swatches:
            shape = "line" if layer.is_line else "dot"
            text = escape(label.replace("_", " ").replace(";", " + ")) if label else ""
            parts.append(f'<div><span class="ccamap-sw ccamap-sw-{shape}" aria-hidden="true" '
                         f'style="background:{escape(color)}"></span> {text}</div>')
        sized = [float(r["capacity"]) for r in records
                 if layer.size_field and r.get("capacity_unit") == "MW" and r.get("capacity")]
        if sized:
            parts.append('<div class="ccamap-legend-note">symbol area ∝ capacity:</div><div>')
            for mw in _size_steps(max(sized)):
                radius = point_radius({"capacity": mw, "capacity_unit": "MW"}, layer)
                parts.append(f'<svg width="{2 * radius + 2:g}" height="{2 * radius + 2:g}">'
                             f'<circle cx="{radius + 1:g}" cy="{radius + 1:g}" r="{radius:g}" '
                             'fill="none" stroke="#555"/></svg> '
                             f'<span class="ccamap-legend-note">{mw:,.0f} MW</span> ')
            parts.append("</div>")
        parts.append("</div>")
    lines = any(LAYERS[n].is_line for n in layers)
    points = any(not LAYERS[n].is_line for n in layers)
    parts.append('<div class="ccamap-legend-layer"><i data-i18n="status">Status</i>')
    for status in (s for s in STATUS_STYLE if s in statuses_used):
        style = STATUS_STYLE[status]
        dash = f"stroke-dasharray:{style['dash']}" if style["dash"] else ""
        color = str(style["color"] or "#333")
        dot = feature_style({"status": status}, LAYERS["power_plants"])
        sample = ""
        if lines:
            sample += (f'<svg width="34" height="10" aria-hidden="true"><line x1="0" y1="5" '
                       f'x2="34" y2="5" stroke="{escape(color)}" stroke-width="3" '
                       f'style="{escape(dash)}" opacity="{style["opacity"]}"/></svg>')
        if points:
            sample += (f'<svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" '
                       f'r="5" stroke="{escape(color)}" stroke-width="{dot["weight"]:g}" '
                       f'fill="{escape(dot["fillColor"] if status in _HOLLOW else color)}"/>'
                       "</svg>")
        parts.append(f'<div>{sample} <span data-status="{escape(status)}">{escape(status)}'
                     "</span></div>")
    parts.append("</div>")
    if any(not LAYERS[name].is_line and "geometry_precision" in gdf
           and bool((gdf["geometry_precision"] == "locality").any())
           for name, gdf in layers.items()):
        parts.append('<div class="ccamap-legend-layer"><svg width="14" height="14" '
                     'aria-hidden="true"><circle cx="7" cy="7" r="5" stroke="#333" '
                     'stroke-width="2.5" stroke-dasharray="2 2" fill="#ffffff"/></svg> '
                     '<span data-i18n="locality">dashed ring: placed at the nearest named '
                     "place (the site itself is unknown)</span></div>")
    parts.append("</details>")
    return "".join(parts)


def _size_steps(largest: float) -> list[float]:
    steps: list[float] = [s for s in (10.0, 50.0, 100.0, 500.0, 1000.0) if s <= largest]
    return steps[-3:] or [largest]


def country_names(codes: set[str]) -> dict[str, str]:
    """Map ISO 3166-1 alpha-3 codes to country names, sorted by name."""
    names = {}
    for code in codes:
        country = pycountry.countries.get(alpha_3=code)
        names[code] = getattr(country, "common_name", None) or (country.name if country else code)
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


def _country_names_i18n(codes: set[str]) -> dict[str, dict[str, str]]:
    """Country names in Chinese and Russian (pycountry's translations), by alpha-3 code."""
    import gettext

    out: dict[str, dict[str, str]] = {"zh": {}, "ru": {}}
    for lang, locale in (("zh", "zh_CN"), ("ru", "ru")):
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale],
                                 fallback=True)
        for code in codes:
            country = pycountry.countries.get(alpha_3=code)
            out[lang][code] = tr.gettext(country.name) if country else code
    return out


def _data_date(sources: pd.DataFrame) -> str:
    """Return the newest source's date (``YYYY-MM``): the data cut-off shown in the header."""
    dates = sorted(str(d) for d in sources.get("date", pd.Series(dtype=str)) if d and str(d)[:1]
                   .isdigit())
    return dates[-1][:7] if dates else ""


def _sources_config(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame
                    ) -> dict[str, list[str]]:
    """Return the cited sources by id: ``[title, publisher, date, url]`` (http(s) only)."""
    cited = {sid for gdf in layers.values() for ids in gdf.get("sources", []) for sid in
             (ids or [])}
    out = {}
    for sid in sorted(cited):
        if sid in sources.index:
            src = sources.loc[sid]
            out[sid] = [str(src.get("title") or ""), str(src.get("publisher") or ""),
                        str(src.get("date") or ""), _safe_url(str(src.get("url") or "")) or ""]
    return out


def _runtime_config(layers: dict[str, gpd.GeoDataFrame], sources: pd.DataFrame | None = None
                    ) -> dict[str, Any]:
    records = [r for gdf in layers.values() for r in gdf.drop(columns="geometry")
               .to_dict("records")]
    codes = {c for r in records for c in (r.get("countries") or [])}
    statuses = [s for s in STATUSES if any(r.get("status") == s for r in records)]
    years = [y for r in records if (y := first_year(r)) is not None]
    last = max([*years, *(int(r["status_year"]) for r in records if r.get("status_year"))],
               default=None)
    return {
        "countries": country_names(codes),
        "countriesI18n": _country_names_i18n(codes),
        "statuses": statuses,
        "years": [min(years), last] if years else [None, None],
        "layers": {name: LAYERS[name].title for name in layers},
        "sources": _sources_config(layers, sources) if sources is not None else {},
    }


#: The scope and provenance a reader sees under "About", in the three interface languages.
_ABOUT = {
    "en": ("This map shows the railways, pipelines, highways, power plants and energy sites, "
           "border ports and other sites that China and the five Central Asian states "
           "(Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan, Uzbekistan) build or run "
           "together. The inventory starts from four documents of Chinese state media and "
           "institutes (below) and adds the public pages that confirm, date or locate each "
           "fact; it is not a complete register. Every value cites its sources; a value no "
           "source gives is shown as not reported. Geometry is exact, approximate (within "
           "about 5 km) or schematic (a line through named places)."),
    "zh": ("本图展示中国与中亚五国（哈萨克斯坦、吉尔吉斯斯坦、塔吉克斯坦、土库曼斯坦、"
           "乌兹别克斯坦）共同建设或运营的铁路、管道、公路、电站与能源设施、边境口岸及其他合作"
           "项目。清单以中国官方媒体和研究机构的四份文件为起点（见下），并补充证实、标注年代或"
           "定位每一事实的公开网页；"
           "并非完整名录。每个数值都注明来源；没有来源的数值标为“未报告”。几何位置分为精确、"
           "近似（约5公里内）和示意（经过命名地点的线）。"),
    "ru": ("Карта показывает железные дороги, трубопроводы, автодороги, электростанции и "
           "энергетические объекты, пограничные переходы и другие объекты, которые Китай и пять "
           "государств Центральной Азии (Казахстан, Кыргызстан, Таджикистан, Туркменистан, "
           "Узбекистан) строят или эксплуатируют вместе. Перечень начинается с четырёх "
           "документов китайских государственных СМИ и институтов (ниже) и дополнен "
           "открытыми страницами, которые подтверждают, датируют или локализуют каждый факт; "
           "это не полный реестр. У каждого значения указаны источники; значение без "
           "источника помечено как «нет данных». Геометрия точная, приблизительная (в "
           "пределах ~5 км) или схематичная (линия через названные пункты)."),
}


def _chrome_html(title: str, sources: pd.DataFrame, *, site: bool) -> str:
    """Return the page around the map: skip link, header bar, card panel, dialogs and stats strip.

    Every string is our own text or escaped data; the runtime (``ccamap.js``) translates the
    elements marked ``data-i18n`` and fills the panels with text nodes.
    """
    date = _data_date(sources)
    seeds = sources[sources["kind"] == "seed"] if "kind" in sources else sources.iloc[0:0]
    seed_items = "".join(
        f"<li>{escape(r['title'])} — {escape(r['publisher'])}, {escape(r['date'])}</li>"
        for _, r in seeds.iterrows())
    about = "".join(f'<p lang="{k}" class="ccamap-about-{k}"{"" if k == "en" else " hidden"}>'
                    f"{escape(v)}</p>" for k, v in _ABOUT.items())
    cite = (f"ccamap contributors ({date[:4] or '2026'}). ccamap: an open map of China–Central "
            f"Asia cooperation infrastructure, version 0.1.0, data as of {date or 'n.d.'}. "
            "Code MIT, data CC BY 4.0.")
    links = ('<a class="ccamap-navlink" href="table.html" data-i18n="table">Table</a>'
             if site else "")
    exports = "".join(
        f'<a href="export/{escape(name)}.geojson" download>{escape(layer.title)} (GeoJSON)</a>'
        for name, layer in LAYERS.items()) if site else ""
    return (
        '<a class="ccamap-skip" href="#ccamap-search" data-i18n="skip">Skip to search</a>'
        '<header class="ccamap-header">'
        f'<h1 class="ccamap-title"><span class="ccamap-title-long">{escape(title)}</span>'
        '<span class="ccamap-title-short">ccamap</span></h1>'
        f'<span class="ccamap-date"><span data-i18n="asof">data as of</span> {escape(date)}'
        "</span>"
        '<div class="ccamap-searchbox" role="search">'
        '<input id="ccamap-search" class="ccamap-search" type="search" autocomplete="off" '
        'role="combobox" aria-expanded="false" aria-controls="ccamap-results" '
        'aria-autocomplete="list" placeholder="Search: English, 中文, русский" '
        'aria-label="Search features by name">'
        '<ul id="ccamap-results" class="ccamap-results" role="listbox" '
        'aria-label="Search results" hidden></ul></div>'
        '<button type="button" class="ccamap-menu-button" aria-expanded="false" '
        'aria-controls="ccamap-nav" data-i18n="menu">Menu</button>'
        '<nav id="ccamap-nav" class="ccamap-nav" aria-label="About the map">'
        '<button type="button" data-dialog="ccamap-about" data-i18n="about">About</button>'
        '<button type="button" data-dialog="ccamap-cite" data-i18n="cite">Cite</button>'
        '<button type="button" data-dialog="ccamap-licence" data-i18n="licence">Licence</button>'
        f"{links}"
        '<details class="ccamap-downloads"><summary data-i18n="download">Download</summary>'
        '<div class="ccamap-downloads-menu">'
        '<button type="button" class="ccamap-dl" data-format="geojson" data-i18n="dlgeojson">'
        "What I see (GeoJSON)</button>"
        '<button type="button" class="ccamap-dl" data-format="csv" data-i18n="dlcsv">'
        "What I see (CSV)</button>"
        f"{exports}</div></details>"
        '<label class="ccamap-lang"><span class="ccamap-sr" data-i18n="language">Language'
        '</span><select id="ccamap-lang"><option value="en">English</option>'
        '<option value="zh" lang="zh">中文</option><option value="ru" lang="ru">Русский</option>'
        "</select></label></nav></header>"
        '<aside id="ccamap-side" class="ccamap-side" aria-labelledby="ccamap-side-title" hidden>'
        '<div class="ccamap-side-bar"><h2 id="ccamap-side-title" class="ccamap-sr" '
        'data-i18n="details">Feature details</h2>'
        '<button type="button" class="ccamap-expand" aria-expanded="false" data-i18n="more">'
        "More</button>"
        '<button type="button" class="ccamap-close" aria-label="Close the card">×</button>'
        '</div><div id="ccamap-card" class="ccamap-card-body"></div></aside>'
        '<div id="ccamap-stats" class="ccamap-stats" aria-live="polite"></div>'
        '<dialog id="ccamap-about" class="ccamap-dialog" aria-labelledby="ccamap-about-h">'
        '<h2 id="ccamap-about-h" data-i18n="about">About</h2>'
        f"{about}"
        f'<p><b data-i18n="cutoff">Data cut-off</b>: {escape(date)}</p>'
        f'<p><b data-i18n="seeds">Seed documents</b></p><ol>{seed_items}</ol>'
        '<p data-i18n="contribute">To report an error or propose a source, see CONTRIBUTING.md '
        "in the repository.</p>"
        '<form method="dialog"><button data-i18n="close">Close</button></form></dialog>'
        '<dialog id="ccamap-cite" class="ccamap-dialog" aria-labelledby="ccamap-cite-h">'
        '<h2 id="ccamap-cite-h" data-i18n="cite">Cite</h2>'
        f'<p class="ccamap-citation">{escape(cite)}</p>'
        '<p data-i18n="citecff">The repository\'s CITATION.cff has the same in machine-readable '
        "form.</p>"
        '<form method="dialog"><button data-i18n="close">Close</button></form></dialog>'
        '<dialog id="ccamap-licence" class="ccamap-dialog" aria-labelledby="ccamap-licence-h">'
        '<h2 id="ccamap-licence-h" data-i18n="licence">Licence</h2><ul>'
        "<li>Data: CC BY 4.0, ccamap contributors; facts © the cited sources.</li>"
        "<li>Country outlines, lakes: Natural Earth (public domain).</li>"
        "<li>Place names: GeoNames (CC BY 4.0).</li>"
        "<li>Code: MIT.</li>"
        "<li>Online tiles, when chosen: © OpenStreetMap contributors, © CARTO.</li></ul>"
        '<form method="dialog"><button data-i18n="close">Close</button></form></dialog>'
    )


def render_map(
    layers: dict[str, gpd.GeoDataFrame],
    sources: pd.DataFrame,
    *,
    title: str = "ccamap",
    offline: bool = True,
    cdn: bool = False,
    outlines: dict[str, Any] | None = None,
    basemap: dict[str, Any] | None = None,
    prepared: dict[str, dict[str, Any]] | None = None,
    site: bool = False,
) -> folium.Map:
    """Return a Folium map of the given joined layers.

    Parameters
    ----------
    layers
        Joined GeoDataFrames by layer name (from :func:`ccamap.join.join_layer`).
    sources
        The sources table, indexed by id.
    title
        The page title.
    offline
        Inline Leaflet and every other asset (the default): the page needs no network.
    cdn
        Link Leaflet from its CDN instead (a smaller page that needs the network).
    outlines
        A GeoJSON FeatureCollection of country outlines for the vector basemap (see
        :func:`outlines_for_display`); without it, only online tile layers are offered.
    basemap
        Place names and water for the offline basemap: ``{"water": FeatureCollection}``;
        towns (GeoNames) and country labels are added whenever ``outlines`` are given.
    prepared
        :func:`layer_geojson` of some layers, already computed (a build draws each layer on two
        maps and prepares it once).
    site
        The page is part of a built site: link the table and the per-layer exports.

    Returns
    -------
    folium.Map
        With one toggleable layer per entry, a legend, tooltips, cards in a side panel, filters
        by status, country and year, search, scale bar, full screen, mini-map and measuring.
    """
    m = _Map(location=None, zoom_start=4, tiles=None, control_scale=True)
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    assert isinstance(root, branca.element.Figure)
    root._template = _FIGURE_TEMPLATE
    js, css = leaflet_assets(offline=offline and not cdn)
    root.header.add_child(_Raw(f"<title>{escape(title)}</title>"), name="title")
    root.header.add_child(_Raw(css), name="leaflet_css")
    root.header.add_child(_Raw(js), name="leaflet_js")
    root.header.add_child(_Raw(f"<style>{_asset('ccamap.css')}</style>"), name="ccamap_css")
    root.header.add_child(_Raw(f"<script>{_asset('ccamap.js')}</script>"), name="ccamap_js")
    root.html.add_child(_Raw(_chrome_html(title, sources, site=site)), name="ccamap_chrome")
    if outlines is not None:
        from ccamap.basemap import country_labels, places_for_display

        extra = dict(basemap or {})
        extra.update(places=places_for_display(), countries=country_labels(outlines))
        _Outlines(outlines, extra).add_to(m)
    _TileLayer("OpenStreetMap", name="OpenStreetMap (online)", control=True,
                     show=outlines is None).add_to(m)
    _TileLayer(
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        attr="&copy; OpenStreetMap contributors &copy; CARTO", name="CARTO Light (online)",
        control=True, show=False, subdomains="abcd",
    ).add_to(m)
    bounds: list[float] | None = None
    countries = outlines_frame(outlines)
    for name, gdf in layers.items():
        layer = LAYERS[name]
        data = (prepared or {}).get(name) or layer_geojson(gdf, layer, sources,
                                                           countries=countries)
        _DataLayer(name, layer.title, data).add_to(m)
        if len(gdf):
            b = [float(v) for v in gdf.total_bounds]
            bounds = b if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]),
                                               max(bounds[2], b[2]), max(bounds[3], b[3])]
    root.html.add_child(_Raw(_legend_html(layers)), name="ccamap_legend")
    _LayerControl(collapsed=True).add_to(m)
    if bounds is not None:
        fit = _FitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
        fit.options["animate"] = False  # done before a link's view or card is restored
        m.add_child(fit)
    _Runtime(_runtime_config(layers, sources)).add_to(m)
    return m


def outlines_for_display(boundaries: gpd.GeoDataFrame, tolerance: float = 0.05) -> dict[str, Any]:
    """Simplify country outlines for the basemap (shared borders stay shared)."""
    geoms = shapely.coverage_simplify(boundaries.geometry.values, tolerance)
    geoms = shapely.set_precision(geoms, tolerance / 5)
    out = gpd.GeoDataFrame({"iso3": boundaries["iso3"].to_numpy()}, geometry=geoms,
                           crs="EPSG:4326")
    out = out[~out.geometry.is_empty]
    return json.loads(out.to_json(drop_id=True))


def outlines_frame(outlines: dict[str, Any] | None) -> gpd.GeoDataFrame | None:
    """Return the basemap's outlines as a GeoDataFrame (``iso3``, geometry), for km per country."""
    if not outlines or not outlines.get("features"):
        return None
    return gpd.GeoDataFrame.from_features(outlines["features"], crs="EPSG:4326")


_TABLE_COLUMNS = (
    ("layer", "Layer"), ("name", "Name"), ("name_zh", "中文"), ("name_ru", "Русский"),
    ("countries", "Countries"), ("status", "Status"), ("status_year", "Status year"),
    ("start_year", "Start"), ("completion_year", "Completion"), ("capacity", "Capacity"),
    ("length_km", "Length (km, drawn)"), ("geometry_precision", "Precision"),
    ("sources", "Sources"),
)


def render_table(layers: dict[str, gpd.GeoDataFrame], *, map_page: str = "index.html") -> str:
    """Return ``table.html``: every feature in a sortable table linked to its place on the map."""
    rows = []
    for name, gdf in layers.items():
        for rec in gdf.drop(columns="geometry").to_dict("records"):
            cells = []
            for key, _ in _TABLE_COLUMNS:
                value = rec.get(key)
                if key == "layer":
                    value = LAYERS[name].title
                if key == "capacity" and value is not None:
                    value = f"{_fmt(value)} {rec.get('capacity_unit') or ''}".strip()
                if key == "sources":
                    value = len(value or [])
                text = escape(_fmt(value, integer=key.endswith("year")))
                sort = escape(str(value)) if isinstance(value, int | float) else text
                if key == "name":
                    href = f"{map_page}#id={escape(rec['id'])}"
                    text = f'<a href="{href}">{text}</a>'
                cells.append(f'<td data-sort="{sort}">{text}</td>')
            rows.append(f'<tr data-id="{escape(rec["id"])}">{"".join(cells)}</tr>')
    head = "".join(f'<th data-col="{i}" tabindex="0">{escape(label)}</th>'
                   for i, (_, label) in enumerate(_TABLE_COLUMNS))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>ccamap — table of every feature</title>"
        f"<style>{_asset('table.css')}</style></head><body>"
        f'<h1>ccamap: every feature</h1><p><a href="{map_page}">Back to the map</a> · '
        "click a column heading to sort</p>"
        f'<main><table id="ccamap-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></main>"
        "<footer><p>Data: CC BY 4.0, ccamap contributors; facts © the cited sources. "
        "Code: MIT.</p></footer>"
        f"<script>{_asset('table.js')}</script></body></html>\n"
    )
