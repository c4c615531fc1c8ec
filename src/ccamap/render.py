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
    status = escape(record.get("status"))
    if record.get("status_year"):
        status += f" ({escape(_fmt(record['status_year'], integer=True))})"
    rows = []
    for f in layer.all_fields:
        if f.name in _CARD_SKIP:
            continue
        value = _fmt(record.get(f.name), integer=f.kind == "int")
        shown = escape(value) if value else f'<span class="ccamap-missing">{_MISSING}</span>'
        if f.name == "capacity" and value and record.get("capacity_unit"):
            shown += " " + escape(record["capacity_unit"])
        if f.name == "capacity_unit":
            continue
        if f.name == "route_error_km" and value:
            shown = f"drawing within ~{escape(value)} km of the real route"
        if f.name == "geometry_precision" and value in precision_text:
            shown += f' <span class="ccamap-hint">({escape(precision_text[value])})</span>'
        rows.append(f"<tr><th>{escape(f.title)}</th><td>{shown}{refs(f.name)}"
                    f"{also(f.name)}</td></tr>")
    internal = {*layer.columns, "waypoints", "coordinate_sources", "layer", "length_km"}
    for key in (k for k in record if k not in internal and k != "geometry"):
        value = _fmt(record.get(key))
        shown = escape(value) if value else f'<span class="ccamap-missing">{_MISSING}</span>'
        rows.append(f"<tr><th>{escape(key)}</th><td>{shown}</td></tr>")
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
    uncertainty halo. Points placed at a locality (site unknown) are hollow: a white fill with
    the coloured outline, marked ``hollow`` for the KML and QGIS styles.
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
    elif record.get("geometry_precision") == "locality":  # site unknown: a hollow symbol
        style.update(radius=point_radius(record, layer), weight=2.5, fillColor="#ffffff",
                     fillOpacity=1.0, hollow=True)
    else:
        style.update(radius=point_radius(record, layer), weight=1.5, fillColor=color,
                     fillOpacity=0.55 * float(status["opacity"] or 1))
    return style


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
    """folium's Map, rendered without re-compiling its output."""


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
            {{ this.data|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(name="Country outlines (offline)", overlay=False, control=True,
                         show=True)
        self._name = "CcamapOutlines"
        self.data = data


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


def layer_geojson(gdf: gpd.GeoDataFrame, layer: Layer, sources: pd.DataFrame) -> dict[str, Any]:
    """Return a layer as the GeoJSON the map runtime draws: styles, tooltip and card per feature."""
    features = []
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
    parts = ['<details class="ccamap-legend" open><summary>Legend</summary>']
    statuses_used: set[str] = set()
    for name, gdf in layers.items():
        layer = LAYERS[name]
        parts.append(f'<div class="ccamap-legend-layer"><i>{escape(layer.title)}</i>')
        records = gdf.drop(columns="geometry").to_dict("records")
        statuses_used.update(r["status"] for r in records if r.get("status"))
        keys = sorted({k for r in records if (k := category_key(r, layer))})
        swatches = [(k, layer.category_colors.get(k, layer.color)) for k in keys] or [
            ("", layer.color)]
        for label, color in swatches:
            shape = "line" if layer.is_line else "dot"
            text = escape(label.replace("_", " ").replace(";", " + ")) if label else ""
            parts.append(f'<div><span class="ccamap-sw ccamap-sw-{shape}" '
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
    parts.append('<div class="ccamap-legend-layer"><i>Status</i>')
    for status in (s for s in STATUS_STYLE if s in statuses_used):
        style = STATUS_STYLE[status]
        dash = f"stroke-dasharray:{style['dash']}" if style["dash"] else ""
        color = str(style["color"] or "#333")
        parts.append(
            f'<div><svg width="34" height="8"><line x1="0" y1="4" x2="34" y2="4" '
            f'stroke="{escape(color)}" stroke-width="3" style="{escape(dash)}" '
            f'opacity="{style["opacity"]}"/></svg> {escape(status)}</div>'
        )
    parts.append("</div></details>")
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


def _runtime_config(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    records = [r for gdf in layers.values() for r in gdf.drop(columns="geometry")
               .to_dict("records")]
    codes = {c for r in records for c in (r.get("countries") or [])}
    statuses = [s for s in STATUSES if any(r.get("status") == s for r in records)]
    years = [y for r in records if (y := first_year(r)) is not None]
    last = max([*years, *(int(r["status_year"]) for r in records if r.get("status_year"))],
               default=None)
    return {
        "countries": country_names(codes),
        "statuses": statuses,
        "years": [min(years), last] if years else [None, None],
        "layers": {name: LAYERS[name].title for name in layers},
    }


def outlines_for_display(boundaries: gpd.GeoDataFrame, tolerance: float = 0.05) -> dict[str, Any]:
    """Simplify country outlines for the basemap (shared borders stay shared)."""
    geoms = shapely.coverage_simplify(boundaries.geometry.values, tolerance)
    geoms = shapely.set_precision(geoms, tolerance / 5)
    out = gpd.GeoDataFrame({"iso3": boundaries["iso3"].to_numpy()}, geometry=geoms,
                           crs="EPSG:4326")
    out = out[~out.geometry.is_empty]
    return json.loads(out.to_json(drop_id=True))


def render_map(
    layers: dict[str, gpd.GeoDataFrame],
    sources: pd.DataFrame,
    *,
    title: str = "ccamap",
    offline: bool = False,
    outlines: dict[str, Any] | None = None,
    prepared: dict[str, dict[str, Any]] | None = None,
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
        Inline Leaflet from installed packages instead of linking the CDN.
    outlines
        A GeoJSON FeatureCollection of country outlines for the vector basemap (see
        :func:`outlines_for_display`); without it, only online tile layers are offered.
    prepared
        :func:`layer_geojson` of some layers, already computed (a build draws each layer on two
        maps and prepares it once).

    Returns
    -------
    folium.Map
        With one toggleable layer per entry, a legend, tooltips, popup cards, filters by
        status, country and year, search, scale bar, full screen, mini-map and measuring.
    """
    m = _Map(location=None, zoom_start=4, tiles=None, control_scale=True)
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    assert isinstance(root, branca.element.Figure)
    js, css = leaflet_assets(offline=offline)
    root.header.add_child(_Raw(f"<title>{escape(title)}</title>"), name="title")
    root.header.add_child(_Raw(css), name="leaflet_css")
    root.header.add_child(_Raw(js), name="leaflet_js")
    root.header.add_child(_Raw(f"<style>{_asset('ccamap.css')}</style>"), name="ccamap_css")
    root.header.add_child(_Raw(f"<script>{_asset('ccamap.js')}</script>"), name="ccamap_js")
    if outlines is not None:
        _Outlines(outlines).add_to(m)
    _TileLayer("OpenStreetMap", name="OpenStreetMap (online)", control=True,
                     show=outlines is None).add_to(m)
    _TileLayer(
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        attr="&copy; OpenStreetMap contributors &copy; CARTO", name="CARTO Light (online)",
        control=True, show=False, subdomains="abcd",
    ).add_to(m)
    bounds: list[float] | None = None
    for name, gdf in layers.items():
        layer = LAYERS[name]
        data = (prepared or {}).get(name) or layer_geojson(gdf, layer, sources)
        _DataLayer(name, layer.title, data).add_to(m)
        if len(gdf):
            b = [float(v) for v in gdf.total_bounds]
            bounds = b if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]),
                                               max(bounds[2], b[2]), max(bounds[3], b[3])]
    root.html.add_child(_Raw(_legend_html(layers)), name="ccamap_legend")
    _LayerControl(collapsed=True).add_to(m)
    if bounds is not None:
        m.add_child(_FitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]]))
    _Runtime(_runtime_config(layers)).add_to(m)
    return m


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
        "<title>ccamap — table of every feature</title>"
        f"<style>{_asset('table.css')}</style></head><body>"
        f'<h1>ccamap: every feature</h1><p><a href="{map_page}">Back to the map</a> · '
        "click a column heading to sort</p>"
        f'<table id="ccamap-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<script>{_asset('table.js')}</script></body></html>\n"
    )
