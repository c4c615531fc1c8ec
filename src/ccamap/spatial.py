"""Former home of the spatial checks and country outlines, kept so that old imports still work.

The outlines are in :mod:`ccamap.boundaries`, distances in :mod:`ccamap.geo` and the checks in
:mod:`ccamap.validate.spatial`.
"""

from __future__ import annotations

from ccamap.boundaries import Boundaries, Visit, country_visits, load_boundaries
from ccamap.geo import distance_km
from ccamap.validate.spatial import _crossings, check_spatial

__all__ = [
    "Boundaries",
    "Visit",
    "_crossings",
    "check_spatial",
    "country_visits",
    "distance_km",
    "load_boundaries",
]
