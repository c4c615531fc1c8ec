"""Rendering joined layers as map pages: compact page data, cards, styles, the page around them.

Modules: :mod:`~ccamap.render.elements` (escaping, reproducible ids, macros never compiled
again), :mod:`~ccamap.render.cards` (the card of a feature), :mod:`~ccamap.render.geometry`
(compact coordinates and level of detail), :mod:`~ccamap.render.pagedata` (a layer's data on a
page), :mod:`~ccamap.render.chrome` (header, dialogs, legend, runtime settings) and
:mod:`~ccamap.render.maps` (the Folium maps and the table). The styles are
:mod:`ccamap.style`'s.
"""

from ccamap.render.cards import card_html, country_names
from ccamap.render.elements import (
    _SafeMacro,
    deterministic_ids,
    escape,
    leaflet_assets,
    unsafe_elements,
)
from ccamap.render.geometry import Band, lod_bands, lod_error_px
from ccamap.render.maps import (
    PreparedBasemap,
    PreparedLayer,
    outlines_for_display,
    outlines_frame,
    prepare_basemap,
    prepare_layer,
    render_map,
    render_table,
)
from ccamap.render.pagedata import (
    attribute_records,
    first_year,
    km_by_country,
    layer_geojson,
    shared_records,
)
from ccamap.style import category_key, feature_style, point_radius

__all__ = [
    "Band",
    "PreparedBasemap",
    "PreparedLayer",
    "_SafeMacro",
    "attribute_records",
    "card_html",
    "category_key",
    "country_names",
    "deterministic_ids",
    "escape",
    "feature_style",
    "first_year",
    "km_by_country",
    "layer_geojson",
    "leaflet_assets",
    "lod_bands",
    "lod_error_px",
    "outlines_for_display",
    "outlines_frame",
    "point_radius",
    "prepare_basemap",
    "prepare_layer",
    "render_map",
    "render_table",
    "shared_records",
    "unsafe_elements",
]
