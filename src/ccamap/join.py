"""Joining geometries to their attributes, with computed fields."""

from __future__ import annotations

import geopandas as gpd

from ccamap.geo import geodesic_length_km
from ccamap.report import Report
from ccamap.validate.inputs import LayerInput

__all__ = ["geodesic_length_km", "join_layer"]


def join_layer(inp: LayerInput, report: Report | None = None) -> gpd.GeoDataFrame:
    """Join one layer's geometries to its attributes, one to one, and add computed fields.

    Parameters
    ----------
    inp
        The checked input of one layer.
    report
        Unused; kept for callers that pass the validation report (validation records length
        disagreements itself).

    Returns
    -------
    geopandas.GeoDataFrame
        The registry's columns in order, then any other columns of the attribute table (kept
        as text, unchanged), ``waypoints``, ``coordinate_sources``, ``layer`` and (for lines)
        ``length_km``; geometry last. Only ids present on both sides are kept
        (validation reports the others).
    """
    layer = inp.layer
    extras = [str(c) for c in inp.attributes.columns if c not in layer.columns]
    attributes = inp.attributes.reindex(columns=[*layer.columns, *extras])
    attributes = attributes.astype(object).where(attributes.notna(), None)
    merged = inp.geometries.merge(attributes, on="id", how="inner", validate="one_to_one")
    gdf = gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")
    gdf["layer"] = layer.name
    if layer.is_line:
        gdf["length_km"] = geodesic_length_km(gdf.geometry)
    order = [*layer.columns, *extras, "waypoints", "coordinate_sources", "layer"]
    if layer.is_line:
        order.append("length_km")
    gdf = gdf[[*order, "geometry"]]
    return gdf.sort_values("id", kind="stable").reset_index(drop=True)
