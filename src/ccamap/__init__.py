"""ccamap: the open, reproducible map of China–Central Asia cooperation infrastructure.

A small API for notebooks and scripts::

    import ccamap
    gdf = ccamap.load_layer("pipelines")          # joined GeoDataFrame
    m = ccamap.render_map({"pipelines": gdf}, ccamap.load().sources)   # folium.Map
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ccamap.errors import CcamapError, ExportError, LoadError, UsageError, ValidationError
from ccamap.layers import LAYERS, get_layer, layer_names
from ccamap.report import Problem, Report
from ccamap.validate import validate

if TYPE_CHECKING:
    from ccamap.pipeline import build, export, load, load_layer
    from ccamap.render import render_map

#: Names loaded on first use, so that ``ccamap validate`` (and any script that only validates)
#: does not import folium and the rendering stack (PEP 562). ``validate`` is bound eagerly: it
#: shares its name with the ``ccamap.validate`` package.
_LAZY = {
    "build": "ccamap.pipeline",
    "export": "ccamap.pipeline",
    "load": "ccamap.pipeline",
    "load_layer": "ccamap.pipeline",
    "render_map": "ccamap.render",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ccamap' has no attribute {name!r}")


class _Package(types.ModuleType):
    """The ``ccamap`` module, whose API functions keep their names against same-named packages.

    Importing the package ``ccamap.export`` makes Python set the attribute ``ccamap.export`` to
    that module; the API's ``ccamap.export`` is the function :func:`ccamap.pipeline.export`, so
    such a module is not bound over a lazy name (``import ccamap.export`` and ``from
    ccamap.export import ...`` still find the package in :data:`sys.modules`).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
