"""Shared fixtures: a tiny, valid geodata directory built in code."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from ccamap.layers import LAYERS
from ccamap.validate import SOURCE_COLUMNS

from _browser import (  # noqa: F401  (the shared browser fixtures)
    browser,
    bundled_data,
    bundled_site,
    index,
)

REPO = Path(__file__).resolve().parents[1]

SOURCES = [
    {"id": "seed-001", "title": "Championing the China-Central Asia Spirit",
     "publisher": "Xinhua Institute", "date": "2025", "url": "", "kind": "seed"},
    {"id": "geonames", "title": "GeoNames", "publisher": "GeoNames", "date": "2026",
     "url": "https://www.geonames.org/", "kind": "dataset"},
    {"id": "web-a", "title": "A page", "publisher": "Someone", "date": "2024",
     "url": "https://example.org/a", "kind": "web"},
]


def record(layer: str, fid: str, **values: Any) -> dict[str, str]:
    """An attribute row with every required field filled, overridden by ``values``."""
    row = {c: "" for c in LAYERS[layer].columns}
    row.update(id=fid, name=f"Name of {fid}", countries="CHN;KAZ", status="operating",
               status_year="2025", description="A test record.", sources="seed-001",
               field_sources="status=seed-001; status_year=seed-001")
    row["geometry_precision"] = "schematic" if LAYERS[layer].is_line else "approximate"
    extra = {"pipelines": {"substance": "gas"},
             "power_plants": {"technology": "wind"},
             "border_ports": {"country_a": "CHN", "country_b": "KAZ", "modes": "road"},
             "sites": {"kind": "logistics_hub"}}.get(layer, {})
    if LAYERS[layer].is_line:
        extra = {**extra, "route_error_km": "10"}
    for key, value in extra.items():
        row[key] = value
    if extra:
        row["field_sources"] += "; " + "; ".join(
            f"{k}=seed-001" for k in extra if LAYERS[layer].field(k).factual)
    row.update({k: str(v) for k, v in values.items()})
    return row


def feature(fid: Any, geometry: Any, **props: Any) -> dict[str, Any]:
    """A GeoJSON feature whose waypoints match its vertices."""
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    n = _count(coords) if coords is not None else 0
    properties: dict[str, Any] = {"id": fid, "waypoints": [f"P{i}" for i in range(n)],
                                  "coordinate_sources": ["geonames:1"] * n}
    properties.update(props)
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _count(coords: Any) -> int:
    if isinstance(coords, list) and coords and isinstance(coords[0], list):
        return sum(_count(c) for c in coords)
    return 1


LINE = {"type": "LineString", "coordinates": [[80.0, 44.0], [79.0, 43.5], [77.0, 43.2]]}
POINT = {"type": "Point", "coordinates": [80.3, 44.2]}


def write_layer(root: Path, layer: str, features: list[dict[str, Any]],
                rows: list[dict[str, str]]) -> None:
    (root / f"{layer}.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    extras = [k for row in rows for k in row if k not in LAYERS[layer].columns]
    write_csv(root / f"{layer}.csv", rows, LAYERS[layer].columns + list(dict.fromkeys(extras)))


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def geodata(tmp_path: Path) -> Path:
    """A valid geodata directory: one feature per layer."""
    root = tmp_path / "geodata"
    root.mkdir()
    write_csv(root / "sources.csv", SOURCES, list(SOURCE_COLUMNS))
    for name, layer in LAYERS.items():
        geom = LINE if layer.is_line else POINT
        fid = f"{name.split('_')[0][:4]}-one"
        write_layer(root, name, [feature(fid, geom)], [record(name, fid)])
    return root
