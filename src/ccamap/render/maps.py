"""Rendering joined layers as Folium maps (the overview and one page per layer) and the table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import branca.element
import folium
import geopandas as gpd
import pandas as pd
import shapely
import xyzservices
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps

from ccamap.basemap import country_labels, places_for_display
from ccamap.layers import LAYERS, Layer
from ccamap.render.cards import format_value
from ccamap.render.chrome import chrome_html, legend_html, runtime_config
from ccamap.render.elements import (
    _FIGURE_TEMPLATE,
    _FitBounds,
    _LayerControl,
    _Map,
    _Raw,
    _SafeMacro,
    _TileLayer,
    asset,
    escape,
    leaflet_assets,
    runtime,
)
from ccamap.render.packing import Packed, pack
from ccamap.render.pagedata import attribute_records, cited_sources, layer_geojson

__all__ = ["PreparedBasemap", "PreparedLayer", "outlines_for_display", "outlines_frame",
           "page_json", "prepare_basemap", "prepare_layer", "render_map", "render_table"]


def page_json(data: Any) -> str:
    r"""Return ``data`` as compact JSON that is safe inside a ``<script>`` element.

    ``<``, ``>``, ``&`` and ``'`` are written as ``\u`` escapes (as Jinja's ``tojson`` does),
    so no value can close the script or open a comment; the text is inserted by a macro, never
    compiled as a template (:class:`ccamap.render.elements._SafeMacro`).
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029"))


@dataclass(frozen=True)
class PreparedLayer:
    """A layer's page data serialised once, for every page that draws it.

    :func:`page_json` of :func:`layer_geojson`, or :func:`ccamap.render.packing.pack` for a
    canvas layer.

    A build draws each layer on two pages; keeping the text, not the nested lists it came
    from, encodes it once and holds a fraction of the memory.
    """

    json_text: str
    #: The ids of the sources its cards cite.
    cited: frozenset[str]
    #: Lines drawn on the shared canvas (a page with any starts its drawing helper early).
    canvas_lines: bool = False
    #: What completes a packed layer's lines (:class:`ccamap.render.packing.Packed`), given
    #: by a script after the map's.
    rest: str | None = None


def prepare_layer(gdf: gpd.GeoDataFrame, layer: Layer, sources: pd.DataFrame, *,
                  countries: gpd.GeoDataFrame | None = None) -> PreparedLayer:
    """Return a layer's page data as :class:`PreparedLayer`."""
    data = layer_geojson(gdf, layer, sources, countries=countries)
    packed = pack(data) if data["canvas"] else Packed(page_json(data))
    return PreparedLayer(packed.text, frozenset(cited_sources(data)),
                         canvas_lines=bool(data["canvas"]) and data["kind"] == "line",
                         rest=packed.rest)


class _DataLayer(folium.map.Layer, _SafeMacro):
    """One ccamap layer: page data (:func:`layer_geojson`), drawn by the map runtime."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = ccamap.addLayer({{ this._parent.get_name() }},
            {{ this.key|tojson }}, {{ this.json_text }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, title: str, json_text: str, *, show: bool = True) -> None:
        super().__init__(name=escape(title), overlay=True, control=True, show=show)
        self._name = "CcamapLayer"
        self.key = key
        self.json_text = json_text

@dataclass(frozen=True)
class PreparedBasemap:
    """The offline basemap serialised once, for every page that draws it.

    The country outlines, and the rest of the basemap (water, towns, country labels), as Jinja's
    ``tojson`` writes them (sorted keys, ``<``, ``>``, ``&`` and ``'`` escaped). A build draws
    the same basemap on every page: encoding it once saves most of a page's serialising.
    """

    outlines_json: str
    extra_json: str


def _tojson(value: Any) -> str:
    """Return ``value`` exactly as ``{{ value|tojson }}`` writes it in :class:`_Outlines`."""
    policies = _Outlines._template.environment.policies
    return str(htmlsafe_json_dumps(value, dumps=policies["json.dumps_function"],
                                   **policies["json.dumps_kwargs"]))


def prepare_basemap(outlines: dict[str, Any], basemap: dict[str, Any] | None = None
                    ) -> PreparedBasemap:
    """Return the basemap of :func:`render_map` as :class:`PreparedBasemap`.

    Towns (GeoNames) and country labels are added unless ``basemap`` already holds them
    (``"places"``, ``"countries"``).
    """
    extra = dict(basemap or {})
    if "places" not in extra:
        extra["places"] = places_for_display()
    if "countries" not in extra:
        extra["countries"] = country_labels(outlines)
    return PreparedBasemap(_tojson(outlines), _tojson(extra))


class _Outlines(folium.map.Layer, _SafeMacro):
    """The offline vector basemap: country outlines from Natural Earth."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = ccamap.addOutlines({{ this._parent.get_name() }},
            {{ this.basemap.outlines_json }}, {{ this.basemap.extra_json }});
        {% endmacro %}
        """
    )

    def __init__(self, basemap: PreparedBasemap) -> None:
        super().__init__(name="Country outlines (offline)", overlay=False, control=True,
                         show=True)
        self._name = "CcamapOutlines"
        self.basemap = basemap


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



#: The online tile layers, given to folium as providers: given a name or a URL, folium searches
#: every provider xyzservices knows for it (3 ms a layer, on every page). The OpenStreetMap
#: provider is the one folium finds for "OpenStreetMap"; CARTO Light is our own URL.
_OSM_TILES = xyzservices.providers.OpenStreetMap.Mapnik
_CARTO_TILES = xyzservices.TileProvider(
    name="CARTO Light", url="https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
    attribution="(C) OpenStreetMap contributors (C) CARTO")


def render_map(
    layers: dict[str, gpd.GeoDataFrame],
    sources: pd.DataFrame,
    *,
    title: str = "ccamap",
    offline: bool = True,
    cdn: bool = False,
    outlines: dict[str, Any] | None = None,
    basemap: dict[str, Any] | None = None,
    prepared: dict[str, PreparedLayer] | None = None,
    prepared_basemap: PreparedBasemap | None = None,
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
        towns (GeoNames) and country labels are added whenever ``outlines`` are given, unless
        it already holds them (``"places"``, ``"countries"``: a build computes them once).
    prepared
        :func:`prepare_layer` of some layers, already computed (a build draws each layer on two
        maps and prepares it once).
    prepared_basemap
        :func:`prepare_basemap` of ``outlines`` and ``basemap``, already computed (a build
        draws the same basemap on every page and serialises it once); used instead of them.
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
    root.header.add_child(_Raw(f"<style>{asset('ccamap.css')}</style>"), name="ccamap_css")
    root.header.add_child(_Raw(f"<script>{runtime()}</script>"), name="ccamap_js")
    root.html.add_child(_Raw(chrome_html(title, sources, site=site)), name="ccamap_chrome")
    bounds = _total_bounds(layers)
    if bounds is not None:  # the view first, so the basemap is not projected twice
        fit = _FitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
        fit.options["animate"] = False  # done before a link's view or card is restored
        m.add_child(fit)
    if outlines is not None:
        _Outlines(prepared_basemap or prepare_basemap(outlines, basemap)).add_to(m)
    _TileLayer(_OSM_TILES, name="OpenStreetMap (online)", control=True,
               show=outlines is None).add_to(m)
    _TileLayer(_CARTO_TILES, attr="&copy; OpenStreetMap contributors &copy; CARTO",
               name="CARTO Light (online)", control=True, show=False, subdomains="abcd",
               ).add_to(m)
    countries = None
    cited: set[str] = set()
    helper = False
    tail: list[str] = []
    for name, gdf in layers.items():
        layer = LAYERS[name]
        ready = (prepared or {}).get(name)
        if ready is None:
            if countries is None:
                countries = outlines_frame(outlines)
            ready = prepare_layer(gdf, layer, sources, countries=countries)
        cited |= ready.cited
        helper = helper or ready.canvas_lines
        if ready.rest is not None:  # read once the map has drawn from the first part
            tail.append(f'<script type="application/x-ccamap-rest" id="ccamap-rest-{escape(name)}">'
                        f"{ready.rest}</script>\n<script>ccamap.addRest({json.dumps(name)});</script>")
        _DataLayer(name, layer.title, ready.json_text).add_to(m)
    if helper:  # its worker starts while the page's data loads (it waits on this thread)
        root.header.add_child(_Raw("<script>ccamap.startHelper();</script>"), name="ccamap_helper")
    root.html.add_child(_Raw(legend_html(layers)), name="ccamap_legend")
    _LayerControl(collapsed=True).add_to(m)
    _Runtime(runtime_config(layers, sources, cited)).add_to(m)
    root.ccamap_tail = "\n".join(tail)  # type: ignore[attr-defined]
    return m


def _total_bounds(layers: dict[str, gpd.GeoDataFrame]) -> list[float] | None:
    """Return ``[minx, miny, maxx, maxy]`` of every feature of the layers, or None if none."""
    boxes = [[float(v) for v in gdf.total_bounds] for gdf in layers.values() if len(gdf)]
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes)]


def outlines_for_display(boundaries: gpd.GeoDataFrame, tolerance: float = 0.05) -> dict[str, Any]:
    """Simplify country outlines for the basemap (shared borders stay shared)."""
    geoms = shapely.coverage_simplify(boundaries.geometry.values, tolerance)
    geoms = shapely.set_precision(geoms, tolerance / 5)
    features = [{"type": "Feature", "properties": {"iso3": code}, "geometry": _geojson(geom)}
                for code, geom in zip(boundaries["iso3"].to_numpy(), geoms, strict=True)
                if geom is not None and not geom.is_empty]
    return {"type": "FeatureCollection", "features": features}


def _geojson(geom: shapely.Geometry) -> dict[str, Any]:
    """Return the GeoJSON of ``geom`` as ``json.loads(gdf.to_json())`` gives it: lists, floats.

    Polygons are read ring by ring as arrays (shapely's ``mapping`` walks every coordinate in
    Python: most of the outlines' cost); any other geometry goes through ``mapping``.
    """
    if isinstance(geom, shapely.Polygon):
        return {"type": "Polygon", "coordinates": _rings(geom)}
    if isinstance(geom, shapely.MultiPolygon):
        return {"type": "MultiPolygon", "coordinates": [_rings(p) for p in geom.geoms]}
    value: dict[str, Any] = json.loads(json.dumps(shapely.geometry.mapping(geom)))
    return value


def _rings(polygon: shapely.Polygon) -> list[list[list[float]]]:
    rings: list[list[list[float]]] = [shapely.get_coordinates(r).tolist()
                                      for r in (polygon.exterior, *polygon.interiors)]
    return rings


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
        for rec in attribute_records(gdf):
            cells = []
            for key, _ in _TABLE_COLUMNS:
                value = rec.get(key)
                if key == "layer":
                    value = LAYERS[name].title
                if key == "capacity" and value is not None:
                    value = f"{format_value(value)} {rec.get('capacity_unit') or ''}".strip()
                if key == "sources":
                    value = len(value or [])
                text = escape(format_value(value, integer=key.endswith("year")))
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
        f"<style>{asset('table.css')}</style></head><body>"
        f'<h1>ccamap: every feature</h1><p><a href="{map_page}">Back to the map</a> · '
        "click a column heading to sort</p>"
        f'<main><table id="ccamap-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></main>"
        "<footer><p>Data: CC BY 4.0, ccamap contributors; facts © the cited sources. "
        "Code: MIT.</p></footer>"
        f"<script>{asset('table.js')}</script></body></html>\n"
    )
