"""Named settings, read when a function runs, never at import.

Change them from code (``ccamap.settings.REGION_BBOX = ...``) before calling the API.
"""

from __future__ import annotations

from pathlib import Path

#: The region every coordinate must lie in: (min lon, min lat, max lon, max lat), WGS84 degrees.
#: China, Central Asia and the corridors on to the Caspian, the Caucasus and Europe's edge.
REGION_BBOX: tuple[float, float, float, float] = (20.0, 20.0, 125.0, 56.0)

#: A reported length and the geodesic length may differ by this fraction before a warning.
LENGTH_TOLERANCE: float = 0.25

#: Earliest and latest year accepted in any year field.
YEAR_RANGE: tuple[int, int] = (1950, 2040)

#: Decimal places of coordinates in exports (RFC 7946 recommends 6, about 0.1 m).
COORDINATE_PRECISION: int = 6

#: Default data directory (the repository's ``geodata/``), resolved from the working directory.
GEODATA_DIR: Path = Path("geodata")

#: Default output directory for maps.
MAPS_DIR: Path = Path("maps")

#: Default output directory for exports (inside the maps directory, also build output).
EXPORT_DIR: Path = Path("maps") / "export"
