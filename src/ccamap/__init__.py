"""ccamap: the open, reproducible map of China–Central Asia cooperation infrastructure.

A small API for notebooks and scripts::

    import ccamap
    gdf = ccamap.load_layer("pipelines")          # joined GeoDataFrame
    m = ccamap.render_map({"pipelines": gdf}, ccamap.load().sources)   # folium.Map
"""

from __future__ import annotations

from ccamap.errors import CcamapError, ExportError, LoadError, UsageError, ValidationError
from ccamap.layers import LAYERS, get_layer, layer_names
from ccamap.pipeline import build, export, load, load_layer
from ccamap.render import render_map
from ccamap.report import Problem, Report
from ccamap.validate import validate

__all__ = [
    "LAYERS",
    "CcamapError",
    "ExportError",
    "LoadError",
    "Problem",
    "Report",
    "UsageError",
    "ValidationError",
    "build",
    "export",
    "get_layer",
    "layer_names",
    "load",
    "load_layer",
    "render_map",
    "validate",
]

__version__ = "0.1.0"
