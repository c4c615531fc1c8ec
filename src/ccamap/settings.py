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

#: Spatial checks (``ccamap.spatial``). The boundaries file, inside the geodata directory.
BOUNDARIES_FILE: str = "boundaries.geojson"

#: Longest single stretch (km) a line may run through a country it does not declare
#: (schematic lines cut corners between their waypoints, e.g. along a border river).
LINE_COUNTRY_TOLERANCE_KM: float = 20.0

#: How far (km) a line's first or last vertex may lie outside its first or last country.
LINE_ENDPOINT_TOLERANCE_KM: float = 5.0

#: How far (km) a point may lie outside the country it declares (``approximate`` precision is
#: about 5 km; the outlines are simplified by about 0.5 km).
POINT_COUNTRY_TOLERANCE_KM: float = 5.0

#: How far (km) a border port may lie from the border between its two countries.
BORDER_PORT_DISTANCE_KM: float = 10.0

#: How far (km) from a railway's border crossing a rail border port must lie.
RAIL_CROSSING_PORT_KM: float = 15.0

# Ceilings on input. Each is checked before any expensive work, and going over one is an error
# that names the file, the ceiling (by its setting) and the value found. Raise them here for
# larger data; they exist so that no input can make ccamap hang or exhaust memory.

#: Largest geodata file (bytes) that is read at all.
MAX_FILE_BYTES: int = 1024**3

#: Longest text (characters) in one CSV cell or one GeoJSON string (names, descriptions…).
MAX_FIELD_CHARS: int = 100_000

#: Most columns an attribute table may have.
MAX_COLUMNS: int = 500

#: Most features in one GeoJSON file, and most rows in one attribute table.
MAX_FEATURES: int = 1_000_000

#: Most vertices in one feature's geometry.
MAX_VERTICES: int = 200_000

#: Deepest nesting of JSON arrays and objects in a feature's properties (geometry coordinates are
#: checked by their own rules).
MAX_NESTING: int = 16

#: Export formats (``ccamap export --format``) and the file suffix of each.
EXPORT_FORMATS: dict[str, str] = {
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "kml": ".kml",
    "csv": ".csv",
    "parquet": ".parquet",
    "fgb": ".fgb",
}

#: Most layers a file given to ``ccamap import`` may hold (GDAL reopens a file for every layer it
#: reads, so a file of hundreds of layers would take minutes).
MAX_IMPORT_LAYERS: int = 100
